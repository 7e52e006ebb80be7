"""A body held compressed (`PackedHtml`) is, to templates and fingerprints, the HTML it holds."""

from __future__ import annotations

import io
import pickle

import pytest
from jinja2 import Environment
from markupsafe import Markup

from hubgen.packed import AS_MARKUP, PackedHtml

BODY = '<p>Talk to <a href="/orgs/nami/">NAMI</a> — “any day” &amp; any <em>time</em>.</p>'

TEMPLATES = [
    "{{ body }}",
    "{{ body|e }}",
    "{{ body|length }}",
    "{{ body|striptags }}",
    "{{ body|striptags|truncate(20) }}",
    "{{ body|truncate(24) }}",
    "{{ body[:12] }}{{ body|first }}{{ body|list|length }}",
    "{{ body|wordcount }}",
    "{{ body ~ '!' }}",
    "{% if body %}shown{% endif %}",
    "{% if 'NAMI' in body %}found{% endif %}",
    "{{ body.striptags()|upper }}",
]


@pytest.mark.parametrize("source", TEMPLATES)
def test_templates_show_it_as_the_html_it_holds(source: str) -> None:
    template = Environment(autoescape=True).from_string(source)
    assert template.render(body=PackedHtml(BODY)) == template.render(body=Markup(BODY))


def test_it_is_held_in_less_memory_than_its_text() -> None:
    html = "".join(f"<p>Paragraph {i}: what helps, and where to find it.</p>\n" for i in range(60))
    assert len(pickle.dumps(PackedHtml(html))) < len(html) / 2


def test_a_body_longer_than_the_compression_window_comes_back_whole() -> None:
    words = [f"w{(i * 7919) % 10007}" for i in range(40_000)]  # little to repeat nearby
    html = "<p>" + " ".join(words) + "</p>"
    packed = pickle.loads(pickle.dumps(PackedHtml(html)))
    assert str(packed) == html and len(packed) == len(html) > 200_000


def test_it_goes_between_processes_compressed_and_comes_back_equal() -> None:
    packed = PackedHtml(BODY)
    data = pickle.dumps(packed)
    assert b"NAMI" not in data  # not the text: sent as it is held
    assert pickle.loads(data) == packed and str(pickle.loads(data)) == BODY


def _pickled(value: object) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.dispatch_table = AS_MARKUP  # type: ignore[assignment]
    pickler.dump(value)
    return buffer.getvalue()


def test_a_fingerprint_pickles_it_as_the_markup_it_stands_for() -> None:
    assert _pickled([PackedHtml(BODY)]) == _pickled([Markup(BODY)])
    assert _pickled([PackedHtml(BODY)]) != _pickled([Markup(BODY + " ")])


@pytest.mark.parametrize("length", [1023, 1024, 1025, 5000])
def test_long_or_short_it_is_pickled_as_the_same_markup_would_be(length: int) -> None:
    """Long HTML is pickled as its hash (see `packed`), counted in characters
    either way: the same fingerprint, held compressed or not, sent or not."""
    html = ("“Reach out” — " * (length // 14 + 1))[:length]
    packed = PackedHtml(html)
    sent = pickle.loads(pickle.dumps(packed))
    assert _pickled([packed]) == _pickled([Markup(html)]) == _pickled([sent])
    assert _pickled([packed]) != _pickled([Markup(html[:-1] + "!")])


def test_long_html_held_compressed_is_fingerprinted_without_being_unpacked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hubgen import packed as module

    html = "".join(f"<p>Paragraph {i}: what helps, and where to find it.</p>\n" for i in range(60))
    held = pickle.loads(pickle.dumps(PackedHtml(html)))  # from the worker that parsed it
    expected = _pickled([Markup(html)])
    assert html.encode() not in expected  # its hash, not its text

    def unpack(data: bytes) -> bytes:
        raise AssertionError("unpacked")

    monkeypatch.setattr(module.zlib, "decompress", unpack)
    assert _pickled([held]) == expected
