#!/usr/bin/env bash
# gpu_session.sh MODE [ARGS]: one call on the GPU machine (logs under $OUT, or /tmp/folio-gpu without it).
#   test   build libfolio_cuda.so (sm_90), run the header check and pytest tests/gpu
#   sweep  build decode variants (stages few:many:prefetch hint:split policy, SWEEP="3:3:0:0 ..."), run tests/gpu
#          on each and time each beside SDPA on a reduced grid (SWEEP_BATCHES, SWEEP_CTXS, SWEEP_ONLY)
#          (sweep.log; earlier sweeps of this mode: CTA shapes, split waves, warp pipelines, prefill
#          fragments, in bench/NOTES-kernels.md)
#   bench  run bench/kernels.py (B6 grid, prefill, block copy/swap) on the library already built
#   ncu    Nsight Compute sections of one decode launch at 8 x 8k and 256 x 8k (ncu.log)
#   ncucmp DRAM bytes, throughput and stall reasons of Folio's decode and of contiguous SDPA's kernels at the
#          same shapes (NCU_SHAPES, default 64:8192 and MHA 8:8192), one after the other (ncucmp.log)
#   probe  where the decode gap to contiguous SDPA comes from: block order (random vs sequential) and
#          block size (16, 64, 256) on a few shapes (probe.log)
#   MODE may join several with '+', e.g. test+sweep. ARGS go to bench/kernels.py.
set -uo pipefail
mode=${1:-test+bench}; shift || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source "$root/scripts/test-totals.sh"
out=${OUT:-/tmp/folio-gpu}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 PATH="$PATH:/usr/local/cuda/bin" PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
status=0
has() { [[ "+$mode+" == *"+$1+"* ]]; }
if has test; then
    { nvidia-smi; nvcc --version; python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'; } \
        > "$out/env.txt" 2>&1
    grep -E "NVIDIA H|release|torch" "$out/env.txt"
    t0=$SECONDS
    if ! scripts/build-cuda.sh -DCMAKE_CUDA_ARCHITECTURES=90 -DFOLIO_CUDA_RESOURCE_USAGE=ON > "$out/build.log" 2>&1; then
        echo "BUILD FAILED with -Werror; retrying with warnings allowed (see build.log)"
        grep -E "error|warning" "$out/build.log" | head -20
        scripts/build-cuda.sh -DFOLIO_CUDA_WERROR=OFF >> "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
        status=1
    fi
    echo "build: $((SECONDS - t0)) s"; grep -E "Used [0-9]+ registers|spill" "$out/build.log" | sort | uniq -c | head -30
    build/cuda/folio_cuda_header_check | tail -1 || status=1
    t0=$SECONDS
    python3 -m pytest tests/gpu -q -rfEs -p no:cacheprovider > "$out/pytest.log" 2>&1 || status=1
    echo "pytest: $((SECONDS - t0)) s"; tail -15 "$out/pytest.log"
    # Exit code 0 also means "everything skipped": report the counts, and fail when no test ran on the GPU.
    read -r gp gf gs < <(pytest_totals "$out/pytest.log") || { echo "GPU TESTS: pytest printed no summary"; status=1; }
    echo "GPU TESTS: ${gp:-0} passed, ${gf:-0} failed, ${gs:-0} skipped"
    pytest_ran_any "$out/pytest.log" || { echo "GPU TESTS: nothing ran on the GPU"; status=1; }
    # Out-of-bounds reads show only when each tensor is its own allocation: the empty-context decode tests under
    # compute-sanitizer with PyTorch's allocator cache off.
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 compute-sanitizer --tool memcheck --error-exitcode 3 python3 -m pytest \
        tests/gpu/test_paged_attention_decode.py -q -p no:cacheprovider -k "zero_width or short_and_empty" \
        > "$out/sanitizer.log" 2>&1 || status=1
    echo "memcheck: $(grep -E "ERROR SUMMARY" "$out/sanitizer.log" | tail -1) ($(grep -E "passed|failed" "$out/sanitizer.log" | tail -1))"
fi
if has sweep; then
    # Decode variants, "few:many:prefetch:model" = K/V stages per warp pipeline under two waves of CTAs and
    # from two waves on (3: 2 CTAs per SM; 2: 3 CTAs per SM), the cp.async L2 prefetch hint in bytes (0 = none)
    # and the split policy (1 = wave model, 0 = the old one-wave rule). SWEEP overrides the list. The
    # variants build in parallel (logs in /tmp); each then runs tests/gpu and is timed beside SDPA (re-timed
    # per variant, so every ratio is same-run). Few files go to $OUT: the device tool returns only a handful.
    variants=${SWEEP:-"3:3:0:0 3:2:128:1"}
    t0=$SECONDS
    for v in $variants; do
        IFS=: read -r few many pf model <<< "$v"
        tag=$few-$many-$pf-$model
        ( cmake -S . -B "build/cuda-sweep-$tag" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
            -DFOLIO_DECODE_STAGES="$few" -DFOLIO_DECODE_STAGES_MANY="$many" -DFOLIO_CP_ASYNC_L2_PREFETCH="$pf" \
            -DFOLIO_DECODE_SPLIT_MODEL="$model" > "/tmp/sweep-build-$tag.log" 2>&1 \
            && cmake --build "build/cuda-sweep-$tag" >> "/tmp/sweep-build-$tag.log" 2>&1 ) &
    done
    wait
    echo "sweep builds: $((SECONDS - t0)) s"
    for v in $variants; do
        IFS=: read -r few many pf model <<< "$v"
        tag=$few-$many-$pf-$model
        dir=build/cuda-sweep-$tag
        [[ -f $dir/libfolio_cuda.so ]] || { echo "variant $v failed to build"; tail -5 "/tmp/sweep-build-$tag.log"; status=1; continue; }
        echo "=== decode few:many:prefetch:model=$v" | tee -a "$out/sweep.log"
        FOLIO_CUDA_LIB=$dir/libfolio_cuda.so python3 -m pytest tests/gpu -q -rfE -p no:cacheprovider ${SWEEP_TESTS:+-k "$SWEEP_TESTS"} > "/tmp/pytest-$tag.log" 2>&1 \
            || { status=1; grep -E "^FAILED|Error" "/tmp/pytest-$tag.log" | head -5 | tee -a "$out/sweep.log"; }
        tail -1 "/tmp/pytest-$tag.log" | tee -a "$out/sweep.log"
        pytest_ran_any "/tmp/pytest-$tag.log" || { echo "variant $v: nothing ran on the GPU" | tee -a "$out/sweep.log"; status=1; }
        FOLIO_CUDA_LIB=$dir/libfolio_cuda.so python3 bench/kernels.py --only "${SWEEP_ONLY:-decode}" --baselines sdpa \
            --layouts "${SWEEP_LAYOUTS:-NHD}" --heads "${SWEEP_HEADS:-32:8,32:32}" --batches "${SWEEP_BATCHES:-8,64,256}" \
            --ctxs "${SWEEP_CTXS:-1024,8192}" --iters 20 > "$out/sweep-$tag.txt" 2>&1 || status=1
        grep -E "^\| 32|targets|^prefill" "$out/sweep-$tag.txt" >> "$out/sweep.log"
        grep -E "targets|^prefill" "$out/sweep-$tag.txt"
    done
fi
if has ncu; then
    # Occupancy, DRAM throughput and stall reasons of the decode kernel at a single-wave and a many-wave shape.
    ncu --kernel-name regex:paged_attention_decode --launch-skip 1 --launch-count 1 \
        --section SpeedOfLight --section Occupancy --section LaunchStats --section MemoryWorkloadAnalysis \
        --section WarpStateStats python3 bench/ncu_decode.py 8:8192 > "$out/ncu.log" 2>&1 || status=1
    ncu --kernel-name regex:paged_attention_decode --launch-skip 1 --launch-count 1 \
        --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
        python3 bench/ncu_decode.py 256:8192 >> "$out/ncu.log" 2>&1 || status=1
    grep -E "Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Theoretical Occupancy|Block Limit|Registers Per|Waves Per SM|Stall|Warp Cycles|Dynamic Shared|Grid Size" "$out/ncu.log" | head -60
fi
if has ncucmp; then
    metrics=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_sectors_srcunit_tex_op_read.sum,lts__t_sector_hit_rate.pct,sm__warps_active.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum,launch__grid_size,launch__block_size,launch__registers_per_thread,launch__shared_mem_per_block_dynamic,launch__occupancy_limit_shared_mem
    for spec in ${NCU_SHAPES:-"64:8192" "--mha:8:8192"}; do
        flag=""; [[ $spec == --mha:* ]] && { flag=--mha; spec=${spec#--mha:}; }
        for who in folio sdpa; do
            echo "=== $who $flag $spec" >> "$out/ncucmp.log"
            if [[ $who == folio ]]; then
                ncu --kernel-name regex:paged_attention_decode --launch-skip 1 --launch-count 1 --metrics "$metrics" \
                    --section WarpStateStats python3 bench/ncu_decode.py $flag "$spec" >> "$out/ncucmp.log" 2>&1 || status=1
            else
                ncu --kernel-name regex:'flash|fmha|attn|attention|sdpa|cudnn|sm90' --launch-skip 0 --launch-count 4 \
                    --metrics "$metrics" --section WarpStateStats python3 bench/ncu_decode.py --sdpa $flag "$spec" \
                    >> "$out/ncucmp.log" 2>&1 || status=1
            fi
        done
    done
    grep -E "^===|^  [a-zA-Z_:].*\(|gpu__time|dram__|lts__|sm__warps|smsp__inst|launch__grid|launch__reg|Stall|Warp Cycles" "$out/ncucmp.log" | head -120
fi
if has probe; then
    for cfg in "16 random" "16 sequential" "64 random" "256 random"; do
        read -r bsz order <<< "$cfg"
        echo "=== block_size=$bsz order=$order" | tee -a "$out/probe.log"
        python3 bench/kernels.py --only decode --baselines sdpa --batches 8,64,256 --ctxs 1024,8192 \
            --heads 32:8 --iters 20 --block-size "$bsz" --block-order "$order" 2>&1 | grep -E "^\| 32|targets" \
            | tee -a "$out/probe.log" || status=1
    done
fi
if has bench; then
    python3 bench/kernels.py --json "$out/kernels.json" "$@" 2>&1 | tee "$out/bench.log" || status=1
fi
exit $status
