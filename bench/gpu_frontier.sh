#!/usr/bin/env bash
# bench/gpu_frontier.py's jobs on one GPU machine: N worker processes share the GPU, each claiming the
# next job of the plan; runs go to OUT/runs.jsonl as they finish, logs to OUT/logs.tar.gz.
#
#   bench/gpu_frontier.sh CIFAR10_JPG_TGZ_OR_DIR OUT [WORKERS=8] [DEADLINE_S=450] [KILL_S=520]
set -uo pipefail
SRC=${1:?give the CIFAR-10-LT JPEG tree or its tar.gz}
OUT=${2:?give an output folder}
W=${3:-8}; DEADLINE=${4:-450}; KILL=${5:-520}
PLAN=${PLAN:-bench/results/gpu_plan.json}
export PYTHONPATH="${PYTHONPATH:-$PWD}" PYTHONUNBUFFERED=1
mkdir -p "$OUT" /tmp/gf-logs && touch "$OUT/runs.jsonl"
if [[ -f $SRC ]]; then mkdir -p /tmp/c10 && tar xzf "$SRC" -C /tmp/c10 && R=/tmp/c10; else R=$SRC; fi
nvidia-smi -L || true
t=$SECONDS
python3 -c "
from ltsearch.data import DatasetSpec, load_dataset
load_dataset(DatasetSpec(name='cifar10-lt', root='$R', imbalance_ratio=100, augment='pad-crop-flip'))
load_dataset(DatasetSpec(name='digits-lt', imbalance_ratio=10))" || exit 1
echo "decoded in $((SECONDS - t)) s"
for k in $(seq 0 $((W - 1))); do
  timeout "$KILL" python3 bench/gpu_frontier.py work "$PLAN" --root "$R" --runs "$OUT/runs.jsonl" \
    --deadline-s "$DEADLINE" --device "${DEVICE:-cuda}" > "/tmp/gf-logs/worker$k.log" 2>&1 &
done
wait
echo "workers done after $((SECONDS - t)) s; $(wc -l < "$OUT/runs.jsonl") runs"
tail -n 3 /tmp/gf-logs/worker*.log
tar czf "$OUT/logs.tar.gz" -C /tmp gf-logs
