/* test_simd_build.c: the build of libfolio.so a C host gets runs the widest kernels this CPU has. The library is
 * published twice (scripts/publish-libfolio.sh): an x86-64-v3 build (256-bit AVX2 kernels) and, in
 * glibc-hwcaps/x86-64-v4/ beside it, an AVX-512 build, which glibc's loader picks where the CPU runs it. The engine's
 * "engine created" log line names the MatMul kernels its weights took; on a CPU with x86-64-v4's AVX-512 they must
 * be the 512-bit ones (Vector512), elsewhere the 256-bit ones. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folio.h"

static char g_created[4096];

static void on_log(int32_t level, const char* message, uint64_t len, void* user_data) {
    (void)level;
    (void)user_data;
    if (len < sizeof g_created && strstr(message, "engine created") != NULL) {
        memcpy(g_created, message, len);
        g_created[len] = '\0';
    }
}

/* x86-64-v4's AVX-512 subsets (GCC and Clang check the OS's register state too). */
static int cpu_has_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

int main(void) {
    folio_engine_params p;
    p.struct_size = sizeof p;
    EXPECT(folio_engine_params_init(&p), FOLIO_STATUS_OK);
    p.model = "builtin:tiny";
    p.model_len = strlen(p.model);
    p.num_threads = 1;
    p.log_level = FOLIO_LOG_INFO;
    p.log_callback = on_log;
    folio_engine* e = NULL;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    printf("%s\n", g_created);
    EXPECT_TRUE(strstr(g_created, "on cpu") != NULL);
    if (cpu_has_avx512())
        EXPECT_TRUE(strstr(g_created, "Vector512") != NULL && strstr(g_created, "Vector256") == NULL);
    else
        EXPECT_TRUE(strstr(g_created, "Vector256") != NULL && strstr(g_created, "Vector512") == NULL);
    folio_engine_destroy(e);
    return check_report("simd_build");
}
