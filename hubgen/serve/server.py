"""The HTTP side of `hubgen serve`: finished builds, pretty URLs, the site's 404 page.

A standard-library `ThreadingHTTPServer`, one thread per request. Every
response comes from one build: a request takes the current build when it
starts and that folder stays until the request is done. HTML responses get
the live-reload script and, after a failed rebuild, the problems overlay
(`reload.inject`); nothing is added to the files themselves.
"""

from __future__ import annotations

import ipaddress
import mimetypes
import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hubgen import __version__
from hubgen.serve.builds import Builds, State
from hubgen.serve.reload import EVENTS_PATH, error_page, inject, send_events
from hubgen.write import MANIFEST

# Fixed here rather than read from the system's mime.types, which differs between machines.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".pdf": "application/pdf",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
HTML = CONTENT_TYPES[".html"]


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Redirect:
    location: str


def locate(root: Path, url_path: str) -> Path | Redirect | None:
    """The file in the build at `root` that answers `url_path`, as a static host would.

    `/campaign/` is `campaign/index.html`; `/campaign` redirects to `/campaign/`.
    """
    parts = [p for p in unquote(url_path).split("/") if p]
    if any(p in (".", "..") or "\\" in p or "\0" in p for p in parts) or parts == [MANIFEST]:
        return None
    target = root.joinpath(*parts)
    if target.is_dir():
        if not url_path.endswith("/"):
            return Redirect(url_path + "/")
        target = target / "index.html"
    return target if target.is_file() else None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PreviewServer(ThreadingHTTPServer):
    """Serves `builds`; on `close_connections` drops every open connection so threads end."""

    daemon_threads = False  # so server_close() joins every request thread
    builds: Builds  # set once the port is known and the first build exists

    def __init__(self, host: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((host, port), PreviewHandler)

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        # Recorded here, in the serving thread, so that once shutdown() has returned
        # every accepted connection is known to close_connections().
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection (idle browser connections, event streams)."""
        with self._open_lock:
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by the client

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):  # a client going away is not worth a line
            print(f"hubgen: error answering a request: {exc!r}", file=sys.stderr, flush=True)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = f"hubgen/{__version__}"

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the terminal is for build results, not for every request."""

    def _answer(self, *, body: bool) -> None:
        parts = urlsplit(self.path)
        if parts.path == EVENTS_PATH:
            self._events(body=body)
            return
        with self.server.builds.current() as state:
            if state.root is None:
                self._send(500, HTML, error_page(state), body=body)
                return
            found = locate(state.root, parts.path)
            if isinstance(found, Redirect):
                query = f"?{parts.query}" if parts.query else ""
                self._redirect(found.location + query)
            elif found is None:
                self._not_found(state, body=body)
            else:
                self._file(found, state, status=200, body=body)

    def _file(self, path: Path, state: State, *, status: int, body: bool) -> None:
        kind = content_type(path)
        data = path.read_bytes()
        if kind == HTML:
            data = inject(data, state)
        self._send(status, kind, data, body=body)

    def _not_found(self, state: State, *, body: bool) -> None:
        assert state.root is not None
        page = state.root / "404.html"
        if page.is_file():
            self._file(page, state, status=404, body=body)
        else:
            self._send(404, "text/plain; charset=utf-8", b"404 Not Found\n", body=body)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, kind: str, data: bytes, *, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")  # always the latest build
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _events(self, *, body: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not body:
            return

        def write(data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()

        try:
            send_events(write, self.server.builds)
        except OSError:
            pass  # the page was closed or navigated away
