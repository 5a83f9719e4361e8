"""LORT: decoupled training, then classifier re-training with label over-smoothing (METHODS §2)."""

from __future__ import annotations

from ltsearch.config import ScheduleConfig
from ltsearch.losses.defaults import LORT_DELTA
from ltsearch.methods.base import Method, Param, Stage
from ltsearch.methods.registry import METHODS


@METHODS.register("lort")
class LORT(Method):
    """Stage 1: CE with the config's optimiser (strong weight decay). Stage 2: only the final
    linear layer, backbone frozen, trained with ``LORTLoss(delta)``; flip TTA at test time."""

    head = "linear"
    description = ("Logits retargeting: CE stage 1, then linear-classifier re-training with label "
                   "smoothing delta (0.98-0.99)")
    params = {
        "delta": Param("delta", "float", LORT_DELTA, 0.0, 1.0, high_open=True, help="label smoothing delta"),
        "stage2_epochs": Param("stage2_epochs", "int", 20, 1, 10_000, help="stage-2 epochs"),
        "stage2_lr": Param("stage2_lr", "float", 5e-4, 0.0, 10.0, low_open=True, help="stage-2 learning rate"),
        "stage2_wd": Param("stage2_wd", "float", 0.0, 0.0, 1.0, help="stage-2 weight decay"),
        "stage2_batch_size": Param("stage2_batch_size", "int", 64, 1, 65536, help="stage-2 batch size"),
        "bn": Param("bn", "categorical", "frozen", choices=("frozen", "train"),
                    help="stage-2 batch-norm: frozen (paper: fixed backbone; exact feature cache) or "
                         "train (authors' code: statistics keep moving)"),
        "tta_flip": Param("tta_flip", "bool", True, help="average logits with the flipped image"),
        "backbone": Param("backbone", "path", None,
                          help="start stage 2 from this stage-1 checkpoint (skips stage 1)"),
    }

    def criterion(self, p, counts, feat_dim):
        # the torch modules load here, when a trial builds its stages (the registry stays light)
        from ltsearch.losses import LORTLoss
        from ltsearch.methods.criteria import Criterion

        return Criterion(LORTLoss(len(counts), delta=p["delta"]))

    def stage_epochs(self, cfg, p):
        return [p["stage2_epochs"]] if p["backbone"] else [cfg.epochs, p["stage2_epochs"]]

    def stages(self, cfg, p, counts, feat_dim):
        from ltsearch.losses import CrossEntropyLoss
        from ltsearch.methods.criteria import Criterion

        stage1 = Stage(name="stage1", epochs=cfg.epochs, lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay,
                       momentum=cfg.optim.momentum, batch_size=cfg.optim.batch_size, schedule=cfg.schedule,
                       criterion=Criterion(CrossEntropyLoss(counts)), tta_flip=cfg.tta_flip)
        stage2 = Stage(name="stage2", epochs=p["stage2_epochs"], lr=p["stage2_lr"], weight_decay=p["stage2_wd"],
                       momentum=cfg.optim.momentum, batch_size=p["stage2_batch_size"],
                       schedule=ScheduleConfig(name="cosine", warmup_epochs=0.0, milestones=[]),
                       criterion=self.criterion(p, counts, feat_dim), train_part="head", bn=p["bn"],
                       tta_flip=p["tta_flip"])
        return [stage1, stage2]
