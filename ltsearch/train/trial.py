"""The trial: one fully-specified training run, stage by stage, resumable, with per-epoch reports.

``run_trial(config)`` is what ``ltsearch train`` runs and what every Ray Tune trial runs.
The loop never branches on a method name: the method gives the head, the stages and, per
stage, a criterion with its epoch hooks (GA switch, DRW switch, lambda(t)).
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from ltsearch.config import TrialConfig, dump_yaml
from ltsearch.data import DatasetSpec, load_dataset
from ltsearch.data.loader import make_loader
from ltsearch.errors import LTSearchError, TrialDivergedError
from ltsearch.fileio import open_atomic, write_atomic
from ltsearch.methods import get_method
from ltsearch.metrics import shot_groups
from ltsearch.models.build import build_model
from ltsearch.tracking.outputs import write_confusion, write_per_class
from ltsearch.train.checkpoint import load_checkpoint, load_model_weights, save_atomic
from ltsearch.train.device import (
    autocast,
    compiled,
    gpu_speedup,
    memory_format,
    seed_everything,
    select_device,
    step_begin,
)
from ltsearch.train.evaluate import collect_logits, diagnostics, split_metrics
from ltsearch.train.plan import resolve_config
from ltsearch.train.schedules import lr_at
from ltsearch.train.stage_cache import (
    FeatureCache,
    Stage1Cache,
    config_key,
    data_key,
    evaluation_of,
    file_key,
    history_for,
    locked,
    stage1_key,
)

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


def run_trial(config: dict | TrialConfig, report: Report | None = None, out_dir: str | Path | None = None,
              resume: bool = True, data=None, select: tuple[str, str] = ("val/acc", "max")) -> dict[str, Any]:
    """Train and evaluate one config; returns final val / test metrics and per-class results.

    ``report(epoch, metrics)`` is called after each epoch (1-based, continuous over stages) with
    ``train/loss``, ``lr``, ``val/acc``, the non-empty shot groups ``val/many|medium|few`` and
    ``best/<metric>``: the best value so far of ``select = (metric, mode)`` over the epochs of the
    current stage. The model is selected on validation: the final ``best/<metric>`` is the best
    epoch of the last stage, and the test metrics (and the per-class results) are those of that
    epoch's weights. With ``out_dir`` the trial writes ``config.yaml``, ``checkpoint.pt`` (every
    epoch; resumed from when ``resume``, restarted when unreadable), ``best.pt`` (when the
    selected epoch changes), ``metrics.jsonl`` (rewritten from the checkpoint on resume, so it
    holds every epoch exactly once), ``per_class.csv`` and ``result.json``.
    With ``cache_dir`` set, a decoupled method reuses its stage-1 backbone and, with frozen
    batch-norm, its stage-2 features across trials (:mod:`ltsearch.train.stage_cache`).
    """
    cfg, params = resolve_config(config)
    method = get_method(cfg.method.name)
    device = select_device(cfg.device)
    seed_everything(cfg.seed)
    if data is None:
        data = load_dataset(DatasetSpec.from_config(cfg.dataset))
    out = Path(out_dir) if out_dir is not None else None
    saved, key = None, config_key(cfg)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        _refuse_links(out)
        saved = _checked_resume_point(out, cfg, key, device) if resume else None
        write_atomic(out / "config.yaml", dump_yaml(cfg.to_dict()))

    model = build_model(cfg.model.name, data.num_classes, head=method.head, init=cfg.model.init)
    stages = method.stages(cfg, params, data.train_counts, model.feat_dim)
    run = _Run(cfg, model, stages, data, device, out, report, select)

    if saved is None and out is not None:  # starting over: no epoch of an earlier run stays in its history
        _write_history(out, [])
    if saved is not None:
        run.restore(saved)
    elif params.get("backbone"):  # decoupled method started from a given stage-1 checkpoint
        load_model_weights(model, params["backbone"])
        run.progress.stage = 1
        run.backbone_key = f"{file_key(params['backbone'])}-{data_key(cfg)}"  # the feature cache's key

    cacheable = cfg.cache_dir is not None and len(stages) > 1 and run.progress.stage == 0 and run.progress.epoch == 0
    if cacheable:  # stage 1 once per distinct stage-1 config, shared by every trial that needs it
        cache = Stage1Cache(cfg.cache_dir, stage1_key(cfg))
        with locked(cache.path):
            hit = cache.load()
            if hit is None:
                run.stage(0, saved)
                cache.save(model.state_dict(), run.progress.history, evaluation_of(cfg))
        if hit is not None:  # the trial folder as if stage 1 had trained here: its epochs and stage1.pt
            model.load_state_dict(hit["model"])
            run.progress = Progress(stage=1, global_epoch=stages[0].epochs, history=history_for(hit, cfg))
            if out is not None:
                _write_history(out, run.progress.history)
                save_atomic({"model": model.state_dict()}, out / "stage1.pt")
        run.backbone_key = stage1_key(cfg)

    for si in range(run.progress.stage, len(stages)):
        run.stage(si, saved if saved is not None and saved["progress"]["stage"] == si else None)
    return run.finish()


OUTPUTS = ("config.yaml", "checkpoint.pt", "best.pt", "stage1.pt", "metrics.jsonl", "per_class.csv", "result.json",
           "confusion.csv")


def resumed_epochs(config: dict | TrialConfig, out_dir: str | Path, resume: bool = True) -> int:
    """The epochs a :func:`run_trial` of ``config`` into ``out_dir`` resumes after (0: it starts over),
    checked as ``run_trial`` checks them (a folder holding a run of another config, or a link, is
    refused) but writing nothing: a caller checks every folder before it prints or trains anything."""
    out = Path(out_dir)
    if not resume or not out.is_dir():
        return 0
    cfg, _ = resolve_config(config)
    _refuse_links(out)
    saved = _checked_resume_point(out, cfg, config_key(cfg), "cpu", quiet=True)
    return 0 if saved is None else int(saved["progress"].get("global_epoch", 0))


def _checked_resume_point(out: Path, cfg, key: str, device, quiet: bool = False) -> dict | None:
    """``out``'s checkpoint to resume (None: start over); refused when it holds a run of another config."""
    saved = _resume_point(out / "checkpoint.pt", device, quiet)
    if saved is not None and saved.get("config_key", key) != key:
        raise LTSearchError(f"{out} holds a run of another config ({_config_change(out / 'config.yaml', cfg)}): "
                            f"resume it with that config, or give another output folder (or --no-resume to "
                            f"start over there)")
    return saved


def _config_change(saved_yaml: Path, cfg) -> str:
    """The first keys where ``cfg`` differs from the run's saved config, as ``optim.lr 0.1 there, 0.01 now``."""
    from ltsearch.checks import shown
    from ltsearch.config import flatten, load_yaml

    try:
        before = flatten(load_yaml(saved_yaml))
    except LTSearchError:
        return f"see its {saved_yaml.name}"
    now = flatten(cfg.to_dict())
    diff = [k for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)]
    return "; ".join(f"{k} {shown(before.get(k), 30)} there, {shown(now.get(k), 30)} now" for k in diff[:3]) or \
        f"see its {saved_yaml.name}"


def _refuse_links(out: Path) -> None:
    """A trial folder (or a file ltsearch writes in it) that is a symbolic link is refused: writes
    never follow a link out of the folder."""
    for path in (out, *(out / name for name in OUTPUTS)):
        if path.is_symlink():
            raise LTSearchError(f"{path}: is a symbolic link; ltsearch writes trial outputs only as plain files "
                                f"in the trial folder; remove the link")


def _cpu_copy(state: dict) -> dict:
    """Weights detached and copied to the CPU (the selected epoch's, kept while training goes on)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}


def _write_history(out: Path, history: list[dict]) -> None:
    """``metrics.jsonl`` holding exactly ``history`` (one line per epoch; training appends to it)."""
    write_atomic(out / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in history))


def _resume_point(path: Path | None, device, quiet: bool = False) -> dict | None:
    """The checkpoint to resume from; ``None`` (start over, with a warning unless ``quiet``) when there is
    none or it is unreadable."""
    if path is None or not path.is_file() or path.is_symlink():
        return None
    try:
        return load_checkpoint(path, map_location=device)
    except LTSearchError as err:  # truncated by a kill mid-write of an older ltsearch, or corrupt
        if not quiet:
            logging.getLogger(__name__).warning("%s; the trial starts over", err)
        return None


class _Run:
    """The state of one trial while it trains: model, stages, loaders, progress, outputs."""

    def __init__(self, cfg, model, stages, data, device, out, report, select=("val/acc", "max")):
        self.cfg, self.stages, self.data, self.device, self.out, self.report = cfg, stages, data, device, out, report
        self.fmt = memory_format(device, gpu_speedup(cfg.channels_last, cfg.model.name))
        self.model = model.to(device=device, memory_format=self.fmt)
        for stage in stages:
            stage.criterion.to(device)
        self.net = compiled(self.model, cfg.compile)
        amp = gpu_speedup(cfg.amp, cfg.model.name)
        self.ac = lambda: autocast(device, amp)
        self.progress = Progress()
        self.select_metric, self.select_mode = select
        self.best_key = f"best/{self.select_metric}"
        self.best: float | None = None  # best value of the selected metric in the current stage
        self.best_epoch: int | None = None  # its global epoch (in checkpoint.pt and best.pt: they must agree)
        self.best_state: dict | None = None  # its weights (in memory; best.pt on disk)
        self.ckpt_path = out / "checkpoint.pt" if out is not None else None
        self.backbone_key: str | None = None
        self.config_key = config_key(cfg)  # in every checkpoint: it resumes only this config
        self.features: FeatureCache | None = None  # set by a frozen-BN stage with a cache_dir
        self.make_loader = make_loader
        self.loader_kw = dict(device=device, mean=data.mean, std=data.std, image_size=data.image_size)

    def restore(self, saved: dict) -> None:
        self.model.load_state_dict(saved["model"])
        for stage, state in zip(self.stages, saved["criteria"]):
            stage.criterion.load_state_dict(state)
        self.progress = Progress(**saved["progress"])
        self.backbone_key = saved.get("backbone_key")
        torch.set_rng_state(saved["rng"].cpu())  # a ByteTensor on the CPU, whatever map_location did
        self.best, self.best_epoch = saved.get("best"), saved.get("best_epoch")
        if self.best is not None and self.out is not None:
            self.best_state = self._restore_best(saved)
        if self.out is not None:  # the checkpoint is the truth: every epoch it holds, exactly once
            _write_history(self.out, self.progress.history)

    def _restore_best(self, saved: dict) -> dict | None:
        """The weights of the checkpoint's best epoch: ``best.pt``, or the checkpoint's own weights when a
        kill fell between writing the checkpoint of an improving epoch and its ``best.pt``."""
        path = self.out / "best.pt"
        try:
            on_disk = load_checkpoint(path, map_location="cpu") if path.is_file() else None
        except LTSearchError:  # truncated by a kill mid-write of an older ltsearch: as if missing
            on_disk = None
        if self.best_epoch is None:  # a checkpoint written before best_epoch was kept: best.pt as it is
            return on_disk["model"] if on_disk is not None else None
        if on_disk is not None and on_disk.get("epoch") == self.best_epoch:
            return on_disk["model"]
        if self.best_epoch == self.progress.global_epoch:
            state = _cpu_copy(saved["model"])
            save_atomic({"model": state, "epoch": self.best_epoch}, path)
            return state
        logging.getLogger(__name__).warning(
            "%s does not hold the best epoch (%s) of the checkpoint; the best epoch is chosen again from the "
            "resumed epochs", path, self.best_epoch)
        self.best, self.best_epoch = None, None
        return None

    def eval_loader(self, split):
        return self.make_loader(split, train=False, batch_size=EVAL_BATCH, seed=self.cfg.seed, **self.loader_kw)

    def stage(self, si: int, saved: dict | None) -> None:
        """Train stage ``si`` from ``progress.epoch`` to its end (``saved``: resume its optimiser)."""
        stage, model = self.stages[si], self.model
        head_only = stage.train_part == "head"
        for p in model.backbone_parameters():
            p.requires_grad_(not head_only)
        trainable = list(model.classifier_parameters() if head_only else model.parameters())
        optimizer = torch.optim.SGD(trainable + list(stage.criterion.parameters()), lr=stage.lr,
                                    momentum=stage.momentum, weight_decay=stage.weight_decay,
                                    nesterov=self.cfg.optim.nesterov and stage.momentum > 0)
        if saved is not None and saved.get("optimizer"):
            optimizer.load_state_dict(saved["optimizer"])
        seed = self.cfg.seed + 1000 * si
        loader = self.make_loader(self.data.train, train=True, batch_size=stage.batch_size, seed=seed,
                                  **self.loader_kw)
        features = None
        if head_only and stage.bn == "frozen" and self.cfg.cache_dir and self.backbone_key:
            features = FeatureCache(self.cfg.cache_dir, f"{self.backbone_key}-s{seed}-b{stage.batch_size}")
        self.features = features  # the final evaluation reads val / test features from it too
        if self.progress.epoch == 0:  # a new stage: its own best epoch
            self.best, self.best_state, self.best_epoch = None, None, None
        for epoch in range(self.progress.epoch, stage.epochs):
            lr = lr_at(epoch, stage.lr, stage.epochs, stage.schedule.name, stage.schedule.warmup_epochs,
                       stage.schedule.milestones, stage.schedule.gamma)
            for group in optimizer.param_groups:
                group["lr"] = lr
            stage.criterion.on_epoch_start(epoch, stage.epochs)
            loader.set_epoch(epoch)
            batches = self._cached_batches(features, loader, epoch, stage.batch_size) if features else loader
            loss = self._train_epoch(batches, stage, optimizer, head_only, cached=features is not None)
            if not math.isfinite(loss):
                raise TrialDivergedError(
                    f"training loss became {loss} in {stage.name} epoch {epoch + 1} (lr {lr:g}); "
                    f"lower the learning rate or check the method's parameters")
            self.progress.epoch = epoch + 1
            self.progress.global_epoch += 1
            metrics = {"epoch": self.progress.global_epoch, "train/loss": loss, "lr": lr, **stage.criterion.state()}
            if self.progress.global_epoch % self.cfg.eval_every == 0 or epoch + 1 == stage.epochs:
                logits, labels = self.logits("val", stage, features)
                val = split_metrics(logits, labels, self.data.num_classes, self.data.train_counts)
                metrics.update(_prefixed("val", val))
                if self.out is not None:  # a stopped trial keeps its per-class view of the last evaluation
                    self._write_val_per_class(val)
            improved = self._select(metrics)
            if self.best is not None:
                metrics[self.best_key] = self.best
            self.progress.history.append(metrics)
            if self.out is not None:  # the checkpoint first: a kill before best.pt is mended on restore
                save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "criteria": [s.criterion.state_dict() for s in self.stages],
                             "progress": self.progress.__dict__, "rng": torch.get_rng_state(),
                             "backbone_key": self.backbone_key, "best": self.best, "best_epoch": self.best_epoch,
                             "config_key": self.config_key}, self.ckpt_path)
                if improved:
                    save_atomic({"model": self.best_state, "epoch": self.best_epoch}, self.out / "best.pt")
                with open(self.out / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(metrics) + "\n")
            if self.report is not None:
                self.report(self.progress.global_epoch, metrics)
        if self.out is not None and len(self.stages) > 1 and si == 0:
            save_atomic({"model": model.state_dict()}, self.out / "stage1.pt")
        self.progress.stage, self.progress.epoch = si + 1, 0

    def _select(self, metrics: dict) -> bool:
        """Model selection on validation: keep the weights of the stage's best epoch."""
        value = metrics.get(self.select_metric)
        if value is None or not math.isfinite(value):
            return False
        if self.best is not None and not (value > self.best if self.select_mode == "max" else value < self.best):
            return False
        self.best, self.best_epoch = float(value), self.progress.global_epoch
        self.best_state = _cpu_copy(self.model.state_dict())
        return True

    def _train_epoch(self, batches, stage, optimizer, head_only: bool, cached: bool) -> float:
        """One pass over the training set; returns the mean loss (one device sync per epoch)."""
        model = self.model
        model.train()
        if head_only and stage.bn == "frozen":
            model.backbone.eval()
        total = torch.zeros((), device=self.device)
        n = 0
        for x, y in batches:
            with self.ac():
                if cached:
                    logits = model.head(x)
                elif head_only:
                    with torch.no_grad():
                        f = model.features(x.contiguous(memory_format=self.fmt))
                    logits = model.head(f.float())
                else:
                    step_begin()
                    logits = self.net(x.contiguous(memory_format=self.fmt))
                loss = stage.criterion(logits.float(), y, model)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * y.shape[0]
            n += y.shape[0]
        return float(total / max(n, 1))  # the sync point

    @torch.no_grad()
    def _features(self, batches, flip: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        self.model.eval()
        feats, labels = [], []
        for x, y in batches:
            x = x.contiguous(memory_format=self.fmt)
            with self.ac():
                feats.append(self.model.features(x.flip(-1) if flip else x).float())
            labels.append(y)
        return torch.cat(feats), torch.cat(labels)

    def _cached_batches(self, cache, loader, epoch: int, batch_size: int):
        feats, labels = cache.get(f"train-e{epoch}", lambda: self._features(loader), self.device)
        feats, labels = feats.to(self.device), labels.to(self.device)
        return [(feats[i:i + batch_size], labels[i:i + batch_size]) for i in range(0, len(labels), batch_size)]

    def logits(self, split: str, stage, features=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of the val or test split with the stage's TTA (from cached features when frozen)."""
        loader = self.eval_loader(getattr(self.data, split))
        if features is None:
            return collect_logits(self.net, loader, stage.tta_flip, self.ac, self.fmt)
        f, y = features.get(split, lambda: self._features(loader), self.device)
        with torch.no_grad(), self.ac():
            z = self.model.head(f.to(self.device)).float()
            if stage.tta_flip:
                f2, _ = features.get(f"{split}-flip", lambda: self._features(loader, flip=True), self.device)
                z = 0.5 * (z + self.model.head(f2.to(self.device)).float())
        return z, y.to(self.device)

    def _write_val_per_class(self, val: dict) -> None:
        """``per_class.csv`` with this epoch's validation accuracy per class (test: not evaluated);
        ``finish`` replaces it with the selected epoch's val and test."""
        data = self.data
        group_of = {c: g for g, cs in shot_groups(data.train_counts).items() for c in cs}
        write_per_class(self.out / "per_class.csv", [
            {"class": i, "name": data.class_names[i], "train_count": int(data.train_counts[i]), "group": group_of[i],
             "val_acc": val["per_class"][i], "test_acc": None} for i in range(data.num_classes)])

    def finish(self) -> dict:
        """Evaluate val and test once more; write per-class CSV and result.json."""
        data, last = self.data, self.stages[-1]
        last_epoch = {k: v for k, v in self.progress.history[-1].items() if k.startswith("val/")} \
            if self.progress.history else {}
        if self.best_state is not None:  # evaluate the selected (best validation) epoch's weights
            self.model.load_state_dict(self.best_state)  # (cached features of a frozen backbone stay valid)
        val_logits, val_labels = self.logits("val", last, self.features)
        test_logits, test_labels = self.logits("test", last, self.features)
        val = split_metrics(val_logits, val_labels, data.num_classes, data.train_counts)
        test = split_metrics(test_logits, test_labels, data.num_classes, data.train_counts)
        diag = diagnostics(test_logits, test_labels, data.num_classes)
        group_of = {c: g for g, cs in shot_groups(data.train_counts).items() for c in cs}
        per_class = [
            {"class": i, "name": data.class_names[i], "train_count": int(data.train_counts[i]), "group": group_of[i],
             "val_acc": val["per_class"][i], "test_acc": test["per_class"][i],
             "logit_magnitude": diag["magnitude"][i], "reg_std": diag["reg_std"][i]}
            for i in range(data.num_classes)
        ]
        selected = _prefixed("val", val).get(self.select_metric)
        best = self.best if self.best is not None else selected
        result = {**_prefixed("val", val), **_prefixed("test", test),
                  **{f"last/{k}": v for k, v in last_epoch.items()},
                  self.best_key: best, "epochs_run": self.progress.global_epoch,
                  "val_protocol": data.val_protocol, "per_class": per_class}
        if self.best_key != "best/val/acc":
            val_history = [h["val/acc"] for h in self.progress.history if "val/acc" in h]
            result["best/val/acc"] = max(val_history + [val["acc"]])
        if self.out is not None:
            write_confusion(self.out, test_labels, test_logits.argmax(dim=1), data.num_classes, data.class_names)
            with open_atomic(self.out / "per_class.csv", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(per_class[0]))
                writer.writeheader()
                writer.writerows(per_class)
            write_atomic(self.out / "result.json", json.dumps({k: v for k, v in result.items() if k != "per_class"},
                                                             indent=2))
        return result


def _prefixed(split: str, m: dict) -> dict:
    out = {f"{split}/acc": m["acc"]}
    for g in GROUPS:
        if m.get(g) is not None:
            out[f"{split}/{g}"] = m[g]
    return out
