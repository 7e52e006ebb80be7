"""Take the README's screenshots of the example hub: phone and desktop, light and dark.

Run from the repository: `.venv/bin/python docs/screenshots/take.py`. Needs
Debian's Chromium at /usr/bin/chromium and the `playwright` package (the test
extra). The site is built at a fixed moment, so the pictures only change when
the site or the theme does.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from hubgen.cli import main  # noqa: E402 (after the path is set)

NOW = "2023-05-20T12:00"  # mid-campaign: the hub is live, with drops and a next update
PAGE = "mental-health-awareness-2023/"
SHOTS = {
    "hub-phone-light.png": ({"width": 375, "height": 812}, "light"),
    "hub-phone-dark.png": ({"width": 375, "height": 812}, "dark"),
    "hub-desktop-light.png": ({"width": 1280, "height": 900}, "light"),
    "hub-desktop-dark.png": ({"width": 1280, "height": 900}, "dark"),
}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (API name)
        pass


@contextlib.contextmanager
def _serving(root: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def take() -> None:
    with tempfile.TemporaryDirectory() as tmp, _serving(Path(tmp)) as base:
        out = Path(tmp) / "site"
        code = main(
            [
                "build",
                "--site",
                str(REPO),
                "--out",
                str(out),
                "--now",
                NOW,
                "--base-url",
                base + "site/",
            ]
        )
        if code != 0:
            raise SystemExit(code)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for name, (viewport, scheme) in SHOTS.items():
                context = browser.new_context(viewport=viewport, color_scheme=scheme)
                page = context.new_page()
                page.goto(base + "site/" + PAGE)
                page.screenshot(path=str(HERE / name))
                context.close()
                print(f"wrote {HERE / name}")
            browser.close()


if __name__ == "__main__":
    take()
