#!/usr/bin/env bash
# Real CIFAR-10-LT (IR 100) at a budget 2 CPU cores can run (ResNet-8, a few epochs per trial):
#   issue 4 / P5: a KPS search whose first trial is the paper's default config;
#   issue 5: a LORT stage-2 lr x wd heatmap and a KPS m_max x s_base heatmap, then the leaderboard.
# Usage: bench/cifar_search.sh /path/to/cifar10-jpg   (the extracted ../shared/data archive)
set -euo pipefail
R=${1:?give the CIFAR-10 image-folder root}
common=(--set model.name=resnet8 --set optim.batch_size=128 --set schedule.warmup_epochs=1)
ltsearch run kps --dataset cifar10-lt --imbalance-ratio 100 --data-root "$R" --trials 6 --epochs 6 \
  --scheduler none --name kps-cifar10-search "${common[@]}" --no-live
ltsearch heatmap lort -d cifar10-lt -r 100 --x stage2_lr=1e-4:1e-1:4:log --y stage2_wd=0,1e-4,1e-3,1e-2 \
  --epochs 6 --set dataset.root="$R" "${common[@]}" --set optim.lr=0.05 --set method.params.bn=frozen \
  --set method.params.stage2_epochs=4 --name lort-cifar10-stage2-grid --groups \
  -o leaderboards/cifar10-lt-ir100-lort-stage2-lr-wd.png
ltsearch heatmap kps -d cifar10-lt -r 100 --x m_max=0.2,0.5,0.8 --y s_base=8,15,30 --epochs 4 \
  --set dataset.root="$R" "${common[@]}" --name kps-cifar10-mmax-sbase-grid \
  -o leaderboards/cifar10-lt-ir100-kps-mmax-sbase.png
ltsearch leaderboard --dataset cifar10-lt --imbalance-ratio 100 --export
