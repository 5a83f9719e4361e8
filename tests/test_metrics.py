import math

import numpy as np
import pytest
import torch

from ltsearch.errors import LTSearchError
from ltsearch.metrics import (
    evaluate_predictions,
    format_group,
    logit_diagnostics,
    shot_groups,
)


def test_shot_group_boundaries():
    assert shot_groups([101, 100, 20, 19, 5000, 0]) == {
        "many": [0, 4],
        "medium": [1, 2],
        "few": [3, 5],
    }


def test_evaluate_predictions_hand_made():
    # 4 classes, training counts [200, 50, 10, 5] -> many {0}, medium {1}, few {2, 3}.
    # eval: class 0: 4 samples, 3 right; class 1: 2 samples, 1 right;
    #       class 2: 2 samples, 2 right; class 3: 2 samples, 0 right.
    labels = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3]
    preds = [0, 0, 0, 1, 1, 0, 2, 2, 0, 2]
    r = evaluate_predictions(torch.tensor(preds), torch.tensor(labels), 4, [200, 50, 10, 5], confusion=True)
    assert r["acc"] == pytest.approx(60.0)  # 6 / 10
    assert r["per_class"] == pytest.approx([75.0, 50.0, 100.0, 0.0])
    assert r["many"] == pytest.approx(75.0)
    assert r["medium"] == pytest.approx(50.0)
    assert r["few"] == pytest.approx(50.0)  # mean(100, 0), not 2 / 4 samples by chance
    assert r["confusion"] == [[3, 1, 0, 0], [1, 1, 0, 0], [0, 0, 2, 0], [1, 0, 1, 0]]


def test_empty_group_is_none_not_zero():
    r = evaluate_predictions(np.array([0, 1, 1]), np.array([0, 1, 1]), 2, [5000, 500])
    assert r["many"] == 100.0 and r["medium"] is None and r["few"] is None
    assert format_group(r["medium"]) == "—" and format_group(r["many"]) == "100.00"


def test_class_absent_from_eval_set():
    # class 2 (few) has no eval samples: its accuracy is None and the few group is None;
    # class 1 (medium) is present, never predicted right.
    r = evaluate_predictions([0, 0, 2], [0, 1, 1], 3, [300, 40, 3])
    assert r["per_class"][0] == 100.0 and r["per_class"][1] == 0.0 and r["per_class"][2] is None
    assert r["acc"] == pytest.approx(100 / 3)
    assert r["medium"] == 0.0 and r["few"] is None


def test_train_counts_length_checked():
    with pytest.raises(LTSearchError):
        evaluate_predictions([0], [0], 2, [10])


def test_logit_diagnostics_hand_made():
    # 3 samples, 2 classes; labels [0, 0, 1].
    z = torch.tensor([[3.0, 1.0], [1.0, 0.0], [0.0, 2.0]])
    d = logit_diagnostics(z, torch.tensor([0, 0, 1]), 2)
    # class 0: positives z_0 = {3, 1} mean 2, negatives {0} mean 0 -> L_0 = 2;
    #   std over all z_0 = {3, 1, 0}: mean 4/3, var = (25/9 + 1/9 + 16/9) / 3 = 14/9.
    # class 1: positives {2} mean 2, negatives {1, 0} mean 0.5 -> L_1 = 1.5;
    #   std over {1, 0, 2}: var = 2/3.
    assert d["magnitude"] == pytest.approx([2.0, 1.5])
    assert d["std"] == pytest.approx([math.sqrt(14 / 9), math.sqrt(2 / 3)])
    assert d["reg_std"] == pytest.approx([math.sqrt(14 / 9) / 2.0, math.sqrt(2 / 3) / 1.5])
    assert d["pos_mean"] == pytest.approx([2.0, 2.0]) and d["neg_mean"] == pytest.approx([0.0, 0.5])
    assert d["pos_std"] == pytest.approx([1.0, 0.0]) and d["neg_std"] == pytest.approx([0.0, 0.5])


def test_logit_diagnostics_absent_class():
    d = logit_diagnostics(np.array([[1.0, 0.0], [2.0, 0.0]]), np.array([0, 0]), 2)
    assert d["magnitude"] == [None, None] and d["reg_std"] == [None, None]
    assert d["std"] == pytest.approx([0.5, 0.0])
