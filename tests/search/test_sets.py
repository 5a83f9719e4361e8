"""`--set` on a knob of the search space pins that knob (the user's explicit value wins)."""

from ltsearch.search.engine import SearchRequest, prepare


def test_set_on_a_fixed_and_a_searched_knob_pins_both():
    req = SearchRequest(method="lort", dataset="cifar10-lt", imbalance_ratio=100,
                        sets=["method.params.bn=frozen", "method.params.stage2_epochs=4", "optim.lr=0.05",
                              "model.name=resnet8"])
    space, base = prepare(req)
    dims = {d.name: d for d in space.dims}
    assert dims["bn"].kind == "fixed" and dims["bn"].value == "frozen"  # space file: fixed 'train'
    assert dims["stage2_epochs"].value == 4  # space file: fixed 20
    assert dims["optim.lr"].kind == "fixed" and dims["optim.lr"].value == 0.05  # space file: searched
    cfg = space.config_for(space.paper_point(base), base)
    assert cfg["method"]["params"]["bn"] == "frozen" and cfg["method"]["params"]["stage2_epochs"] == 4
    assert cfg["optim"]["lr"] == 0.05 and cfg["model"]["name"] == "resnet8"


def test_set_pins_a_knob_by_its_config_path():
    """The shared knob ``optim.gamma`` lives at ``schedule.gamma``: ``--set schedule.gamma=0.2`` pins it
    (it stayed searched, and every trial overwrote the user's value)."""
    req = SearchRequest(method="kps", dataset="cifar10-lt", imbalance_ratio=100, params=["optim.gamma=0.05:0.5"],
                        sets=["schedule.gamma=0.2"])
    space, base = prepare(req)
    gamma = next(d for d in space.dims if d.path == "schedule.gamma")
    assert gamma.kind == "fixed" and gamma.value == 0.2 and not gamma.searched
    assert space.config_for(space.paper_point(base), base)["schedule"]["gamma"] == 0.2
