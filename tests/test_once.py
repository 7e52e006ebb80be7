"""{% once key %}: a piece of a theme rendered once per key, the same on every page."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import count
from pathlib import Path

from conftest import FIXTURES, run

from hubgen.load import Theme
from hubgen.theme import Themes

NOW = "2023-05-10T12:00"


def themes(tmp_path: Path, template: str) -> Themes:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text(template)
    theme = Theme("default", (folder,), {"icon.svg": b"<svg/>"})
    made = Themes({"default": theme}, site_theme="default", href=lambda path: path)
    renders = count(1)
    made.env().globals["render_number"] = lambda: next(renders)
    return made


class Site:
    """A `site` value: equal to any other, so only identity tells two apart."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Site)

    __hash__ = object.__hash__


def test_a_piece_is_rendered_once_for_each_key_object(tmp_path: Path) -> None:
    t = themes(tmp_path, "{% once site %}piece {{ render_number() }}{% endonce %} page {{ n }}")
    page = t.env().get_template("page.html")
    site = Site()
    assert page.render(site=site, n=1) == "piece 1 page 1"
    assert page.render(site=site, n=2) == "piece 1 page 2"  # taken as it was
    assert page.render(site=Site(), n=3) == "piece 2 page 3"  # another build's site
    assert page.render(site=site, n=4) == "piece 1 page 4"


def test_a_piece_with_several_keys_is_kept_for_all_of_them(tmp_path: Path) -> None:
    t = themes(tmp_path, "{% once a, b %}{{ render_number() }}{% endonce %}")
    page = t.env().get_template("page.html")
    a, b = Site(), Site()
    assert [page.render(a=a, b=b), page.render(a=a, b=b)] == ["1", "1"]
    assert page.render(a=a, b=Site()) == "2"


def test_every_page_that_takes_a_piece_asks_for_its_assets(tmp_path: Path) -> None:
    t = themes(tmp_path, "{% once site %}<img src=\"{{ asset('icon.svg') }}\">{% endonce %}")
    page = t.env().get_template("page.html")
    site = Site()
    for _ in range(2):
        t.used.clear()  # as for each page (produce)
        html = page.render(site=site)
        assert t.used == {"assets/icon.d4dc566691.svg"}
        assert 'src="/assets/icon.d4dc566691.svg"' in html


def test_the_help_block_is_the_same_on_every_page_and_an_override_without_once_is_not_kept(
    make_site: Callable[..., Path], tmp_path: Path
) -> None:
    shipped = tmp_path / "shipped"
    assert run("build", "--site", FIXTURES / "site", "--out", shipped, "--now", NOW) == 0
    blocks = {
        m.group(0)
        for page in shipped.rglob("*.html")
        for m in re.finditer(r'<aside class="help-block".*?</aside>', page.read_text(), re.S)
    }
    assert len(blocks) == 1 and "tel:" in blocks.pop()  # one block, with lines to call
    site = make_site(
        {"themes/default/templates/_help_block.html": "<aside>{{ meta.site_path }}</aside>\n"}
    )
    out = tmp_path / "own"
    assert run("build", "--site", site, "--out", out) == 0
    assert "<aside>/</aside>" in (out / "index.html").read_text()
    assert "<aside>/creators/</aside>" in (out / "creators/index.html").read_text()


def test_two_pieces_with_the_same_key_are_each_their_own(tmp_path: Path) -> None:
    """A header and a footer both `{% once site %}`: each is kept as itself,
    never taken for the other (they were, when pieces were known by key alone)."""
    t = themes(
        tmp_path,
        "{% once site %}<header>{{ render_number() }}</header>{% endonce %}"
        "{% once site %}<footer>{{ render_number() }}</footer>{% endonce %}",
    )
    page = t.env().get_template("page.html")
    site = Site()
    assert page.render(site=site) == "<header>1</header><footer>2</footer>"
    assert page.render(site=site) == "<header>1</header><footer>2</footer>"
