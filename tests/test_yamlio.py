"""YAML 1.2 scalars through ltsearch's one safe loader."""

import pytest
import yaml

from ltsearch.yamlio import safe_load


@pytest.mark.parametrize("text,value", [
    ("off", "off"), ("on", "on"), ("yes", "yes"), ("no", "no"),  # YAML 1.1 booleans stay words
    ("true", True), ("False", False),
    ("1e-4", 1e-4), ("1.5E3", 1500.0), (".5e2", 50.0), ("-2e+2", -200.0), ("0.1", 0.1), ("5", 5),
    (".e0", ".e0"), ("e5", "e5"), ("1e", "1e"),  # not numbers
])
def test_scalars(text, value):
    assert safe_load(f"k: {text}")["k"] == value


def test_code_tags_are_refused():
    with pytest.raises(yaml.YAMLError):
        safe_load('x: !!python/object/apply:os.system ["true"]')
