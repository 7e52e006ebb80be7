"""Shared helpers: inline mini-sites, CLI runs, and the golden-file switch."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from hubgen.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parents[1]

MINIMAL_SITE = {
    "site.yaml": "title: Mini\nbase_url: https://example.org/\n",
    "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n",
}
# An organisation with a crisis line: the help block has one to show (SM030).
CRISIS_LINE = """\
---
name: Lifeline
website: https://lifeline.example
helplines:
  - name: Lifeline
    phone: "988"
    crisis: true
---
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite tests/golden/ from the current output (say why in the commit)",
    )


@pytest.fixture(autouse=True, scope="session")
def _cold_fixture_caches() -> None:
    """Tests build the sites under tests/ in place, which leaves a build cache in each
    (git ignores them): start every session from none, so a run does not depend on
    the one before it."""
    for cache in Path(__file__).parent.rglob(".hubgen-cache"):
        if cache.is_dir() and "node_modules" not in cache.parts:
            shutil.rmtree(cache)


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def write_site(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (path -> text, dedented, or bytes) under `root`."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), "utf-8")
    return root


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[..., Path]:
    """make_site({path: text}) -> a site folder with MINIMAL_SITE plus those files."""

    def make(files: dict[str, str | bytes], *, minimal: bool = True) -> Path:
        site = tmp_path / "site"
        return write_site(site, {**(MINIMAL_SITE if minimal else {}), **files})

    return make


def run(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
