"""A drop's body in its view tells whether the page being rendered read it.

A page that read no body is taken unchanged after an edit of a body it holds
(see `hubgen.bodyread`), so every way a template can learn anything of one
must count as reading it, whatever the template does with the body.
"""

from __future__ import annotations

import threading

import pytest
from jinja2 import Environment
from markupsafe import Markup

from hubgen import bodyread
from hubgen.bodyread import Body
from hubgen.packed import PackedHtml

HTML = "<p>Sleep well, <em>Ada</em>.</p>"

READING = [
    "{{ body }}",
    "{{ body|safe }}",
    "{{ body|e }}",
    "{{ body|string }}",
    "{{ body|length }}",
    "{{ body|wordcount }}",
    "{{ body|striptags|truncate(10) }}",
    "{{ body|upper }}",
    "{{ body|list|first }}",
    "{{ body|pprint }}",
    "{{ body|attr('_html') }}",
    "{{ body|replace('a', 'b') }}",
    "{{ body[0] }}",
    "{{ body._html }}",
    "{{ body.striptags() }}",
    "{{ body.__class__.__name__ }}",
    "{{ body ~ '!' }}",
    "{{ '!' ~ body }}",
    "{{ body == 'x' }}",
    "{{ body != 'x' }}",
    "{{ body < 'x' }}",
    "{{ 'Ada' in body }}",
    "{{ body in ['x'] }}",
    "{{ [body, body]|unique|list|length }}",
    "{{ [body]|sort|first }}",
    "{{ '%s'|format(body) }}",
    "{{ '{}'.format(body) }}",
    "{{ body * 2 }}",
    "{% if body %}yes{% endif %}",
    "{% for c in body %}{% endfor %}",
    "{{ body|reverse|first }}",
    "{{ body|default('none') }}",
]

NOT_READING = [
    "{{ 'no body' }}",
    "{% set kept = body %}{{ 'taken, not looked at' }}",
    "{{ body is none }}",
    "{{ body is sameas body }}",
    "{% macro show(b) %}shown{% endmacro %}{{ show(body) }}",
]


def rendered(source: str, body: Body) -> tuple[str, bool]:
    template = Environment(autoescape=True).from_string(source)
    bodyread.start()
    text = template.render(body=body)
    return text, bodyread.read()


@pytest.mark.parametrize("held", [Markup(HTML), PackedHtml(HTML)], ids=["html", "packed"])
@pytest.mark.parametrize("source", READING)
def test_every_way_a_template_learns_of_a_body_counts_as_reading_it(
    source: str, held: Markup | PackedHtml
) -> None:
    _text, read = rendered(source, Body(held))
    assert read


@pytest.mark.parametrize("source", NOT_READING)
def test_a_template_that_only_passes_a_body_around_reads_none(source: str) -> None:
    _text, read = rendered(source, Body(Markup(HTML)))
    assert not read


def test_a_body_shows_as_the_html_it_holds() -> None:
    for held in (Markup(HTML), PackedHtml(HTML)):
        body = Body(held)
        text, _read = rendered("{{ body }}|{{ body|striptags }}|{{ body|length }}", body)
        assert text == f"{HTML}|Sleep well, Ada.|{len(HTML)}"
        assert body == HTML and Body(Markup(HTML)) == body and hash(body) == hash(HTML)
        assert str(body) == HTML and body.__html__() == Markup(HTML)


def test_a_new_page_starts_unread_and_nothing_started_counts_as_read() -> None:
    bodyread.start()
    str(Body(Markup(HTML)))
    assert bodyread.read()
    bodyread.start()
    assert not bodyread.read()
    elsewhere: list[bool] = []  # a thread that started nothing: as if it read
    thread = threading.Thread(target=lambda: elsewhere.append(bodyread.read()))
    thread.start()
    thread.join()
    assert elsewhere == [True]
