"""The command line: exit codes, help, and real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, run


def test_help_documents_every_build_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("build", "--help") == 0
    out = capsys.readouterr().out
    for option in ("--site", "--out", "--now", "--preview", "--strict", "--base-url", "--force"):
        assert option in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["build", "--bogus"],
        ["frobnicate"],
        ["check", "--now", "not-a-time"],
        ["build", "--site", "/nonexistent/site"],
        ["check", "--format", "xml"],
    ],
)
def test_bad_command_lines_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_check_passes_on_the_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    """The fixture writes raw HTML on purpose: it is shown as text, with a warning."""
    assert run("check", "--site", FIXTURES / "site", "--now", "2023-05-10T12:00") == 0
    assert capsys.readouterr().err == (
        "content/drops/spring-2023/2023-05-08-live-chat.md:11:44: warning: raw HTML (<b>) "
        "is shown as text; set allow_html: true in site.yaml to use it as HTML\n"
        "0 errors, 1 warning\n"
    )


def test_check_json_format(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"content/pages/p.md": "---\ntitel: P\n---\n"})
    assert run("check", "--site", site, "--format", "json") == 1
    out = capsys.readouterr().out
    assert '"file": "content/pages/p.md"' in out and '"rule": "unknown-key"' in out


def test_a_bad_link_is_reported_wherever_it_is_written(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The same missing page and image, linked from two drops and twice in one:
    every place is reported (each target is judged once, not each link)."""
    body = "See [gone](/gone/) and ![a photo](/media/gone.png).\n"
    site = make_site(
        {
            "content/drops/may/2023-05-04-a.md": "---\ntitle: A\npublish_at: 2023-05-04\n"
            f"---\n{body}",
            "content/drops/may/2023-05-05-b.md": "---\ntitle: B\npublish_at: 2023-05-05\n"
            f"---\n{body}\n{body}",
        }
    )
    assert run("check", "--site", site, "--now", "2023-05-10T12:00") == 1
    lines = capsys.readouterr().err.splitlines()
    gone = [line.split(": error:")[0] for line in lines if "does not exist: /gone/" in line]
    photo = [line.split(": error:")[0] for line in lines if "missing media file" in line]
    a, b = "content/drops/may/2023-05-04-a.md", "content/drops/may/2023-05-05-b.md"
    assert gone == [f"{a}:5:12", f"{b}:5:12", f"{b}:7:12"]
    assert photo == [f"{a}:5:35", f"{b}:5:35", f"{b}:7:35"]
    assert lines[-1] == "6 errors, 0 warnings"


def test_strict_turns_warnings_into_errors(make_site: Callable[..., Path]) -> None:
    site = make_site({"content/drops/may/a.md": "---\ntitle: A\npublish_at: 2023-07-01\n---\n"})
    assert run("check", "--site", site) == 0
    assert run("check", "--site", site, "--strict") == 1


def test_base_url_is_required_for_build_only(
    make_site: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"site.yaml": "title: T\n"})
    assert run("check", "--site", site) == 0
    assert run("build", "--site", site, "--out", tmp_path / "o") == 1
    assert "site.yaml:1:1: error: missing base_url" in capsys.readouterr().err
    assert (
        run("build", "--site", site, "--out", tmp_path / "o", "--base-url", "https://e.org/x/") == 0
    )
    assert 'href="/x/help/"' in (tmp_path / "o/index.html").read_text()


def test_naive_now_is_in_the_site_time_zone(make_site: Callable[..., Path], tmp_path: Path) -> None:
    site = make_site(
        {
            "site.yaml": "title: T\nbase_url: https://e.org/\ntimezone: America/New_York\n",
            "content/drops/may/a.md": "---\ntitle: Hello drop\npublish_at: 2023-05-04 09:00\n---\n",
        }
    )
    assert run("build", "--site", site, "--out", tmp_path / "a", "--now", "2023-05-04T08:59") == 0
    assert not (tmp_path / "a/may/a").exists()
    assert run("build", "--site", site, "--out", tmp_path / "b", "--now", "2023-05-04T09:00") == 0
    assert (tmp_path / "b/may/a/index.html").is_file()
    assert run("build", "--site", site, "--out", tmp_path / "c", "--now", "2023-05-04T12:59Z") == 0
    assert not (tmp_path / "c/may/a").exists()


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_hubgen_command_runs_as_a_process(tmp_path: Path) -> None:
    hubgen = Path(sys.executable).with_name("hubgen")
    argv = [str(hubgen)] if hubgen.exists() else [sys.executable, "-m", "hubgen"]
    result = subprocess.run(
        [
            *argv,
            "build",
            "--site",
            str(FIXTURES / "site"),
            "--out",
            str(tmp_path / "o"),
            "--now",
            "2023-05-10T12:00",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built 31 files into ")
    assert (tmp_path / "o/index.html").is_file()


@pytest.mark.parametrize("now, status", [("2023-05-10T12:00", 0), ("tomorrow", 2)])
def test_the_command_exits_with_its_status_and_all_it_printed(
    tmp_path: Path, now: str, status: int
) -> None:
    """It ends without freeing its heap (`cli.console`): what it printed is flushed
    first, even to pipes, which Python buffers when not told otherwise."""
    env = {k: v for k, v in _env().items() if k != "PYTHONUNBUFFERED"}
    argv = [sys.executable, "-m", "hubgen", "build", "--site", str(FIXTURES / "site")]
    argv += ["--out", str(tmp_path / "o"), "--now", now]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == status
    if status == 0:
        assert result.stdout.startswith("built 31 files into ") and result.stdout.endswith("\n")
        assert "raw HTML (<b>) is shown as text" in result.stderr  # the fixture's warning
    else:
        assert result.stderr.startswith("hubgen: error: --now: ")
        assert result.stderr.endswith("\n") and not result.stdout


def test_a_build_run_as_a_command_hands_its_work_over_instead_of_freeing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hubgen build` as a command (`console`) ends its process without freeing
    the heap, so the build hands what it made to it (`pipeline.build`'s `hold`)
    rather than let it go object by object; run by a process that goes on
    (`main`), it lets it go. Both are the same build to the user."""
    from hubgen import cli, pipeline

    told: list[object] = []

    def build(*args: object, **kwargs: object) -> pipeline.Built:
        told.append(kwargs["hold"])
        return pipeline.build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "build", build)
    argv = ["build", "--site", str(FIXTURES / "site"), "--out", str(tmp_path / "o")]
    argv += ["--now", "2023-05-10T12:00"]
    assert cli.main(argv) == 0
    assert told == [None]
    # The command, in a process of its own: what each build held, as it ends.
    show = (
        "import sys\n"
        "from hubgen import cli, pipeline\n"
        "def build(*args, **kwargs):\n"
        "    built = pipeline.build(*args, **kwargs)\n"
        "    held = [type(o).__name__ for work in kwargs['hold'] for o in work]\n"
        "    print('held', *held, file=sys.stderr)\n"
        "    return built\n"
        "cli.build = build\n"
        "cli.console(sys.argv[1:])\n"
    )
    for extra, held in [
        (["--no-cache"], "held Checked Sources Claim "),  # and the output's listing, the cache
        ([], "held Sources Previous Claim"),  # up to date: the other way out
    ]:
        done = subprocess.run(
            [sys.executable, "-c", show, *argv, *extra],
            capture_output=True,
            text=True,
            env=_env(),
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert any(line.startswith(held) for line in done.stderr.splitlines())
        said = "built 31 files" if extra else f"{tmp_path / 'o'} is up to date"
        assert done.stdout.startswith(said)


def test_a_reader_gone_before_the_output_is_flushed_makes_status_120(tmp_path: Path) -> None:
    """As Python's own exit does when flushing the standard streams fails."""
    env = {k: v for k, v in _env().items() if k != "PYTHONUNBUFFERED"}
    argv = [sys.executable, "-m", "hubgen", "schedule", "--site", str(FIXTURES / "site")]
    read, write = os.pipe()
    os.close(read)  # nobody will read what it prints
    try:
        result = subprocess.run(argv, stdout=write, stderr=subprocess.PIPE, env=env, check=False)
    finally:
        os.close(write)
    assert result.returncode == 120


def test_build_py_wraps_hubgen_build(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "build.py"),
            "--site",
            str(FIXTURES / "site"),
            "--out",
            str(tmp_path / "o"),
            "--now",
            "2023-05-10T12:00",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o/spring-2023/welcome/index.html").is_file()


def test_content_errors_exit_1_without_traceback(tmp_path: Path) -> None:
    site = tmp_path / "s"
    (site / "content/pages").mkdir(parents=True)
    (site / "site.yaml").write_text("title: T\nbase_url: https://e.org/\n")
    (site / "content/pages/p.md").write_bytes(b"---\ntitle: \xff\n---\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubgen",
            "build",
            "--site",
            str(site),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "content/pages/p.md:2:8: error: the file is not UTF-8 (byte 0xff); save it as UTF-8\n"
        "1 error, 0 warnings\n"
    )


def test_a_naive_now_that_does_not_exist_in_the_site_time_zone_is_a_usage_error(
    make_site: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site = make_site({"site.yaml": "title: T\ntimezone: America/New_York\n"})
    assert run("check", "--site", site, "--now", "2023-03-12T02:30") == 2
    assert capsys.readouterr().err == (
        "hubgen: error: --now: 2023-03-12 02:30 does not exist in America/New_York: that night "
        "the clocks go forward from 02:00 EST to 03:00 EDT; use 01:59 or 03:00, or give a UTC "
        "offset\n"
    )
