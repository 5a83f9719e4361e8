"""YAML rejected by its reader (``ltsearch/yamlio.py``): malformed, binary, code tags, and inputs over
the size / nesting / alias-expansion limits, in a config, a space and a ``--set`` value."""

from __future__ import annotations

import pytest

from .harness import alias_bomb, cfg, check_case, deep, text

PWN = '!!python/object/apply:os.system ["touch pwned"]\n'

CASES = [
    ("yaml-malformed", lambda t: ["train", "--config", text(t, "m.yaml", "epochs: [1, 2\nseed: 0\n")],
     ["m.yaml", "invalid YAML", "line"]),
    ("yaml-not-mapping", lambda t: ["train", "--config", text(t, "l.yaml", "- 1\n- 2\n")], ["l.yaml", "mapping"]),
    ("yaml-binary", lambda t: ["train", "--config", text(t, "b.yaml", b"\xff\xfe\x00\x81")], ["b.yaml"]),
    ("yaml-python-tag", lambda t: ["train", "--config", text(t, "pwn.yaml", PWN)], ["pwn.yaml", "python/object"]),
    ("yaml-python-tag-nested", lambda t: ["train", "--config", text(t, "pwn2.yaml", "epochs: " + PWN)], ["pwn2.yaml"]),
    ("space-python-tag", lambda t: ["run", "kps", "--space", text(t, "pwn.yaml", PWN)], ["pwn.yaml"]),
    ("config-missing-file", lambda t: ["train", "--config", "nope.yaml"], ["nope.yaml", "no such file"]),
    # ---- bounded: alias bombs, recursion, depth, size ----------------------------------------------
    ("config-alias-bomb", lambda t: ["train", "--config", text(t, "bomb.yaml", alias_bomb())],
     ["bomb.yaml", "aliases"]),
    ("space-alias-bomb", lambda t: ["run", "kps", "--space", text(t, "bomb.yaml", "method: kps\n" + alias_bomb())],
     ["bomb.yaml", "aliases"]),
    ("set-alias-bomb", lambda t: ["train", "--config", cfg(t), "--set",
                                  "method.params=" + "{" + alias_bomb().replace("\n", ", ")[:-2] + "}"],
     ["--set method.params", "aliases"]),
    ("config-recursive-alias", lambda t: ["train", "--config", text(t, "rec.yaml", "a: &a [*a]\n")],
     ["rec.yaml", "recursive"]),
    ("config-1000-deep-block", lambda t: ["train", "--config", text(t, "deep.yaml", deep(1000))],
     ["deep.yaml", "nesting deeper than 100"]),
    ("config-3000-deep-flow", lambda t: ["train", "--config", text(t, "deep.yaml", deep(3000, flow=True))],
     ["deep.yaml", "nesting deeper than 100"]),
    ("space-3000-deep", lambda t: ["run", "kps", "--space", text(t, "deep.yaml", "method: kps\nbase:\n" + deep(3000, flow=True))],
     ["deep.yaml", "nesting"]),
    ("config-50MB", lambda t: ["train", "--config", text(t, "big.yaml", "# " + "x" * 50_000_000 + "\n")],
     ["big.yaml", "larger than 1 MB"]),
    ("space-2MB-of-keys", lambda t: ["run", "kps", "--space", text(t, "big.yaml", "".join(
        f"k{i}: {i}\n" for i in range(200_000)))], ["big.yaml", "larger than 1 MB"]),
    ("config-huge-value-quoted-short", lambda t: ["train", "--config", text(t, "v.yaml", "epochs: " + "9" * 500_000)],
     ["v.yaml", "unreadable value"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_yaml_one_line_exit_2_writes_nothing(case, tmp_path):
    check_case(case, tmp_path)
