"""Live reload and the error overlay, added to HTML responses only.

The built files on disk never contain any of this: the server adds a small
script to each HTML page it sends, which listens on a server-sent-events
stream and reloads the page when a rebuild (good or bad) has finished. While
the latest rebuild failed, each page also gets an overlay listing every
problem, escaped, so an author sees what to fix without looking at the
terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape

from hubgen.diagnostics import Diagnostic, count_line
from hubgen.serve.builds import Builds, State

EVENTS_PATH = "/__hubgen__/events"  # not a possible page: slugs have no "_"
KEEPALIVE_SECONDS = 15.0

_SCRIPT = """<script>/* hubgen serve: live reload (not part of the built site) */
(function () {
  var shown = %s;
  var events = new EventSource(%s);
  events.addEventListener("build", function (event) {
    if (event.data !== shown) { events.close(); location.reload(); }
  });
})();
</script>
"""

_OVERLAY_STYLE = (
    "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;max-height:60vh;"
    "overflow:auto;margin:0;padding:1rem 1.25rem;background:#fff5f5;color:#1a1a1a;"
    "border-top:4px solid #b00020;font:16px/1.5 system-ui,sans-serif;text-align:left;"
    "box-shadow:0 -2px 12px rgba(0,0,0,.3)"
)


def inject(page: bytes, state: State) -> bytes:
    """The page with the reload script, and the problems overlay if the last build failed."""
    extra = (_script(state.generation) + overlay(state.problems)).encode("utf-8")
    at = page.rfind(b"</body>")
    if at < 0:
        return page + extra
    return page[:at] + extra + page[at:]


def _script(generation: str) -> str:
    return _SCRIPT % (json.dumps(generation), json.dumps(EVENTS_PATH))


def overlay(problems: tuple[Diagnostic, ...]) -> str:
    """A panel listing every problem as `path:line:col: severity: message`, escaped."""
    if not problems:
        return ""
    items = "".join(
        f'<li><code style="font:inherit;font-family:monospace">{escape(str(d.span))}</code>'
        f": {escape(d.severity)}: {escape(d.message)}</li>\n"
        for d in problems
    )
    return (
        f'<section id="hubgen-problems" role="alert" aria-labelledby="hubgen-problems-title" '
        f'style="{_OVERLAY_STYLE}">\n'
        f'<h2 id="hubgen-problems-title" style="margin:0 0 .5rem;font-size:1.2rem;'
        f'color:#b00020">The site does not build: {escape(count_line(list(problems)))}</h2>\n'
        '<p style="margin:0 0 .5rem">You are seeing the last version that built. Fix these '
        "and save: this page reloads by itself.</p>\n"
        f'<ol style="margin:0;padding-left:1.5rem">\n{items}</ol>\n</section>\n'
    )


def error_page(state: State) -> bytes:
    """What every address shows while no build has succeeded yet."""
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>The site does not build yet · hubgen serve</title>\n</head>\n<body>\n"
        "<main><h1>The site does not build yet</h1>\n"
        "<p>hubgen found problems in the site's files. They are listed below and in the "
        "terminal; this page reloads by itself when you save a fix.</p></main>\n"
        "</body>\n</html>\n"
    )
    return inject(page.encode("utf-8"), state)


def send_events(write: Callable[[bytes], None], builds: Builds) -> None:
    """Stream a `build` event with the current generation now and after every rebuild.

    Returns when the server stops; a client that went away raises OSError from `write`.
    """
    write(b"retry: 1000\n\n")
    seen: str | None = None
    while (state := builds.wait_change(seen, KEEPALIVE_SECONDS)) is not None:
        if state.generation == seen:
            write(b": still here\n\n")  # keeps proxies and idle timeouts away
        else:
            seen = state.generation
            write(f"event: build\ndata: {seen}\n\n".encode())
