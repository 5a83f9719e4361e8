"""The trial: one fully-specified training run, stage by stage, resumable, with per-epoch reports.

``run_trial(config)`` is what ``ltsearch train`` runs and what every Ray Tune trial runs.
The loop never branches on a method name: the method gives the head, the stages and, per
stage, a criterion with its epoch hooks (GA switch, DRW switch, lambda(t)).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from ltsearch.config import TrialConfig, config_from_dict, dump_yaml
from ltsearch.errors import TrialDivergedError
from ltsearch.train.checkpoint import load_checkpoint, load_model_weights, save_atomic
from ltsearch.train.device import autocast, memory_format, seed_everything, select_device
from ltsearch.train.evaluate import collect_logits, diagnostics, split_metrics
from ltsearch.train.schedules import lr_at

Report = Callable[[int, dict], None]
EVAL_BATCH = 512
GROUPS = ("many", "medium", "few")


@dataclass
class Progress:
    """Where a trial is; saved in every checkpoint."""

    stage: int = 0  # index of the stage being trained
    epoch: int = 0  # next epoch to run within that stage
    global_epoch: int = 0  # epochs completed over all stages (the search engine's time axis)
    history: list = field(default_factory=list)  # one metrics dict per completed epoch


def resolve_config(config: dict | TrialConfig) -> tuple[TrialConfig, dict]:
    """Validated config and the method's full parameter dict (defaults filled in)."""
    from ltsearch.methods import get_method

    cfg = config if isinstance(config, TrialConfig) else config_from_dict(config)
    params = get_method(cfg.method.name).resolve(cfg.method.params, dataset=cfg.dataset.name)
    cfg.method.params = params
    return cfg, params


def planned_epochs(config: dict | TrialConfig) -> int:
    """Total epochs over all stages still to run (ASHA's ``max_t``)."""
    from ltsearch.methods import get_method

    cfg, params = resolve_config(config)
    return sum(get_method(cfg.method.name).stage_epochs(cfg, params))


def run_trial(config: dict | TrialConfig, report: Report | None = None, out_dir: str | Path | None = None,
              resume: bool = True, data=None) -> dict[str, Any]:
    """Train and evaluate one config; returns final val / test metrics and per-class results.

    ``report(epoch, metrics)`` is called after each epoch (1-based, continuous over stages) with
    ``train/loss``, ``lr``, ``val/acc`` and the non-empty shot groups ``val/many|medium|few``.
    With ``out_dir`` the trial writes ``config.yaml``, ``checkpoint.pt`` (every epoch; resumed
    from when ``resume``), ``metrics.jsonl``, ``per_class.csv`` and ``result.json``.
    """
    from ltsearch.data import DatasetSpec, load_dataset
    from ltsearch.data.loader import make_loader
    from ltsearch.methods import get_method
    from ltsearch.models import build_model

    cfg, params = resolve_config(config)
    method = get_method(cfg.method.name)
    device = select_device(cfg.device)
    seed_everything(cfg.seed)
    if data is None:
        data = load_dataset(DatasetSpec.from_config(cfg.dataset))
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(dump_yaml(cfg.to_dict()))

    model = build_model(cfg.model.name, data.num_classes, head=method.head)
    stages = method.stages(cfg, params, data.train_counts, model.feat_dim)
    fmt = memory_format(device, cfg.channels_last)
    model = model.to(device=device, memory_format=fmt)
    for stage in stages:
        stage.criterion.to(device)
    net = torch.compile(model) if cfg.compile else model

    progress = Progress()
    ckpt_path = out / "checkpoint.pt" if out is not None else None
    saved = load_checkpoint(ckpt_path, map_location=device) if (resume and ckpt_path and ckpt_path.is_file()) else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        for stage, state in zip(stages, saved["criteria"]):
            stage.criterion.load_state_dict(state)
        progress = Progress(**saved["progress"])
        torch.set_rng_state(saved["rng"])
    elif params.get("backbone"):  # decoupled method started from a given stage-1 checkpoint
        load_model_weights(model, params["backbone"])
        progress.stage = 1

    ac = lambda: autocast(device, cfg.amp)  # noqa: E731
    loader_kw = dict(device=device, mean=data.mean, std=data.std, image_size=data.image_size)
    val_loader = make_loader(data.val, train=False, batch_size=EVAL_BATCH, seed=cfg.seed, **loader_kw)

    for si, stage in enumerate(stages):
        if si < progress.stage:
            continue
        head_only = stage.train_part == "head"
        trainable = list(model.classifier_parameters() if head_only else model.parameters())
        for p in model.backbone_parameters():
            p.requires_grad_(not head_only)
        optimizer = torch.optim.SGD(trainable + list(stage.criterion.parameters()), lr=stage.lr,
                                    momentum=stage.momentum, weight_decay=stage.weight_decay,
                                    nesterov=cfg.optim.nesterov and stage.momentum > 0)
        if saved is not None and saved["progress"]["stage"] == si and saved.get("optimizer"):
            optimizer.load_state_dict(saved["optimizer"])
        train_loader = make_loader(data.train, train=True, batch_size=stage.batch_size, seed=cfg.seed + 1000 * si,
                                   **loader_kw)
        for epoch in range(progress.epoch, stage.epochs):
            lr = lr_at(epoch, stage.lr, stage.epochs, stage.schedule.name, stage.schedule.warmup_epochs,
                       stage.schedule.milestones, stage.schedule.gamma)
            for group in optimizer.param_groups:
                group["lr"] = lr
            stage.criterion.on_epoch_start(epoch, stage.epochs)
            train_loader.set_epoch(epoch)
            loss = _train_epoch(model, net, train_loader, stage, optimizer, ac, fmt, head_only)
            if not math.isfinite(loss):
                raise TrialDivergedError(
                    f"training loss became {loss} in {stage.name} epoch {epoch + 1} (lr {lr:g}); "
                    f"lower the learning rate or check the method's parameters")
            progress.epoch = epoch + 1
            progress.global_epoch += 1
            metrics = {"epoch": progress.global_epoch, "train/loss": loss, "lr": lr, **stage.criterion.state()}
            if progress.global_epoch % cfg.eval_every == 0 or epoch + 1 == stage.epochs:
                logits, labels = collect_logits(net, val_loader, stage.tta_flip, ac, fmt)
                metrics.update(_prefixed("val", split_metrics(logits, labels, data.num_classes, data.train_counts)))
            progress.history.append(metrics)
            if out is not None:
                save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "criteria": [s.criterion.state_dict() for s in stages],
                             "progress": progress.__dict__, "rng": torch.get_rng_state()}, ckpt_path)
                with open(out / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(metrics) + "\n")
            if report is not None:
                report(progress.global_epoch, metrics)
        if out is not None and len(stages) > 1 and si == 0:
            save_atomic({"model": model.state_dict()}, out / "stage1.pt")
        progress.stage, progress.epoch = si + 1, 0
        saved = None

    return _finish(cfg, model, net, data, stages[-1], progress, out, make_loader, loader_kw, ac, fmt)


def _train_epoch(model, net, loader, stage, optimizer, ac, fmt, head_only: bool) -> float:
    """One pass over the training set; returns the mean loss (one device sync per epoch)."""
    model.train()
    if head_only and stage.bn == "frozen":
        model.backbone.eval()
    total = torch.zeros((), device=next(model.parameters()).device)
    n = 0
    for x, y in loader:
        x = x.contiguous(memory_format=fmt)
        with ac():
            if head_only:
                with torch.no_grad():
                    f = model.features(x)
                logits = model.head(f.float())
            else:
                logits = net(x)
            loss = stage.criterion(logits.float(), y, model)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * y.shape[0]
        n += y.shape[0]
    return float(total / max(n, 1))  # the sync point


def _prefixed(split: str, m: dict) -> dict:
    out = {f"{split}/acc": m["acc"]}
    for g in GROUPS:
        if m.get(g) is not None:
            out[f"{split}/{g}"] = m[g]
    return out


def _finish(cfg, model, net, data, last_stage, progress, out, make_loader, loader_kw, ac, fmt) -> dict:
    """Evaluate val and test once more; write per-class CSV and result.json."""
    from ltsearch.metrics import shot_groups

    val_logits, val_labels = collect_logits(net, make_loader(data.val, train=False, batch_size=EVAL_BATCH,
                                                             seed=cfg.seed, **loader_kw), last_stage.tta_flip, ac, fmt)
    test_logits, test_labels = collect_logits(net, make_loader(data.test, train=False, batch_size=EVAL_BATCH,
                                                               seed=cfg.seed, **loader_kw), last_stage.tta_flip, ac, fmt)
    val = split_metrics(val_logits, val_labels, data.num_classes, data.train_counts)
    test = split_metrics(test_logits, test_labels, data.num_classes, data.train_counts)
    diag = diagnostics(test_logits, test_labels, data.num_classes)
    groups = shot_groups(data.train_counts)
    group_of = {c: g for g, cs in groups.items() for c in cs}
    per_class = [
        {"class": i, "name": data.class_names[i], "train_count": int(data.train_counts[i]), "group": group_of[i],
         "val_acc": val["per_class"][i], "test_acc": test["per_class"][i],
         "logit_magnitude": diag["magnitude"][i], "reg_std": diag["reg_std"][i]}
        for i in range(data.num_classes)
    ]
    val_history = [h["val/acc"] for h in progress.history if "val/acc" in h]
    result = {**_prefixed("val", val), **_prefixed("test", test),
              "best/val/acc": max(val_history + [val["acc"]]), "epochs_run": progress.global_epoch,
              "val_protocol": data.val_protocol, "per_class": per_class}
    if out is not None:
        with open(out / "per_class.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(per_class[0]))
            writer.writeheader()
            writer.writerows(per_class)
        (out / "result.json").write_text(json.dumps({k: v for k, v in result.items() if k != "per_class"}, indent=2))
    return result
