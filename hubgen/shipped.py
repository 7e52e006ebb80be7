"""Where hubgen's own themes are: beside the package when installed, else in the checkout.

A module of its own because both loading a site and stamping the build cache
need it, and the cache must not import the loader (a build that is up to date
loads no site).
"""

from __future__ import annotations

from pathlib import Path


def _shipped_themes() -> Path:
    installed = Path(__file__).with_name("themes")
    return installed if installed.is_dir() else Path(__file__).parents[1] / "themes"


SHIPPED_THEMES = _shipped_themes()
