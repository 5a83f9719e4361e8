"""P6: training-step time of KPS-GA vs CE and LWR vs BS (ResNet-32, batch 128, 100 classes).

    python bench/step_overhead.py [--steps 20] [--device auto]

Each pair uses the same model (cosine head for KPS and its CE reference, linear head for LWR
and BS), the same random batch and the same optimiser; steps are interleaved in rounds so
drifts in machine load hit both sides alike. Goal: KPS-GA / CE <= 1.05, LWR / BS <= 1.15.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from ltsearch.losses import BalancedSoftmaxLoss, KPSLoss, LWRRegularizer
from ltsearch.models import build_model
from ltsearch.train.device import select_device

C, B = 100, 128


def make_step(head: str, loss_fn, device, reg=None):
    torch.manual_seed(0)
    model = build_model("resnet32", C, head=head).to(device)
    params = list(model.parameters()) + (list(reg.parameters()) if reg is not None else [])
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9)
    x = torch.randn(B, 3, 32, 32, device=device)
    y = torch.randint(0, C, (B,), device=device)

    def step():
        loss = loss_fn(model(x), y)
        if reg is not None:
            loss = loss + 0.5 * reg(model.head.weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    return step


def timed(step) -> float:
    t = time.perf_counter()
    step()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    device = select_device(args.device)
    counts = [int(500 * (0.01 ** (i / (C - 1)))) for i in range(C)]  # CIFAR-100-LT IR100
    kps = KPSLoss(counts, ga="column").to(device)
    kps.ga_active = True
    bs = BalancedSoftmaxLoss(counts).to(device)
    pairs = {
        "KPS-GA / CE": (make_step("cosine", kps, device), make_step("cosine", lambda z, y: F.cross_entropy(15 * z, y),
                                                                     device)),
        "LWR / BS": (make_step("linear", bs, device, reg=LWRRegularizer(64).to(device)),
                     make_step("linear", bs, device)),
    }
    print(f"device {device}, ResNet-32, batch {B}, {C} classes, {args.steps} interleaved steps (median)")
    for name, (a, b) in pairs.items():
        for _ in range(3):
            a(), b()
        ta, tb = [], []
        for _ in range(args.steps):
            ta.append(timed(a))
            tb.append(timed(b))
        ma, mb = statistics.median(ta), statistics.median(tb)
        print(f"{name}: {ma * 1000:.1f} ms / {mb * 1000:.1f} ms = {ma / mb:.3f}")


if __name__ == "__main__":
    main()
