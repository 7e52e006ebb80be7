"""Hostile and broken input: a clear diagnostic for each, never a traceback or a crash.

tests/hostile/<case>/ holds the nasty files of one case; they are laid over a
minimal valid site (a site.yaml and a May campaign) and checked. expected.txt
is the exact stderr of `hubgen check --now 2023-05-10T12:00`; `build` must
print the same and, when there is an error, write nothing. Inputs that cannot
live in git (symlinks, a 50 MB file, names with control characters or '?')
are made by the tests below.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import read_tree, write_site

from hubgen.cli import main
from hubgen.load import MAX_TEXT_BYTES

HOSTILE = Path(__file__).parent / "hostile"
NOW = "2023-05-10T12:00"
BASE = {
    "site.yaml": "title: Hostile\nbase_url: https://example.org/\n",
    "campaigns/may.yaml": "title: May\nstarts: 2023-05-01\nends: 2023-05-31\n",
}
CASES = sorted(p.name for p in HOSTILE.iterdir() if p.is_dir())


def lay_out(case: str, site: Path) -> Path:
    write_site(site, BASE)
    shutil.copytree(HOSTILE / case, site, dirs_exist_ok=True)
    (site / "expected.txt").unlink()
    return site


def check(site: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check", "--site", str(site), "--now", NOW])
    out, err = capsys.readouterr()
    assert out == ""
    return code, err


def build(site: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["build", "--site", str(site), "--out", str(out), "--now", NOW])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES)
def test_hostile_case_gets_exactly_its_diagnostics(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = lay_out(case, tmp_path / "site")
    expected = (HOSTILE / case / "expected.txt").read_text("utf-8")
    has_errors = not expected.splitlines()[-1].startswith("0 errors")
    assert check(site, capsys) == (1 if has_errors else 0, expected)
    code, err = build(site, tmp_path / "out", capsys)
    assert "Traceback" not in err
    if has_errors:
        assert (code, err) == (1, expected)
        assert not (tmp_path / "out").exists()
    else:
        assert code == 0
        assert err == ("" if expected == "0 errors, 0 warnings\n" else expected)
        assert (tmp_path / "out/index.html").is_file()


def test_every_case_has_an_expected_output() -> None:
    for case in CASES:
        assert (HOSTILE / case / "expected.txt").is_file(), case


def test_bom_and_crlf_build_as_if_they_were_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = lay_out("bom-and-crlf", tmp_path / "site")
    assert build(site, tmp_path / "out", capsys)[0] == 0
    page = (tmp_path / "out/may/hello/index.html").read_text("utf-8")
    assert "<h1>Hello</h1>" in page and "<em>there</em>" in page
    assert "\ufeff" not in page and "\r" not in page


def test_media_with_spaces_and_accents_are_copied_and_linked_percent_encoded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = lay_out("media-names-with-spaces-and-accents", tmp_path / "site")
    assert build(site, tmp_path / "out", capsys)[0] == 0
    out = tmp_path / "out"
    assert (out / "media/my photo.svg").is_file()
    assert (out / "media/café/ñandú.svg").is_file()
    page = (out / "may/hello/index.html").read_text("utf-8")
    assert 'src="/media/my%20photo.svg"' in page
    assert 'src="/media/caf%C3%A9/%C3%B1and%C3%BA.svg"' in page


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("content/pages/secret.md", "/etc/hostname"),
        ("content/media/photo.png", "/etc/hostname"),
        ("content/media/pictures", "/etc"),
        ("content/static/passwd", "/etc/passwd"),
        ("themes/default/static/style.css", "/etc/hostname"),
        ("themes/default/templates/base.html", "/etc/hostname"),
        ("content/drops/june", "/tmp"),
    ],
)
def test_a_symlink_leading_outside_the_site_is_refused(
    link: str, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site", BASE)
    (site / link).parent.mkdir(parents=True, exist_ok=True)
    (site / link).symlink_to(target)
    resolved = Path(target).resolve()
    assert check(site, capsys) == (
        1,
        f"{link}:1:1: error: this leads outside the site through a symlink (to {resolved}); "
        "hubgen reads only files inside the site folder: copy it in instead\n"
        "1 error, 0 warnings\n",
    )
    assert build(site, tmp_path / "out", capsys)[0] == 1
    assert not (tmp_path / "out").exists()


def test_a_symlink_inside_the_site_is_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site", {**BASE, "content/media/real.svg": "<svg/>\n"})
    (site / "content/static").mkdir(parents=True)
    (site / "content/static/icon.svg").symlink_to(site / "content/media/real.svg")
    assert build(site, tmp_path / "out", capsys)[0] == 0
    assert (tmp_path / "out/icon.svg").read_text() == "<svg/>\n"
    assert not (tmp_path / "out/icon.svg").is_symlink()


def test_a_50_mb_file_is_refused_without_being_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = write_site(tmp_path / "site", BASE)
    huge = site / "content/drops/may/huge.md"
    huge.parent.mkdir(parents=True)
    with huge.open("wb") as f:  # sparse: 50 MB on paper, nothing on disk
        f.truncate(50 * 2**20)
    reads: list[int] = []
    real_open = Path.open

    def spying_open(self: Path, *args: object, **kwargs: object) -> object:
        handle = real_open(self, *args, **kwargs)  # type: ignore[arg-type]
        if self == huge:
            real_read = handle.read
            handle.read = lambda n=-1: reads.append(n) or real_read(n)  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(Path, "open", spying_open)
    assert check(site, capsys) == (
        1,
        "content/drops/may/huge.md:1:1: error: the file is too large (50.0 MB): text files "
        "may be at most 10 MB; split it, and put large files in content/media/\n"
        "1 error, 0 warnings\n",
    )
    assert all(0 <= n <= MAX_TEXT_BYTES + 1 for n in reads)


def test_a_big_media_file_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The size limit is for text hubgen parses; media are copied, never read whole."""
    site = write_site(tmp_path / "site", BASE)
    video = site / "content/media/talk.mp4"
    video.parent.mkdir(parents=True)
    with video.open("wb") as f:
        f.truncate(MAX_TEXT_BYTES + 1)
    write_site(
        site, {"content/pages/talk.md": "---\ntitle: Talk\n---\n[The talk](/media/talk.mp4)\n"}
    )
    assert build(site, tmp_path / "out", capsys)[0] == 0
    assert (tmp_path / "out/media/talk.mp4").stat().st_size == MAX_TEXT_BYTES + 1


def test_a_script_past_the_first_10_mb_of_an_svg_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An SVG is read whole for the script check, whatever its size: a large
    embedded image before the script must not hide it."""
    site = write_site(tmp_path / "site", BASE)
    svg = site / "content/media/big.svg"
    svg.parent.mkdir(parents=True)
    padding = b"A" * (MAX_TEXT_BYTES + 10)
    image = b'<svg><image href="data:image/png;base64,' + padding + b'"/>\n'
    svg.write_bytes(image + b"<script/>\n</svg>\n")
    assert check(site, capsys) == (
        1,
        "content/media/big.svg:2:1: error: the SVG holds script ('<script'), which would run "
        "when it is opened on its own: export it again without scripts or event handlers\n"
        "1 error, 0 warnings\n",
    )
    assert build(site, tmp_path / "out", capsys)[0] == 1
    assert not (tmp_path / "out").exists()


def test_a_media_name_that_cannot_be_linked_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site", {**BASE, "content/media/50%#off?.svg": "<svg/>\n"})
    assert check(site, capsys) == (
        1,
        "content/media/50%#off?.svg:1:1: error: the media file name holds '#' and '%' and "
        "'?', which cannot be written in a link; rename it (letters, digits, spaces, "
        "hyphens and dots are fine)\n1 error, 0 warnings\n",
    )


def test_a_file_name_with_control_characters_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site", {**BASE, "content/pages/a\nb.md": "---\ntitle: X\n---\n"})
    assert check(site, capsys) == (
        1,
        "content/pages/a?b.md:1:1: error: the name 'content/pages/a\\nb.md' holds control "
        "characters; rename it\n1 error, 0 warnings\n",
    )


def test_markdown_nested_too_deeply_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "".join("    " * i + "1. step\n" for i in range(300))
    site = write_site(tmp_path / "site", {**BASE, "content/pages/deep.md": "---\ntitle: D\n---\n"})
    (site / "content/pages/deep.md").write_text("---\ntitle: D\n---\n" + body)
    assert check(site, capsys) == (
        1,
        "content/pages/deep.md:4:1: error: the Markdown nests lists or quotes too deeply to "
        "be rendered; flatten it\n1 error, 0 warnings\n",
    )


def test_a_million_nested_brackets_neither_crash_nor_stall(tmp_path: Path) -> None:
    """libyaml's composer recurses in C: this used to kill the process (SIGSEGV)."""
    nested = "[" * 1_000_000 + "]" * 1_000_000
    site = write_site(tmp_path / "site", BASE)
    (site / "campaigns/june.yaml").write_text(f"title: June\nstarts: 2023-06-01\nx: {nested}\n")
    argv = [sys.executable, "-m", "hubgen", "check", "--site", str(site), "--now", NOW]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (
        1,
        "campaigns/june.yaml:3:53: error: the YAML nests more than 50 levels deep\n"
        "1 error, 0 warnings\n",
    )


def test_nothing_outside_the_output_folder_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write_site(tmp_path / "site", {**BASE, "content/pages/a.md": "---\ntitle: A\n---\n"})
    neighbour = write_site(tmp_path / "neighbour", {"keep.txt": "mine"})
    before_site, before_neighbour = read_tree(site), read_tree(neighbour)
    out = tmp_path / "out"
    assert build(site, out, capsys)[0] == 0
    first = read_tree(out)
    (site / "content/pages/a.md").unlink()
    assert build(site, out, capsys)[0] == 0
    assert not (out / "a").exists()
    assert read_tree(neighbour) == before_neighbour
    del before_site["content/pages/a.md"]
    after_site = read_tree(site)
    cache = {rel for rel in after_site if rel.startswith(".hubgen-cache/")}
    assert cache  # the build cache is the one thing hubgen keeps in the site folder
    assert {rel: data for rel, data in after_site.items() if rel not in cache} == before_site
    beside = sorted(p.name for p in tmp_path.iterdir())
    assert beside in (["neighbour", "out", "site"], [".out.spare", "neighbour", "out", "site"])
    if ".out.spare" in beside:  # hubgen's own: the output before, kept for the next build
        assert read_tree(tmp_path / ".out.spare") == first
