"""The CUDA paths: device selection, the device-resident loader, bf16 autocast, channels_last,
torch.compile with CUDA graphs, every method's trial, and checkpoints that move between GPU and CPU.

Skipped where no CUDA GPU is visible (CI, the 2-core development box); run on a GPU machine with
``python -m pytest -m gpu tests/gpu``. The CPU stand-ins for autocast are in tests/methods/test_precision.py.
"""

from __future__ import annotations

import json

import pytest
import torch

from ltsearch.config import config_from_dict
from ltsearch.data.loader import make_loader
from ltsearch.methods import get_method
from ltsearch.models import build_model
from ltsearch.train import run_trial
from ltsearch.train.device import autocast, memory_format, select_device

from ..helpers import tiny_config

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU visible")]

METHODS = ["ce", "focal", "ldam-drw", "bs", "la", "cb", "kps", "lwr", "lort"]


@pytest.fixture
def exact_fp32():
    """fp32 matmuls and convolutions without TF32, so that GPU and CPU agree to rounding."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def gpu_config(method: str, epochs: int = 4, **params) -> dict:
    cfg = tiny_config(method, epochs=epochs, **params)
    cfg.update(device="cuda", amp=True, channels_last=True)
    return cfg


def test_auto_selects_the_gpu_and_turns_on_its_speed_ups():
    device = select_device("auto")
    assert device.type == "cuda" and select_device("cuda:0") == torch.device("cuda:0")
    assert memory_format(device, True) is torch.channels_last
    assert memory_format(torch.device("cpu"), True) is torch.contiguous_format
    with autocast(device, True):
        assert torch.get_autocast_dtype("cuda") == torch.bfloat16 and torch.is_autocast_enabled("cuda")


def test_tensor_loader_on_the_gpu_yields_the_cpu_batches(digits):
    """Shuffle and crop / flip come from a CPU generator: epoch e's batches are the same on both devices."""
    kw = dict(train=True, batch_size=64, seed=3, mean=digits.mean, std=digits.std)
    gpu = make_loader(digits.train, device="cuda", **kw)
    cpu = make_loader(digits.train, device="cpu", **kw)
    for loader in (gpu, cpu):
        loader.set_epoch(2)
    for (xg, yg), (xc, yc) in zip(gpu, cpu, strict=True):
        assert xg.device.type == "cuda" and xg.dtype == torch.float32
        assert torch.equal(yg.cpu(), yc)
        torch.testing.assert_close(xg.cpu(), xc, atol=1e-6, rtol=0)


def test_channels_last_forward_equals_contiguous(exact_fp32):
    model = build_model("resnet32", 10).cuda().eval()
    x = torch.randn(16, 3, 32, 32, device="cuda")
    with torch.no_grad():
        ref = model(x)
        cl = model.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(cl, ref, atol=1e-4, rtol=1e-4)


def test_bf16_backbone_fp32_head_and_loss_on_the_gpu():
    model = build_model("resnet8", 10, head="cosine").cuda()
    method = get_method("kps")
    criterion = method.criterion(method.resolve({"ga": "column"}), [500, 200, 80, 30, 12, 5, 5, 5, 5, 5],
                                 model.feat_dim).cuda()
    criterion.on_epoch_start(150, 200)  # GA on
    x, y = torch.randn(8, 3, 32, 32, device="cuda"), torch.randint(0, 10, (8,), device="cuda")
    with autocast(torch.device("cuda"), True):
        assert model.features(x).dtype == torch.bfloat16
        logits = model(x)
        loss = criterion(logits, y, model)
    assert logits.dtype == torch.float32 and loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("method", [m for m in METHODS if m != "lort"])
def test_every_loss_equals_its_cpu_value(method, exact_fp32):
    """Same weights, same batch: the criterion's value and the head's gradients agree with the CPU's."""
    torch.manual_seed(0)
    counts = [500, 300, 120, 60, 30, 12, 5]
    m = get_method(method)
    params = m.resolve({})
    results = []
    for device in ("cpu", "cuda"):
        torch.manual_seed(0)
        model = build_model("resnet8", len(counts), head=m.head).to(device)
        criterion = m.criterion(params, counts, model.feat_dim).to(device)
        criterion.on_epoch_start(190, 200)  # every epoch hook switched on (GA, DRW, lambda(t))
        g = torch.Generator().manual_seed(1)
        x = torch.randn(24, 3, 32, 32, generator=g).to(device)
        y = torch.randint(0, len(counts), (24,), generator=g).to(device)
        loss = criterion(model(x), y, model)
        grads = torch.autograd.grad(loss, list(model.classifier_parameters()))
        results.append((loss.detach().cpu(), [gr.cpu() for gr in grads]))
    (l_cpu, g_cpu), (l_gpu, g_gpu) = results
    torch.testing.assert_close(l_gpu, l_cpu, atol=1e-4, rtol=1e-4)
    for a, b in zip(g_gpu, g_cpu):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains_on_the_gpu_with_amp_and_channels_last(method, digits, tmp_path):
    params = {"stage2_epochs": 2, "stage2_lr": 0.01} if method == "lort" else {}
    cfg = gpu_config(method, epochs=8, **params)
    cfg["cache_dir"] = str(tmp_path / "cache")  # LORT: stage-1 backbone and frozen-BN features cached on the GPU
    seen = []
    result = run_trial(cfg, report=lambda e, m: seen.append(m["train/loss"]), out_dir=tmp_path / "run", data=digits)
    assert len(seen) == (10 if method == "lort" else 8) and all(torch.isfinite(torch.tensor(seen)))
    assert result["test/acc"] > 20.0, result  # chance: 10 %
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["test/acc"] == result["test/acc"]


def test_lort_second_trial_reads_the_gpu_stage1_cache(digits, tmp_path):
    cfg = gpu_config("lort", epochs=3, stage2_epochs=2, stage2_lr=0.01)
    cfg["cache_dir"] = str(tmp_path / "cache")
    first = run_trial(cfg, data=digits)
    epochs = []
    second = run_trial(cfg, report=lambda e, m: epochs.append(e), data=digits)
    assert epochs == [4, 5]  # stage 1 (3 epochs) came from the cache
    assert abs(second["test/acc"] - first["test/acc"]) <= 2.0  # stage 2 on the same backbone (bf16, cuDNN)


class Interrupt(Exception):
    pass


@pytest.mark.parametrize("first, then", [("cuda", "cuda"), ("cuda", "cpu"), ("cpu", "cuda")])
def test_a_checkpoint_resumes_on_the_other_device(first, then, digits, tmp_path):
    """A GPU trial resumes after a kill, also on a CPU machine (and back): the checkpoint's tensors are
    mapped to the resuming device, the CPU RNG state stays on the CPU."""
    def stop_after_two(epoch, metrics):
        if epoch == 2:
            raise Interrupt

    cfg = gpu_config("kps", epochs=4, ga_start=0.5)
    cfg["device"] = first
    with pytest.raises(Interrupt):
        run_trial(cfg, report=stop_after_two, out_dir=tmp_path, data=digits)
    cfg["device"] = then
    epochs = []
    result = run_trial(cfg, report=lambda e, m: epochs.append(e), out_dir=tmp_path, data=digits)
    assert epochs == [3, 4] and result["epochs_run"] == 4
    assert result["test/acc"] > 20.0
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_cuda_graphs_compile_trains_like_the_eager_model(digits):
    """``compile: reduce-overhead``: training replays CUDA graphs, and evaluation (with flip TTA: two
    replays per batch) keeps each output before the next replay overwrites it."""
    results = {}
    for setting in (False, "reduce-overhead"):
        cfg = gpu_config("ce", epochs=5)
        cfg.update(compile=setting, amp="auto", channels_last="auto", tta_flip=True)
        results[setting] = run_trial(cfg, data=digits)["test/acc"]
    assert results["reduce-overhead"] > 30.0, results  # chance: 10 %
    assert abs(results["reduce-overhead"] - results[False]) <= 10.0, results


def test_auto_precision_on_the_gpu_is_fp32_for_a_cifar_resnet(digits):
    cfg = config_from_dict(tiny_config("ce"))
    assert cfg.amp == "auto" and cfg.channels_last == "auto" and cfg.compile is False
    cfg = gpu_config("ce", epochs=1)
    cfg.update(amp="auto", channels_last="auto")
    assert run_trial(cfg, data=digits)["epochs_run"] == 1
