"""docs/safe-messaging.md lists every rule exactly as hubgen/rules/safe_messaging.yaml has it."""

from __future__ import annotations

from conftest import REPO

from hubgen.ruleset import RuleSet, safe_messaging

DOC = REPO / "docs" / "safe-messaging.md"
START = "<!-- rules: generated from hubgen/rules/safe_messaging.yaml by tests/test_docs.py -->"
END = "<!-- end of rules -->"
FIELD_NAMES = {"title": "titles", "summary": "summaries", "body": "texts"}


def rules_markdown(rules: RuleSet) -> str:
    """One section per rule: what it flags, what it leaves alone, what to write, why, source."""
    parts = []
    for r in rules.rules:
        where = ", ".join(FIELD_NAMES[f] for f in r.fields)
        context = ""
        if r.near is not None:
            terms = " or ".join(n.replace("-", " ") for n in r.near.lexicons)
            context = f"; counts only within {r.near.within} words of a term about {terms}"
            if r.near.topics:
                context += f" (anywhere in a file on the topic {', '.join(r.near.topics)})"
        sources = "; ".join(r.sources)
        parts.append(
            f"### {r.id}: {r.name}\n\n"
            f"- **Flags**, in {where}: {r.example}\n"
            f"- **Leaves alone**: {r.near_miss}\n"
            f"- **Instead**: {r.suggestion}.\n"
            f"- **Why**: {r.why}.\n"
            f"- **Source**: {sources}.\n"
            f"- **Matches** (lower-cased text{context}): `{r.matcher.pattern.pattern}`\n"
        )
    return "\n".join(parts)


def _section(text: str) -> str:
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n")


def test_the_rule_list_in_the_docs_is_up_to_date(update_goldens: bool) -> None:
    text = DOC.read_text("utf-8")
    expected = rules_markdown(safe_messaging())
    if update_goldens:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        DOC.write_text(f"{before}{START}\n\n{expected}\n{END}{after}", "utf-8")
        text = DOC.read_text("utf-8")
    assert _section(text) == expected.strip("\n"), "run pytest tests/test_docs.py --update-goldens"


def test_every_rule_id_appears_in_the_docs() -> None:
    text = DOC.read_text("utf-8")
    for r in safe_messaging().rules:
        assert f"### {r.id}: " in text
