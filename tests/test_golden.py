"""The fixture site's whole output, byte for byte, at a fixed moment.

Regenerate with `pytest tests/test_golden.py --update-goldens` after an
intended change, and say in the commit why the output changed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES, read_tree, run

GOLDEN = Path(__file__).parent / "golden" / "site"
NOW = "2023-05-10T12:00"


def build(out: Path) -> dict[str, bytes]:
    assert run("build", "--site", FIXTURES / "site", "--out", out, "--now", NOW) == 0
    return read_tree(out)


def test_output_matches_golden_tree(tmp_path: Path, update_goldens: bool) -> None:
    built = build(tmp_path / "out")
    if update_goldens:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(tmp_path / "out", GOLDEN)
    golden = read_tree(GOLDEN)
    assert sorted(built) == sorted(golden)
    for path, content in built.items():
        assert content == golden[path], f"{path} differs from tests/golden/site/{path}"


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    assert build(tmp_path / "a") == build(tmp_path / "b")


def test_rebuild_into_same_folder_is_identical(tmp_path: Path) -> None:
    first = build(tmp_path / "out")
    assert build(tmp_path / "out") == first
