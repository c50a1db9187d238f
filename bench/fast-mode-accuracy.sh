#!/usr/bin/env bash
# Accuracy after training in the fast mode vs the exact mode, on real data (docs/PERFORMANCE.md, "Accuracy after
# training in the fast mode"). Trains the same Δ job — real ImageNet ResNet-18, MNIST and Fashion-MNIST, Δ(1) and
# Δ(4), seeds 0 and 1 — four times: exact (`train`), `train --fast`, `train --fast --delta-bf16`, `train --fast
# --autocast`; then scores every patch with `eval` on one fixed test subset, with the exact base and with the fast
# base. CPU, about 22 minutes on 2 cores. Prints one line per run and per patch (progress and logs go to log.txt in
# the work folder; WORK= picks it, default a fresh temp folder).
#
#   bench/fast-mode-accuracy.sh                # TASKS="mnist fashion-mnist" STAGES="1 4" SEEDS="0 1" EPOCHS=3
#                                              # MODES="exact fast fast-dbf16 fast-autocast" override
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
TASKS=${TASKS:-mnist fashion-mnist} STAGES=${STAGES:-1 4} SEEDS=${SEEDS:-0 1} EPOCHS=${EPOCHS:-3}
MODES=${MODES:-exact fast fast-dbf16 fast-autocast}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work/data" "$work/jobs"
"$root/delta" setup >/dev/null            # prerequisites, assets, build: not counted in the run times below
for t in $TASKS; do [ -e "$work/data/$t" ] || cp -r "$root/.cache/assets/$t" "$work/data/$t"; done
# Same split in training and in eval: 200 training and 100 test images per class, no validation hold-out.
options='{ "imageSize": 64, "maxTrainPerClass": 200, "maxTestPerClass": 100, "validationFraction": 0 }'
echo "$options" > "$work/options.json"
dirs=(--Delta:DataRoot="$work/data" --Delta:OutputPath="$work/out")

echo "# training (train-time top-1 is on the test subset drawn with the job's seed; eval below uses one subset for all)"
for t in $TASKS; do for s in $STAGES; do for seed in $SEEDS; do
  name=$t-d$s-s$seed
  cat > "$work/jobs/$name.json" <<JSON
{ "name": "$name", "plugin": "classification", "backbone": "resnet18_cntk", "weights": "imagenet",
  "delta": { "stages": $s }, "dataset": "$t",
  "hyper": { "epochs": $EPOCHS, "batchSize": 64, "learningRate": 0.01, "weightDecay": 0.0001, "optimizer": "adamw", "schedule": "cosine" },
  "device": "cpu", "seed": $seed, "options": $options }
JSON
  for mode in $MODES; do
    case $mode in exact) flags=();; fast) flags=(--fast);; fast-dbf16) flags=(--fast --delta-bf16);; fast-autocast) flags=(--fast --autocast);;
      *) echo "unknown mode $mode (exact, fast, fast-dbf16, fast-autocast)" >&2; exit 2;; esac
    start=$(date +%s.%N)
    top1=$("$root/delta" train "$work/jobs/$name.json" "${flags[@]}" "${dirs[@]}" --Delta:PatchesPath="$work/patches-$mode" \
      2>>"$work/log.txt" | awk '$1=="top1"{print $2}')
    printf '%-22s trained %-10s top1 %s  wall %.0f s\n' "$name" "$mode" "${top1:-FAILED}" "$(echo "$(date +%s.%N) - $start" | bc)"
  done
done; done; done

echo "# eval of every patch with the exact base and with the fast base (same test subset for all)"
for mode in $MODES; do for t in $TASKS; do for s in $STAGES; do for seed in $SEEDS; do
  name=$t-d$s-s$seed
  score() { "$root/delta" eval "$work/patches-$mode/$name.dpatch" --dataset "$t" --options "$work/options.json" "$@" \
    "${dirs[@]}" --Delta:PatchesPath="$work/patches-$mode" 2>>"$work/log.txt" | awk '$1=="top1"{print $2}'; }
  printf '%-22s trained %-10s eval exact %s  eval fast %s\n' "$name" "$mode" "$(score)" "$(score --fast)"
done; done; done; done
echo "work folder: $work"
