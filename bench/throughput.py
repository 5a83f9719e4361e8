"""P4: training images/s of ResNet-32 on CIFAR-10-LT, ltsearch's pipeline vs the papers' style.

    python bench/throughput.py --root ~/.cache/ltsearch/cifar10-jpg [--steps 30] [--batch 128]

* ltsearch: the trial's own epoch loop (``ltsearch.train.trial._Run``) over the device-resident
  uint8 tensors with whole-batch crop / flip / normalisation (``TensorLoader``).
* the same with ``torch.compile`` (the trial's ``compile: true``).
* reference (LDAM-DRW / KPS code style): ``torchvision.transforms`` on PIL images
  (RandomCrop(32, 4) + flip + ToTensor + Normalize) in a ``DataLoader`` with 2 workers.
Same model, batch, optimiser and data; rounds alternate between the two so that machine-load
drift hits both. Prints images/s for each and the ratio (goal >= 1.5x on CPU).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torchvision.transforms as T
from PIL import Image

from ltsearch.data import DatasetSpec, load_dataset
from ltsearch.data.loader import make_loader
from ltsearch.models import build_model
from ltsearch.train.device import select_device


class PILDataset(torch.utils.data.Dataset):
    """torchvision-CIFAR style: numpy HWC uint8 -> PIL -> transforms, one sample at a time."""

    def __init__(self, split, mean, std):
        self.x = split.images.permute(0, 2, 3, 1).numpy()
        self.y = split.labels.tolist()
        self.t = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                            T.Normalize(mean, std)])

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.t(Image.fromarray(self.x[i])), self.y[i]


def trainer(device, fmt, compile_model: bool = False):
    torch.manual_seed(0)
    model = build_model("resnet32", 10).to(device=device, memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    net = torch.compile(model) if compile_model else model

    def step(x, y):
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        loss = torch.nn.functional.cross_entropy(net(x.contiguous(memory_format=fmt)), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def endless(loader):
    while True:
        yield from loader


def run_steps(step, batches, n, device) -> float:
    t = time.perf_counter()
    for _ in range(n):
        x, y = next(batches)
        loss = step(x, y)
    float(loss)  # sync
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--steps", type=int, default=10, help="steps per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    device = select_device(args.device)
    fmt = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    data = load_dataset(DatasetSpec(name="cifar10-lt", root=args.root, imbalance_ratio=100))
    ours = endless(make_loader(data.train, train=True, batch_size=args.batch, device=device, seed=0,
                               mean=data.mean, std=data.std))
    ref = endless(torch.utils.data.DataLoader(PILDataset(data.train, data.mean, data.std), batch_size=args.batch,
                                              shuffle=True, num_workers=args.workers, persistent_workers=True,
                                              pin_memory=device.type == "cuda", drop_last=True))
    steps = {"ltsearch tensor pipeline": (trainer(device, fmt), ours),
             "ltsearch tensor pipeline + torch.compile (compile=true)": (trainer(device, fmt, True), ours),
             f"PIL + DataLoader({args.workers} workers)": (trainer(device, fmt), ref)}
    for step, batches in steps.values():
        run_steps(step, batches, 2, device)  # warm-up: workers start, compilation
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, (step, batches) in steps.items():
            times[name].append(run_steps(step, batches, args.steps, device))
    ips = {name: args.steps * args.batch / statistics.median(t) for name, t in times.items()}
    ref_name = list(steps)[-1]
    print(f"device {device}, torch threads {torch.get_num_threads()}, ResNet-32, batch {args.batch}, "
          f"{args.rounds} rounds of {args.steps} steps (median)")
    for name, v in ips.items():
        print(f"{name:58s} {v:8.1f} images/s  ratio {v / ips[ref_name]:.2f}x")


if __name__ == "__main__":
    main()
