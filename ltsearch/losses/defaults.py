"""The losses' default hyperparameters and modes: their one home, in plain Python (no torch).

The losses' signatures and the methods' ``Param`` defaults and choices (``ltsearch.methods``)
both read these, so the method registry declares its knobs without importing torch.
A dataset's paper values live in its preset (``ltsearch/presets``), not here.
"""

from __future__ import annotations

# KPS (papers/kps-loss-tpami.txt, Sec. 4.2): m_max on CIFAR-LT (eq. 29), s_base (eq. 30), n_base (eq. 26).
M_MAX, S_BASE, N_BASE = 0.5, 15.0, 50.0
GA_MODES = ("column", "row", "off")  # gradient adjustment: paper eq. 25 | authors' code | KPS w/o GA
MARGIN_MODES = ("paper", "code")  # m' of eq. 28 | the authors' flip of r

# LORT (papers: label over-smoothing delta in 0.98-0.99).
LORT_DELTA = 0.98

# LWR (Sec. 3.3): repulsion threshold on cosine similarity, temperature, trainable projection g.
LWR_THETA, LWR_TAU, LWR_PROJECTION = 0.4, 0.1, True

# Baselines.
FOCAL_GAMMA = 1.0  # focal loss (Lin et al.); 0 gives CE
LA_TAU = 1.0  # logit adjustment strength (Menon et al.)
EFFECTIVE_BETA = 0.9999  # effective-number beta (Cui et al.): class-balanced loss and DRW weights
CB_LOSSES = ("softmax", "focal")  # the class-balanced loss's base loss
LDAM_MAX_M, LDAM_S = 0.5, 30.0  # LDAM's largest margin and logit scale (Cao et al.)

__all__ = ["M_MAX", "S_BASE", "N_BASE", "GA_MODES", "MARGIN_MODES", "LORT_DELTA", "LWR_THETA",
           "LWR_TAU", "LWR_PROJECTION", "FOCAL_GAMMA", "LA_TAU", "EFFECTIVE_BETA", "CB_LOSSES", "LDAM_MAX_M",
           "LDAM_S"]
