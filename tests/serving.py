"""A real `hubgen serve` process on a copy of the fixture site, for the serve tests.

Tests wait on what the server says, never on the clock: `Served.rebuilt()`
reads the server's own event stream until the next build has finished.
"""

from __future__ import annotations

import http.client
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from conftest import FIXTURES

TIMEOUT = 60.0  # seconds: a generous bound on any one wait, not a delay
NOW = "2023-05-10T12:00"
WELCOME = "content/drops/spring-2023/2023-05-01-welcome.md"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Served:
    """`hubgen serve --port 0` running on `site`; stop() ends it as Ctrl-C would."""

    def __init__(self, site: Path, *args: str, tmp: Path) -> None:
        self.site = site
        env = {**os.environ, "TMPDIR": str(tmp)}  # where the server keeps its builds
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hubgen", "serve", "--site", str(site), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self.out: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True)),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False)),
        ]
        for reader in self._readers:
            reader.start()
        self.url = self._wait_for_url()
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname or "", parts.port or 80

    def _read(self, stream: IO[str], lines: list[str], announce: bool) -> None:
        for line in stream:
            lines.append(line)
            if announce:
                self.out.put(line)

    def _wait_for_url(self) -> str:
        while True:
            try:
                line = self.out.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no URL printed; stderr: {''.join(self.stderr)}") from None
            if found := re.search(r" at (http://\S+/) ", line):
                return found.group(1)

    def get(self, path: str, method: str = "GET") -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return Response(resp.status, resp.headers, resp.read().decode("utf-8"))
        finally:
            conn.close()

    @contextmanager
    def events(self) -> Iterator[Events]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            conn.request("GET", "/__hubgen__/events")
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "text/event-stream"
            yield Events(resp)
        finally:
            conn.close()

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.site / rel
        text = path.read_text("utf-8")
        assert old in text
        path.write_text(text.replace(old, new), "utf-8")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=TIMEOUT)
        finally:
            self.kill()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=TIMEOUT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class Events:
    """The server-sent event stream: one `build` event per finished build."""

    def __init__(self, resp: http.client.HTTPResponse) -> None:
        self._resp = resp
        self.generation = self._next()  # sent at once: the build now shown

    def _next(self) -> str:
        event = data = None
        while True:
            line = self._resp.readline().decode("utf-8")
            assert line, "the event stream ended"
            line = line.rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and event == "build" and data is not None:
                return data

    def rebuilt(self) -> str:
        """Wait for the next finished build (good or bad); return its generation."""
        self.generation = self._next()
        return self.generation


def copy_fixture(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", site)
    (tmp_path / "tmp").mkdir()
    return site
