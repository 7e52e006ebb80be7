"""Drops kept in the build cache come back exactly as validation made them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import FIXTURES, REPO
from markupsafe import Markup as Html

from hubgen import records
from hubgen.diagnostics import Diagnostics
from hubgen.load import load_site
from hubgen.packed import PackedHtml
from hubgen.validate import validate_site


@pytest.mark.parametrize("site", [REPO, FIXTURES / "site"], ids=["example", "fixture"])
def test_every_drop_of_a_site_comes_back_equal_through_json(site: Path) -> None:
    diags = Diagnostics()
    drops = validate_site(load_site(site, diags), diags, base_url=None).drops
    assert drops
    for drop in drops:
        back = records.decode(json.loads(json.dumps(records.encode(drop))))
        assert back == drop
        home = drop.span.path
        kept = json.loads(json.dumps(records.encode(drop, home)))
        assert home not in json.dumps(kept)  # its spans, all in its own file, name none
        assert records.decode(kept, home) == drop
        # The same types all the way down: the body's HTML comes back marked
        # safe, so a page that shows it takes it as it is, not a copy. (This
        # build holds it compressed till its pages are made: `PackedHtml`.)
        assert type(drop.body.html) is PackedHtml
        unpacked = replace(drop, body=replace(drop.body, html=drop.body.html.__html__()))
        assert repr(back) == repr(unpacked)
        assert type(back.body.html) is Html


def test_replaced_makes_what_dataclasses_replace_makes() -> None:
    """`records.replaced` copies a record by its slots, faster than
    `dataclasses.replace`: the same record, and the same refusal of a field
    the record does not have."""
    diags = Diagnostics()
    drops = validate_site(load_site(FIXTURES / "site", diags), diags, base_url=None).drops
    assert any(d.event for d in drops)
    for drop in drops:
        assert records.replaced(drop) == drop
        assert records.replaced(drop) is not drop
        body = records.replaced(drop.body, source=None, html=None)
        assert body == replace(drop.body, source=None, html=None)
        made = records.replaced(drop, body=body, title="Another title")
        assert repr(made) == repr(replace(drop, body=body, title="Another title"))
        if drop.event is not None:
            assert records.replaced(drop.event, url=None) == replace(drop.event, url=None)
    with pytest.raises(TypeError, match="nickname"):
        records.replaced(drops[0], nickname="x")
    with pytest.raises(TypeError):
        records.replaced("not a record", title="x")


def test_decoded_drops_share_their_short_text() -> None:
    """A large site's records stay in memory for the whole build: a drop's path,
    in every span it holds, is one string, and so is a slug many drops name."""
    diags = Diagnostics()
    drops = validate_site(load_site(FIXTURES / "site", diags), diags, base_url=None).drops
    back = [records.decode(json.loads(json.dumps(records.encode(d)))) for d in drops]
    spans = [ref.span.path for d in back for ref in d.creators] + [d.span.path for d in back]
    by_value: dict[str, set[int]] = {}
    for path in spans:
        by_value.setdefault(path, set()).add(id(path))
    assert len(spans) > len(by_value), "some drop must credit a creator"
    assert all(len(ids) == 1 for ids in by_value.values())
    campaigns = {id(d.campaign) for d in back if d.campaign == back[0].campaign}
    assert len(campaigns) == 1


@pytest.mark.parametrize(
    "when",
    [
        datetime(2023, 11, 5, 1, 30, tzinfo=ZoneInfo("America/New_York"), fold=1),
        datetime(2023, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=2))),
        datetime(2023, 5, 1, 9, 0, tzinfo=UTC),
    ],
    ids=["zone, second 01:30 of a DST change", "fixed offset", "UTC"],
)
def test_times_keep_their_zone_and_fold(when: datetime) -> None:
    back = records.decode(json.loads(json.dumps(records.encode(when))))
    assert back == when
    assert (back.tzinfo, back.fold, back.utcoffset()) == (when.tzinfo, when.fold, when.utcoffset())


@pytest.mark.parametrize(
    "data",
    [
        ["Drop", "too", "few"],
        ["Path", "/etc/passwd"],
        ["zoned", "2023-05-01T09:00:00", 0, "../../etc/passwd"],
        ["html", 5],
        {"a": 1},
        [],
    ],
)
def test_anything_else_is_refused(data: object) -> None:
    with pytest.raises(records.NotARecord):
        records.decode(data)


def test_a_span_in_its_own_file_needs_that_file_to_come_back() -> None:
    from hubgen.diagnostics import Span

    inside, outside = Span("content/a.md", 3, 4), Span("content/b.md", 1, 2)
    data = json.loads(json.dumps(records.encode((inside, outside), "content/a.md")))
    assert data == ["tuple", ["@", 3, 4], ["Span", "content/b.md", 1, 2]]
    assert records.decode(data, "content/a.md") == (inside, outside)
    with pytest.raises(records.NotARecord):
        records.decode(data)
    with pytest.raises(records.NotARecord):
        records.decode(["@", "3", 4], "content/a.md")


def test_only_model_records_can_be_kept() -> None:
    with pytest.raises(TypeError):
        records.encode(Path("x"))


def test_a_body_s_links_are_kept_as_one_flat_list() -> None:
    from hubgen.diagnostics import Span
    from hubgen.model import LinkRef, LinkRefs

    home = "content/drops/x/a.md"
    links = (
        LinkRef("/topics/sleep/", Span(home, 3, 4), False),
        LinkRef("/media/a.png", Span(home, 9, 1), True, "A chart"),
    )
    refs = LinkRefs.of(links, home)
    data = json.loads(json.dumps(records.encode(refs, home)))
    assert data == [
        "LinkRefs",
        "/topics/sleep/",
        3,
        4,
        False,
        "",
        "/media/a.png",
        9,
        1,
        True,
        "A chart",
    ]
    back = records.decode(data, home)
    assert type(back) is LinkRefs and back == refs and tuple(back) == links
    assert list(back.targets()) == [
        (0, "/topics/sleep/", False, ""),
        (1, "/media/a.png", True, "A chart"),
    ]
    assert back.span(1) == Span(home, 9, 1) and back[1] == links[1]
    # In a record of another file, they name their own.
    elsewhere = json.loads(json.dumps(records.encode(refs, "content/pages/b.md")))
    assert elsewhere[:2] == ["LinkRefsIn", home]
    assert records.decode(elsewhere, "content/pages/b.md") == refs
    assert records.decode(elsewhere).span(0) == Span(home, 3, 4)
    # A body without links, in no file at all.
    assert records.decode(records.encode(LinkRefs((), home))) == LinkRefs((), "")
    with pytest.raises(ValueError):
        LinkRefs.of(links, "content/pages/b.md")  # its links are not all there


@pytest.mark.parametrize(
    "data",
    [
        ["LinkRefs", "/a", 1, 2, False],  # cut short
        ["LinkRefs", "/a", "1", 2, False, ""],
        ["LinkRefs", "/a", 1, 2, 0, ""],  # not a bool
        ["LinkRefs", "/a", True, 2, False, ""],  # a bool for a line
        ["LinkRefs", ["Drop"], 1, 2, False, ""],
        ["LinkRefsIn", 3, "/a", 1, 2, False, ""],  # no path
        ["LinkRefsIn", "a.md", "/a", 1, 2, False],
        ["LinkRefsIn"],
    ],
)
def test_a_flat_list_of_links_of_another_shape_is_refused(data: list[object]) -> None:
    with pytest.raises(records.NotARecord):
        records.decode(data, "content/a.md")
    with pytest.raises(records.NotARecord):
        records.decode(["LinkRefs", "/a", 1, 2, False, ""])  # and needs its file


def test_a_record_that_checks_its_fields_is_never_made_without_its_init() -> None:
    """Records are made by setting their slots (`records._setters`), which
    would skip a `__post_init__`: a record type with one stops the import."""
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True)
    class Checked:
        count: int

        def __post_init__(self) -> None:
            if self.count < 0:
                raise ValueError("negative")

    with pytest.raises(TypeError, match="make it by its __init__"):
        records._setters(Checked)
