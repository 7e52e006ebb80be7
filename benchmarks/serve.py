"""How long `hubgen serve` takes from saving a drop to serving the new page.

    python benchmarks/serve.py            # N = 1,000 drops, 5 saves
    python benchmarks/serve.py --size 10000 --saves 3

It generates the synthetic site (generate.py) and serves it once, as an author
did the day before (`python -m hubgen serve` on a free port, stopped after its
first build), so that the build cache already knows every page. It then starts
the server again on the same port, waits for the first build, and appends a
line to one published drop, several times. Each time it does what an open preview tab does: it
listens on the server's event stream, and when a new build is announced it
fetches the page again, until the line is in it. The figure is what the author
waits for, short of the browser drawing the page: the watcher's quiet period,
the rebuild, the swap, the event and the page's reload. (Polling the page
instead would slow the very rebuild it times: the server answers each request
while it builds.)
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from generate import NOW, generate

from hubgen.serve.reload import EVENTS_PATH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="drops (default 1,000)")
    parser.add_argument("--saves", type=int, default=5, help="saves to time (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hubgen-serve-bench-") as tmp:
        site = Path(tmp) / "site"
        generate(args.size, site)
        times = measure(site, args.saves)
    shown = ", ".join(f"{t:.2f}" for t in times)
    print(
        f"hubgen serve, {args.size:,} drops: save to served page, median "
        f"{statistics.median(times):.2f} s (runs: {shown} s)"
    )


def measure(site: Path, saves: int) -> list[float]:
    port = _free_port()
    argv = [sys.executable, "-m", "hubgen", "serve", "--site", site, "--port", port, "--now", NOW]
    yesterday, _ = _serve(argv)  # stopped as soon as it serves
    yesterday.terminate()
    yesterday.wait(timeout=30)
    server, address = _serve(argv)
    try:
        drop = _published_drop(site)
        url = f"{address}{drop.parent.name}/{re.sub(r'^[0-9-]{11}', '', drop.stem)}/"
        times = []
        for k in range(saves):
            marker = f"Benchmark marker {k} {time.time_ns()}"
            with urllib.request.urlopen(address + EVENTS_PATH.lstrip("/"), timeout=120) as events:
                shown = _next_build(events)  # the stream starts with the build on show
                start = time.perf_counter()
                drop.write_text(drop.read_text("utf-8") + f"\n{marker}\n", "utf-8")
                while True:
                    generation = _next_build(events)
                    if generation != shown:  # as the page's script does: reload
                        shown = generation
                        if marker in _get(url):
                            break
                times.append(time.perf_counter() - start)
        return times
    finally:
        server.terminate()
        server.wait(timeout=30)


def _serve(argv: list[Any]) -> tuple[subprocess.Popen[str], str]:
    """A server started with `argv` and its address, once it serves (its first build done)."""
    server = subprocess.Popen(
        [str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        return server, _address(server)
    except BaseException:
        server.kill()
        server.wait(timeout=30)
        raise


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _next_build(events: Any) -> str:
    """The generation in the next `build` event of a server-sent-events stream."""
    event = None
    for raw in events:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:") and event == "build":
            return line.partition(":")[2].strip()
    raise RuntimeError("the event stream ended")


def _address(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    for line in server.stdout:
        found = re.search(r"serving .* at (http://\S+/)", line)
        if found:
            return found.group(1)
    raise RuntimeError("hubgen serve exited before serving")


def _published_drop(site: Path) -> Path:
    """The newest drop of the oldest campaign: published at NOW whatever N is."""
    campaigns = sorted((site / "content" / "drops").iterdir())
    return sorted(campaigns[0].glob("*.md"))[-1]


def _get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode("utf-8")
    except urllib.error.URLError:
        return ""


if __name__ == "__main__":
    main()
