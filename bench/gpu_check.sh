#!/usr/bin/env bash
# The GPU checks in one run (a GPU machine, CUDA visible): the CUDA tests, the paper-default Balanced
# Softmax and KPS trials of P5 on the GPU (their CPU results are in bench/RESULTS.md, "P5"), the BS
# trial with CUDA graphs (compile: reduce-overhead), training throughput per pipeline (P4), the step
# per precision, and trial packing.
#
#   bench/gpu_check.sh /path/to/cifar10-jpg OUTDIR
#
# (EPOCHS=1 DEVICE=cpu STEPS=pytest,parity: a dry run of the script on a CPU machine.)
# Each step has its own time limit and writes its log to OUTDIR as it goes; one failing step does not
# stop the next.
set -uo pipefail
R=${1:?give the CIFAR-10 image-folder root}
OUT=${2:?give a folder for the logs}
mkdir -p "$OUT"
export PYTHONPATH="${PYTHONPATH:-$PWD}" PYTHONUNBUFFERED=1 R PY=${PYTHON:-python3} EPOCHS=${EPOCHS:-20} DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-pytest,parity,graphs,throughput,precision,packing}
step() {  # name, time limit (s), command: run it when STEPS names it, its log in OUT/name.txt
  local name=$1 limit=$2; shift 2
  [[ ",$STEPS," == *",$name,"* ]] || return 0
  echo "== $name ($(date +%T))"; timeout "$limit" "$@" 2>&1 | tee "$OUT/$name.txt"
}

nvidia-smi -L || true
$PY -c "import torch, typer; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'typer', typer.__version__)"
step pytest 130 $PY -m pytest -m gpu tests/gpu -q -rfEs --durations=5
paper() {  # $1 preset, $2 name, then more --set options: bench/p5_cifar.sh's baseline command, on the GPU
  local preset=$1 name=$2 t=$SECONDS; shift 2
  $PY -m ltsearch.cli.main train --preset "$preset" --data-root "$R" --epochs "$EPOCHS" --set model.name=resnet8 \
    --set optim.batch_size=128 --set device="$DEVICE" "$@" --output "/tmp/p5-gpu/$name" >"/tmp/p5-gpu/$name.log" 2>&1
  echo "$name: $(tr -d '\n ' < "/tmp/p5-gpu/$name/result.json" | grep -o '"test/acc":[0-9.]*'), $((SECONDS - t)) s"
}
decoded() {  # decode the JPEG tree into the tensor cache once, before any timing
  mkdir -p /tmp/p5-gpu
  $PY -c "from ltsearch.data import DatasetSpec, load_dataset; load_dataset(DatasetSpec(name='cifar10-lt', root='$R', imbalance_ratio=100))"
}
parity() {
  decoded
  local t=$SECONDS
  paper bs/cifar10-lt bs-paper-e20 & paper kps/cifar10-lt kps-paper-e20 & wait
  echo "both $EPOCHS-epoch trials, side by side on one $DEVICE: $((SECONDS - t)) s"
  tail -n 3 /tmp/p5-gpu/*.log
}
graphs() {  # the same BS trial alone: eager (auto precision: fp32 for ResNet-8), then with CUDA graphs
  decoded
  paper bs/cifar10-lt bs-eager-e20 --set compile=false
  paper bs/cifar10-lt bs-graphs-e20 --set compile=reduce-overhead
}
export -f decoded paper parity graphs
step parity 120 bash -c parity
step graphs 110 bash -c graphs
step throughput 120 $PY bench/gpu.py throughput --root "$R"
step precision 150 $PY bench/gpu.py precision
step packing 120 $PY bench/gpu.py packing --root "$R" --trials 1,2,4,8 --epochs 6
