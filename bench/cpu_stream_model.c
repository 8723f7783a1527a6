// cpu_stream_model.c: a C model of batch-1 decode's weight stream on this CPU, for the figures in bench/RESULTS.md
// ("Eighteenth session"). Two threads (OpenMP) read MB megabytes per pass; the variants run in turn within each round
// (their order rotated per round), so a VM whose memory bandwidth drifts over seconds meets every variant alike. Prints
// per variant the median pass and its median ratio to the first variant per round.
//
//   gcc -O2 -mavx512f -fopenmp bench/cpu_stream_model.c -o /tmp/cpu_stream_model
//   /tmp/cpu_stream_model pages MB ROUNDS   plain sum and the bf16 one-row tile on 4 KiB vs 2 MiB pages, aligned or 16 bytes off
//   /tmp/cpu_stream_model tiles MB ROUNDS   on 2 MiB pages: a plain sum, the bf16 1 x 64 tile (two 32-column panel streams
//                                           of k = 768 rows of 64 bytes, as HalfGemm's was), that tile with software
//                                           prefetch of each stream 32 / 64 / 96 / 128 rows ahead into L2, 64 into L1,
//                                           the 1 x 32 tile (one panel at a time: one sequential stream), and fp32's
//                                           former four-panel 1 x 64 tile (L1 prefetch 16 rows ahead) and 1 x 16
#define _GNU_SOURCE
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define K 768
#define MAX_ROUNDS 400

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

// Each thread sums its half: one sequential stream.
static float plain_sum(const char *base, size_t bytes) {
    float s = 0;
#pragma omp parallel num_threads(2) reduction(+ : s)
    {
        const float *p = (const float *)(base + omp_get_thread_num() * (bytes / 2));
        size_t n = bytes / 8;
        __m512 a = _mm512_setzero_ps(), b = a;
        for (size_t i = 0; i + 32 <= n; i += 32) {
            a = _mm512_add_ps(a, _mm512_loadu_ps(p + i));
            b = _mm512_add_ps(b, _mm512_loadu_ps(p + i + 16));
        }
        s += _mm512_reduce_add_ps(_mm512_add_ps(a, b));
    }
    return s;
}

// The bf16 one-row tile over panels of K rows x 64 bytes, two panels at a time: per row one load a panel, widened by a
// shift and a mask, two FMAs into per-column chains. ahead > 0: each stream hinted that many rows on (l2: into L2).
static float tile_1x64(const char *base, size_t bytes, int ahead, int l2) {
    size_t panel = (size_t)K * 64, panels = bytes / panel;
    float s = 0;
#pragma omp parallel num_threads(2) reduction(+ : s)
    {
        int t = omp_get_thread_num();
        __m512 x = _mm512_set1_ps(1.0f), a = _mm512_setzero_ps(), b = a, c = a, d = a;
        __m512i mask = _mm512_set1_epi32((int)0xffff0000);
        for (size_t p = t * (panels / 2); p + 1 < (t + 1) * (panels / 2); p += 2) {
            const char *w0 = base + p * panel, *w1 = w0 + panel;
            for (int i = 0; i < K; i++) {
                if (ahead) {
                    if (l2) { _mm_prefetch(w0 + (i + ahead) * 64, _MM_HINT_T1); _mm_prefetch(w1 + (i + ahead) * 64, _MM_HINT_T1); }
                    else { _mm_prefetch(w0 + (i + ahead) * 64, _MM_HINT_T0); _mm_prefetch(w1 + (i + ahead) * 64, _MM_HINT_T0); }
                }
                __m512i v0 = _mm512_loadu_si512(w0 + i * 64), v1 = _mm512_loadu_si512(w1 + i * 64);
                a = _mm512_fmadd_ps(x, _mm512_castsi512_ps(_mm512_slli_epi32(v0, 16)), a);
                b = _mm512_fmadd_ps(x, _mm512_castsi512_ps(_mm512_and_si512(v0, mask)), b);
                c = _mm512_fmadd_ps(x, _mm512_castsi512_ps(_mm512_slli_epi32(v1, 16)), c);
                d = _mm512_fmadd_ps(x, _mm512_castsi512_ps(_mm512_and_si512(v1, mask)), d);
            }
        }
        s += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
    }
    return s;
}

// The bf16 1 x 32 tile: one panel at a time, so a thread's panels (back to back) are one sequential stream.
static float tile_1x32(const char *base, size_t bytes, const float *x) {
    size_t panel = (size_t)K * 64, panels = bytes / panel;
    float s = 0;
#pragma omp parallel num_threads(2) reduction(+ : s)
    {
        int t = omp_get_thread_num();
        __m512 a = _mm512_setzero_ps(), b = a;
        __m512i mask = _mm512_set1_epi32((int)0xffff0000);
        for (size_t p = t * (panels / 2); p < (t + 1) * (panels / 2); p++) {
            const char *w = base + p * panel;
            for (int i = 0; i < K; i++) {
                __m512 xi = _mm512_set1_ps(x[i]);
                __m512i v = _mm512_loadu_si512(w + i * 64);
                a = _mm512_fmadd_ps(xi, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), a);
                b = _mm512_fmadd_ps(xi, _mm512_castsi512_ps(_mm512_and_si512(v, mask)), b);
            }
        }
        s += _mm512_reduce_add_ps(_mm512_add_ps(a, b));
    }
    return s;
}

// fp32's former one-row tile: four 16-column panels at a time, each stream hinted 16 rows ahead into L1.
static float f32_tile_1x64(const char *base, size_t bytes, const float *x) {
    size_t panel = (size_t)K * 64, panels = bytes / panel;
    float s = 0;
#pragma omp parallel num_threads(2) reduction(+ : s)
    {
        int t = omp_get_thread_num();
        __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
        for (size_t p = t * (panels / 2); p + 3 < (t + 1) * (panels / 2); p += 4) {
            const char *w0 = base + p * panel, *w1 = w0 + panel, *w2 = w1 + panel, *w3 = w2 + panel;
            for (int i = 0; i < K; i++) {
                _mm_prefetch(w0 + (i + 16) * 64, _MM_HINT_T0); _mm_prefetch(w1 + (i + 16) * 64, _MM_HINT_T0);
                _mm_prefetch(w2 + (i + 16) * 64, _MM_HINT_T0); _mm_prefetch(w3 + (i + 16) * 64, _MM_HINT_T0);
                __m512 xi = _mm512_set1_ps(x[i]);
                a = _mm512_fmadd_ps(xi, _mm512_loadu_ps((const float *)(w0 + i * 64)), a);
                b = _mm512_fmadd_ps(xi, _mm512_loadu_ps((const float *)(w1 + i * 64)), b);
                c = _mm512_fmadd_ps(xi, _mm512_loadu_ps((const float *)(w2 + i * 64)), c);
                d = _mm512_fmadd_ps(xi, _mm512_loadu_ps((const float *)(w3 + i * 64)), d);
            }
        }
        s += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
    }
    return s;
}

// fp32's one-row tile now: one 16-column panel at a time, one chain.
static float f32_tile_1x16(const char *base, size_t bytes, const float *x) {
    size_t panel = (size_t)K * 64, panels = bytes / panel;
    float s = 0;
#pragma omp parallel num_threads(2) reduction(+ : s)
    {
        int t = omp_get_thread_num();
        __m512 a = _mm512_setzero_ps();
        for (size_t p = t * (panels / 2); p < (t + 1) * (panels / 2); p++) {
            const char *w = base + p * panel;
            for (int i = 0; i < K; i++)
                a = _mm512_fmadd_ps(_mm512_set1_ps(x[i]), _mm512_loadu_ps((const float *)(w + i * 64)), a);
        }
        s += _mm512_reduce_add_ps(a);
    }
    return s;
}

static int by_value(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

static double median(double *v, int n) { qsort(v, n, sizeof *v, by_value); return v[n / 2]; }

// A mapping of bytes + 4 MiB, its first 2 MiB boundary returned; huge: MADV_HUGEPAGE, else MADV_NOHUGEPAGE. Touched.
static char *region(size_t bytes, int huge) {
    size_t len = bytes + (4u << 20);
    char *r = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) { perror("mmap"); exit(1); }
    madvise(r, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    memset(r, 1, len);
    return (char *)(((size_t)r + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1));
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s pages|tiles MB ROUNDS\n", argv[0]); return 2; }
    int pages = strcmp(argv[1], "pages") == 0;
    size_t bytes = (size_t)atoi(argv[2]) << 20;
    int rounds = atoi(argv[3]);
    if (rounds < 1 || rounds > MAX_ROUNDS) { fprintf(stderr, "ROUNDS: 1..%d\n", MAX_ROUNDS); return 2; }
    char *small = pages ? region(bytes, 0) : NULL, *huge = region(bytes, 1);
    const char *names_pages[] = {"sum 4K+16", "sum 2M+0", "sum 4K+0", "sum 2M+16", "tile 4K+16", "tile 2M+0", "tile 4K+0", "tile 2M+16"};
    const char *names_tiles[] = {"sum", "1x64", "1x64 L2 32", "1x64 L2 64", "1x64 L2 96", "1x64 L2 128", "1x64 L1 64", "1x32",
                                 "f32 1x64 L1 16", "f32 1x16"};
    int n = pages ? 8 : 10;
    float x[K];
    for (int i = 0; i < K; i++) x[i] = 1.0f + (float)i / K;
    static double t[10][MAX_ROUNDS];
    float sink = 0;
    for (int r = 0; r < rounds; r++)
        for (int j = 0; j < n; j++) {
            int v = (j + r) % n;
            double t0 = now();
            if (pages) {
                const char *base = (v % 4 == 0 || v % 4 == 2 ? small : huge) + (v % 4 == 0 || v % 4 == 3 ? 16 : 0);
                sink += v < 4 ? plain_sum(base, bytes) : tile_1x64(base, bytes, 0, 0);
            } else {
                static const int ahead[] = {0, 0, 32, 64, 96, 128, 64, 0};
                sink += v == 0   ? plain_sum(huge, bytes)
                        : v == 7 ? tile_1x32(huge, bytes, x)
                        : v == 8 ? f32_tile_1x64(huge, bytes, x)
                        : v == 9 ? f32_tile_1x16(huge, bytes, x)
                                 : tile_1x64(huge, bytes, ahead[v], v != 6);
            }
            t[v][r] = now() - t0;
        }
    for (int v = 0; v < n; v++) {
        int first = pages ? v / 4 * 4 : 0;   // each variant against the first of its group, round by round
        double m[MAX_ROUNDS], ratio[MAX_ROUNDS];
        for (int r = 0; r < rounds; r++) { m[r] = t[v][r]; ratio[r] = t[v][r] / t[first][r]; }
        double ms = median(m, rounds);
        printf("%-12s median %.2f ms (%.1f GB/s); / %s per round: median %.3f\n", (pages ? names_pages : names_tiles)[v], ms * 1e3,
               bytes / ms / 1e9, (pages ? names_pages : names_tiles)[first], median(ratio, rounds));
    }
    return sink == 12345.0f;   // keeps the sums live
}
