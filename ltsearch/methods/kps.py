"""KPS loss with gradient adjustment (KPS paper, eqs. 15, 25-30; METHODS §1)."""

from __future__ import annotations

from ltsearch.losses.defaults import GA_MODES, M_MAX, MARGIN_MODES, N_BASE, S_BASE
from ltsearch.methods.base import Method, Param
from ltsearch.methods.registry import METHODS


@METHODS.register("kps")
class KPS(Method):
    head = "cosine"
    description = ("Key point sensitive loss + gradient adjustment (ga: column = paper eq. 25, "
                   "row = authors' code, off = KPS w/o GA)")
    params = {
        "m_max": Param("m_max", "float", M_MAX, 0.0, 2.0, help="largest margin (eq. 29)"),
        "s_base": Param("s_base", "float", S_BASE, 0.0, 100.0, low_open=True, help="base scale (eq. 30)"),
        "n_base": Param("n_base", "float", N_BASE, 1.0, 1e6, low_open=True,
                        help="radius base (eq. 26; > 1 so that min(r') = log(n_base) > 0)"),
        "ga": Param("ga", "categorical", "column", choices=GA_MODES, help="gradient adjustment mode"),
        "ga_start": Param("ga_start", "float", 0.6, 0.0, 1.0, active_when=("ga", ("column", "row")),
                          help="GA start I_0 as a fraction of the run (authors: 120/200)"),
        "margins": Param("margins", "categorical", "paper", choices=MARGIN_MODES,
                         help="m' of eq. 28 (paper) or the authors' flip of r (code)"),
    }

    def criterion(self, p, counts, feat_dim):
        # the torch modules load here, when a trial builds its stages (the registry stays light)
        from ltsearch.losses.kps import KPSLoss
        from ltsearch.methods.criteria import KPSCriterion

        loss = KPSLoss(counts, m_max=p["m_max"], s_base=p["s_base"], n_base=p["n_base"], ga=p["ga"],
                       margins=p["margins"])
        return KPSCriterion(loss, p["ga_start"])
