#!/usr/bin/env bash
# GPU check for issue #9: Delta (TorchSharp) vs the PyTorch eager reference (bench/pytorch/delta_bench.py),
# same Δ-network, same training step, same GPU, one run.
#
#   bench/gpu-check.sh pack    (here, on the .NET machine) packs bench/Delta.Bench into .gpu/ via ../shared/gpu/pack.sh
#   bench/gpu-check.sh run     (on the CUDA machine, from the repository root) runs both benches, prints the table
#   bench/gpu-check.sh dry-run (here) the run branch on this CPU at tiny sizes, through shims: checks the plumbing only
#
# With the device tool: pack here first, then run (the packed .gpu/ is git-ignored, so it must be carried):
#   run(command="bash bench/gpu-check.sh run", carry=[".gpu"], timeout_s=540)
# Results land in $OUT (gradcheck.txt, delta.json, pytorch.json, compare.txt, delta-memory.json, delta-detection.json,
# syncs-count.txt, delta-stride4.json, profile.txt, compare-all.txt, and each step's .txt log) when $OUT is set, else in .gpu/results/.
# Sizes: batch 128, 224x224, Δ-ResNet-50 Δ(1)/Δ(4) (random weights: timing does not depend on the values, and
# the real ResNet-18 ONNX asset would not fit the 64 MiB transfer); override with BATCH=, SIZE=, STEPS= (classification)
# and TASK_BATCH=, TASK_SIZE=, TASK_STEPS= (detection).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
BATCH=${BATCH:-128} SIZE=${SIZE:-224} STEPS=${STEPS:-20}
TASK_BATCH=${TASK_BATCH:-4} TASK_SIZE=${TASK_SIZE:-512} TASK_STEPS=${TASK_STEPS:-10}

case "${1:-}" in
  pack)
    # ../shared next to the checkout (a git worktree may sit one level deeper); SHARED= overrides.
    shared=${SHARED:-}
    for d in "$root/../shared" "$root/../../shared"; do [ -n "$shared" ] || { [ -f "$d/gpu/pack.sh" ] && shared=$d; }; done
    [ -n "$shared" ] || { echo "cannot find ../shared/gpu/pack.sh; set SHARED=/path/to/shared" >&2; exit 2; }
    # ONNX Runtime (CPU inference suite) and SkiaSharp (images) natives are not needed by the train suite; leaving
    # them out keeps the packed tree < 64 MiB.
    pack=$shared/gpu/pack.sh
    if [ -f "$root/.git" ]; then
      # A git worktree: .git is a file, and pack.sh's "$root/.git/info/exclude" does not exist. Run the same
      # script with git's own path for the exclude file (shared by all worktrees).
      tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
      sed 's|"\$root/.git/info/exclude"|"$(git -C "$root" rev-parse --git-path info/exclude)"|g' "$shared/gpu/pack.sh" > "$tmp/pack.sh"
      cp "$shared/gpu/run.sh" "$tmp/run.sh"; pack=$tmp/pack.sh
    fi
    GPU_PACK_DROP="${GPU_PACK_DROP:-} libSkiaSharp.so onnxruntime.dll libonnxruntime.so libonnxruntime_providers_shared.so runtimes/linux-x64/native/libonnxruntime.so runtimes/linux-x64/native/libonnxruntime_providers_shared.so" \
      bash "$pack" bench/Delta.Bench/Delta.Bench.csproj
    ;;
  run)
    [ -f .gpu/run.sh ] || { echo "no .gpu/ here: run 'bench/gpu-check.sh pack' on the .NET machine and carry .gpu" >&2; exit 2; }
    out=${OUT:-$root/.gpu/results}; mkdir -p "$out"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    # In order of importance, each step writing its files as it ends, so that a run cut short by its time limit still
    # leaves the main comparison; each step reports its own failure and the script goes on to the next.
    #
    # 1. Before any figure: do the activation-free frozen-layer nodes (custom autograd functions, never run on CUDA
    #    before this script) give the Δ-modules libtorch's gradients on this GPU? If not (or the process dies in a
    #    node), every later run uses libtorch's own nodes, so the speed comparison still comes out, and says so.
    if bash .gpu/run.sh Delta.Bench.dll gradcheck --fast --device cuda --archs resnet50:random,resnet18:random \
         --json "$out/gradcheck.json" > "$out/gradcheck.txt" 2>&1; then
      cut -c1-150 "$out/gradcheck.txt"
    else
      cat "$out/gradcheck.txt"
      echo "GRADCHECK FAILED on this GPU: the runs below use libtorch's own nodes (DELTA_FROZEN_BACKWARD=standard)"
      export DELTA_FROZEN_BACKWARD=standard
    fi
    # 2. Delta: Δ(1), Δ(4) in fp32, in the fast mode (bf16 frozen base, channels-last, folded BNs: bf16+cl+fold), in
    #    the fast mode with bf16 Δ convolutions (+dbf16) and with bf16 Δ convolutions and skip sums (+dbf16+sbf16, what
    #    PyTorch's autocast does); full fine-tuning in fp32 (cuDNN autotuning on, as in PyTorch).
    bash .gpu/run.sh Delta.Bench.dll train --fast --device cuda --archs resnet50:random \
      --batch "$BATCH" --size "$SIZE" --steps "$STEPS" --json "$out/delta.json" 2>&1 | tee "$out/delta.txt" \
      || echo "train suite failed (see delta.txt)"
    if [ ! -s "$out/delta.json" ] && [ "${DELTA_FROZEN_BACKWARD:-}" != standard ]; then
      # The activation-free nodes passed gradcheck's small batches but the full-size run died: once more with
      # libtorch's own nodes, so that the comparison still comes out (delta.txt keeps the first run's end).
      echo "train suite died with the activation-free backward: rerunning it with DELTA_FROZEN_BACKWARD=standard"
      export DELTA_FROZEN_BACKWARD=standard
      bash .gpu/run.sh Delta.Bench.dll train --fast --device cuda --archs resnet50:random \
        --batch "$BATCH" --size "$SIZE" --steps "$STEPS" --json "$out/delta.json" 2>&1 | tee "$out/delta-standard.txt" \
        || echo "train suite failed again (see delta-standard.txt)"
    fi
    # 3. PyTorch's eager version of the same network and step, same GPU: fp32, bf16 autocast + channels-last, and
    #    bf16base (Delta's fast-mode split: bf16 channels-last base, fp32 Δ-modules and head).
    python3 bench/pytorch/delta_bench.py --device cuda --archs resnet50 --modes fp32,bf16,bf16base --full \
      --batch "$BATCH" --size "$SIZE" --steps "$STEPS" --json "$out/pytorch.json" 2>&1 | tee "$out/pytorch.txt" \
      || echo "PyTorch bench failed (see pytorch.txt)"
    # 4. The comparison (printed again at the end with the later figures).
    [ -s "$out/delta.json" ] && [ -s "$out/pytorch.json" ] \
      && python3 bench/pytorch/compare.py "$out/delta.json" "$out/pytorch.json" | tee "$out/compare.txt" \
      || echo "no comparison yet: delta.json or pytorch.json is missing"
    # 5. Delta's own GPU memory. TorchSharp 0.107 exposes no allocator statistics, so the bench polls the CUDA runtime's
    #    cudaMemGetInfo during one extra step per variant, with libtorch's caching allocator off so that freed memory
    #    shows (--exact-memory: "step memory" and its ratio to full fine-tuning's, in MB the step adds).
    PYTORCH_NO_CUDA_MEMORY_CACHING=1 bash .gpu/run.sh Delta.Bench.dll train --device cuda --archs resnet50:random --exact-memory \
      --batch "$BATCH" --size "$SIZE" --steps 2 --json "$out/delta-memory.json" 2>&1 | tee "$out/delta-memory.txt" \
      || echo "exact memory run failed (see delta-memory.txt)"
    if ! grep -q "step memory / full fine-tuning" "$out/delta-memory.txt" 2>/dev/null; then
      # Fallback: one process per variant, the GPU's memory.used sampled every 100 ms by nvidia-smi; the peak includes
      # the CUDA context and what the caching allocator reserved, for both sides of the ratio alike.
      for v in delta1 delta4 full; do
        nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 > "$out/gpumem-$v.txt" 2>/dev/null &
        sampler=$!
        bash .gpu/run.sh Delta.Bench.dll train --device cuda --archs resnet50:random --train-variants "$v" \
          --batch "$BATCH" --size "$SIZE" --steps 3 > "$out/delta-memory-$v.txt" 2>&1 || echo "memory run $v failed (see delta-memory-$v.txt)"
        kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
      done
      python3 - "$out" <<'PY' | tee "$out/gpu-memory.txt"
import sys, pathlib
out = pathlib.Path(sys.argv[1])
peak = {}
for v in ("delta1", "delta4", "full"):
    values = [int(l) for l in (out / f"gpumem-{v}.txt").read_text().split() if l.strip().isdigit()] if (out / f"gpumem-{v}.txt").exists() else []
    peak[v] = max(values) if values else float("nan")
print("Delta GPU memory, peak memory.used during one train-suite process (MiB, CUDA context included):")
for v in ("delta1", "delta4", "full"):
    ratio = peak[v] / peak["full"] if peak["full"] == peak["full"] and peak["full"] > 0 else float("nan")
    print(f"  {v:7s} {peak[v]:>8} MiB   / full fine-tuning {ratio:.2f}   (target <= 0.50 for delta1, delta4)")
PY
    fi
    # 6. NMS of 5,000 boxes, RoIAlign (512 RoIs, 4 FPN levels), Faster R-CNN step, on the GPU.
    bash .gpu/run.sh Delta.Bench.dll detection --fast --device cuda --task-batch "$TASK_BATCH" --task-size "$TASK_SIZE" --steps "$TASK_STEPS" \
      --json "$out/delta-detection.json" 2>&1 | tee "$out/delta-detection.txt" || echo "detection suite failed (see delta-detection.txt)"
    # 7. Host waits ("no per-step host synchronisation"): libtorch's sync debug mode on "warn" around 5 training steps per
    #    variant and one loader epoch; each wait logs one warning between the window's marker lines.
    bash .gpu/run.sh Delta.Bench.dll syncs --fast --device cuda --archs resnet50:random --batch 32 --size "$SIZE" --steps 5 \
      > "$out/syncs.txt" 2>&1 || echo "sync probe failed (see syncs.txt)"
    python3 - "$out/syncs.txt" <<'PY' | tee "$out/syncs-count.txt"
import sys
label, counts = None, []
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("sync-window-begin "): label, n = line.split(" ", 1)[1].strip(), 0
    elif line.startswith("sync-window-end ") and label is not None: counts.append((label, n)); label = None
    elif label is not None and "synchronizing CUDA operation" in line: n += 1
print("Host waits for the GPU (libtorch sync debug warnings); expected 1 per training window (the trainer's loss read-back at the end of Fit), 0 for the loader:")
for label, n in counts: print(f"  {n:4d}  {label}")
if not counts: print("  no windows found: see syncs.txt (probe skipped or failed)")
PY
    # 8. Gate stride 4 (DeltaConfig.GateStride: Δ_s on 4x average-pooled input, the cheaper Δ-module), fast modes.
    bash .gpu/run.sh Delta.Bench.dll train --device cuda --archs resnet50:random --gate-strides 4 --train-variants delta1,delta4 \
      --precision bf16+cl+fold,bf16+cl+fold+dbf16,bf16+cl+fold+dbf16+sbf16 --batch "$BATCH" --size "$SIZE" --steps "$STEPS" --json "$out/delta-stride4.json" \
      2>&1 | tee "$out/delta-stride4.txt" || echo "gate-stride run failed (see delta-stride4.txt)"
    # 9. The activation-free backward's speed cost on this GPU: the same train runs with libtorch's own nodes
    #    (DELTA_FROZEN_BACKWARD=standard), Δ(1) and Δ(4), beside step 2's figures. Skipped when step 2 already ran them.
    if [ "${DELTA_FROZEN_BACKWARD:-}" != standard ]; then
      DELTA_FROZEN_BACKWARD=standard bash .gpu/run.sh Delta.Bench.dll train --fast --device cuda --archs resnet50:random \
        --train-variants delta1,delta4 --batch "$BATCH" --size "$SIZE" --steps "$STEPS" --json "$out/delta-standard.json" \
        > "$out/delta-standard-ab.txt" 2>&1 || echo "libtorch-nodes run failed (see delta-standard-ab.txt)"
      if [ -s "$out/delta.json" ] && [ -s "$out/delta-standard.json" ]; then
        python3 bench/pytorch/compare.py --backward-ab "$out/delta.json" "$out/delta-standard.json" | tee "$out/frozen-backward-ab.txt"
      fi
    fi
    # 10. Where a Δ step's GPU time goes, by kind of kernel (convolution / matmul, batch norm, elementwise, reduction,
    #     optimizer), from torch.profiler on PyTorch's version of the same network and step: Δ(1) and Δ(4), bf16
    #     autocast and Delta's split (bf16base). Δ(4) adds O(k²) full-resolution fp32 passes (the gated skip sums and
    #     their BNs) whose cost on a GPU is memory traffic, not arithmetic; this says how much of the step they take.
    python3 bench/pytorch/delta_bench.py --device cuda --archs resnet50 --modes bf16,bf16base --batch "$BATCH" --size "$SIZE" \
      --steps 3 --warmup 3 --repeats 1 --profile "$out/profile.txt" > "$out/profile-run.txt" 2>&1 \
      || echo "profile run failed (see profile-run.txt)"
    [ -s "$out/profile.txt" ] && grep -A8 "^profile" "$out/profile.txt" | grep -v "^--" || true
    # 11. Everything together.
    [ -s "$out/delta.json" ] && [ -s "$out/pytorch.json" ] || { echo "no comparison: delta.json or pytorch.json is missing"; exit 1; }
    extra=(); for f in delta-memory.json delta-detection.json delta-stride4.json; do [ -s "$out/$f" ] && extra+=("$out/$f"); done
    python3 bench/pytorch/compare.py "$out/delta.json" "$out/pytorch.json" "${extra[@]}" | tee "$out/compare-all.txt"
    ;;
  dry-run)
    # The run branch on this machine's CPU with tiny sizes, so that a change to the benches or to this script is
    # checked before a GPU session spends device minutes on it. Shims stand in for .gpu/run.sh (the bench app from its
    # build folder instead of the packed one) and for python3 (PYTHON, default /usr/bin/python3, needs torch); both
    # turn `--device cuda` into `--device cpu`. Figures from it mean nothing; every step must write its files.
    py=${PYTHON:-/usr/bin/python3}
    "$py" -c "import torch" 2>/dev/null || { echo "dry-run needs a python3 with torch: set PYTHON= (Debian: apt-get install python3-torch)" >&2; exit 2; }
    dotnet build bench/Delta.Bench/Delta.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly >&2
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/bench" "$tmp/.gpu" "$tmp/bin"
    cp -r bench/pytorch bench/gpu-check.sh "$tmp/bench/"
    cat > "$tmp/.gpu/run.sh" <<SH
#!/usr/bin/env bash
dll=\$1; shift; args=(); for a in "\$@"; do [ "\$a" = cuda ] && a=cpu; args+=("\$a"); done
exec dotnet "$root/bench/Delta.Bench/bin/Release/net10.0/\$dll" "\${args[@]}"
SH
    cat > "$tmp/bin/python3" <<SH
#!/usr/bin/env bash
args=(); for a in "\$@"; do [ "\$a" = cuda ] && a=cpu; args+=("\$a"); done
exec "$py" "\${args[@]}"
SH
    chmod +x "$tmp/.gpu/run.sh" "$tmp/bin/python3"
    out=${OUT:-$tmp/results}; mkdir -p "$out"
    PATH="$tmp/bin:$PATH" OUT="$out" BATCH=2 SIZE=64 STEPS=1 TASK_BATCH=1 TASK_SIZE=64 TASK_STEPS=1 bash "$tmp/bench/gpu-check.sh" run \
      || echo "dry run: the run branch exited with $?"
    expected="gradcheck.txt delta.json pytorch.json compare.txt delta-memory.json delta-detection.json syncs-count.txt delta-stride4.json frozen-backward-ab.txt profile.txt compare-all.txt"
    missing=(); for f in $expected; do [ -s "$out/$f" ] || missing+=("$f"); done
    if [ ${#missing[@]} -gt 0 ]; then echo "dry run: MISSING ${missing[*]} (in $out)"; exit 1; fi
    echo "dry run: every step wrote its files${OUT:+ (in $out)}"
    ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
