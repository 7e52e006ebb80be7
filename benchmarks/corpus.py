"""Word banks and a Markdown body writer for the synthetic benchmark site.

The bodies should cost what real drops cost to parse: 300-500 words of prose in
paragraphs under `##` headings, bullet and numbered lists, emphasis, and links
to other pages of the site and to the web, sometimes with an image. Sentences
are put together from three banks of fragments, so bodies differ from each
other without any external text. Every choice goes through the caller's
`random.Random`, so the same seed writes the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

OPENERS = (
    "Most people",
    "Many students",
    "Parents and carers",
    "Friends who notice a change",
    "People who work long shifts",
    "Anyone going through a hard week",
    "Young people online",
    "New parents",
    "People living alone",
    "Colleagues at work",
    "Older adults",
    "Teachers and coaches",
    "Creators in our network",
    "Volunteers on the helplines",
    "Readers who wrote to us",
    "People in rural areas",
    "Families after a loss",
    "Carers of a relative",
    "Athletes between seasons",
    "People starting a new job",
)
MIDDLES = (
    "find it easier to talk when",
    "often feel better after",
    "are more likely to reach out if",
    "tell us that it helps when",
    "can notice early signs when",
    "sleep better when",
    "feel less alone when",
    "recover more steadily when",
    "build small routines when",
    "ask for help sooner when",
    "cope with stress better after",
    "say the hardest part is knowing that",
    "describe a turning point when",
    "stay connected more easily when",
    "worry less when",
)
ENDINGS = (
    "someone asks twice and really listens.",
    "they take a short walk outside each day.",
    "the conversation starts with an open question.",
    "they know which helpline to call before they need it.",
    "a friend checks in without trying to fix everything.",
    "they write down three things that went well.",
    "they keep a regular time for going to bed.",
    "a trusted adult is there to listen.",
    "they can talk about feelings without being judged.",
    "they put the phone away for an hour in the evening.",
    "they plan one small, kind thing for themselves.",
    "the people around them learn the warning signs.",
    "they share what they are going through with one person.",
    "support is one tap away on their phone.",
    "they give themselves time instead of a deadline.",
    "someone reminds them that asking for help is a strength.",
    "they return to an activity they used to enjoy.",
    "they break a big worry into smaller steps.",
)
HEADINGS = (
    "What it can look like",
    "Small steps that help",
    "How to start the conversation",
    "When to reach out for support",
    "Looking after yourself",
    "What friends can do",
    "What the research says",
    "Questions we hear often",
    "A routine that works",
    "Where to find help",
    "Myths and facts",
    "Talking to children and teenagers",
    "At work and at school",
    "After the event",
)
LIST_ITEMS = (
    "Slow your breathing: in for four, out for six.",
    "Write down one thing you are looking forward to.",
    "Send a short message to someone you have not heard from.",
    "Keep water and a snack within reach.",
    "Step outside for ten minutes of daylight.",
    "Notice when worries repeat, and name them.",
    "Agree on a check-in time with a friend.",
    "Save a helpline number in your phone today.",
    "Turn off notifications an hour before bed.",
    'Ask "how are you, really?" and wait for the answer.',
    "Make a list of people you can call.",
    "Plan a small reward after a hard task.",
    "Move your body in a way that feels good.",
    "Limit news and social media when they make you anxious.",
    "Talk to your doctor if the feeling lasts more than two weeks.",
    "Remember that setbacks are part of recovery.",
)
EMPHASES = (
    "**you are not alone**",
    "_it is okay to ask_",
    "**listen first**",
    "_one step at a time_",
)
EXTERNAL = (
    ("the WHO's mental health pages", "https://www.who.int/health-topics/mental-health"),
    ("NAMI's guides", "https://www.nami.org/About-Mental-Illness"),
    ("Mind's information pages", "https://www.mind.org.uk/information-support/"),
    ("a sleep hygiene checklist", "https://www.sleepfoundation.org/sleep-hygiene"),
    ("the 988 Lifeline", "https://988lifeline.org"),
)


@dataclass(frozen=True)
class Target:
    """A page of the site a body may link to: its text and site path."""

    text: str
    path: str


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(OPENERS)} {rng.choice(MIDDLES)} {rng.choice(ENDINGS)}"


def paragraph(rng: random.Random, links: Sequence[Target] = (), sentences: int = 4) -> str:
    """A paragraph of `sentences` sentences, with an emphasis and the given inline links."""
    parts = [sentence(rng) for _ in range(sentences)]
    if rng.random() < 0.4:
        parts[rng.randrange(len(parts))] += f" Above all, {rng.choice(EMPHASES)}."
    for link in links:
        parts.insert(rng.randrange(len(parts) + 1), f"See [{link.text}]({link.path}) for more.")
    return " ".join(parts)


def words_in(text: str) -> int:
    return len(text.split())


def body(
    rng: random.Random,
    *,
    words: tuple[int, int],
    links: Sequence[Target],
    image: tuple[str, str] | None = None,
) -> str:
    """A Markdown body of between `words[0]` and `words[1]` words, using every link once.

    `image` is (site path, alt text) of an image to put after the first section.
    """
    low, high = words
    target = rng.randint(low, high)
    pending = list(links)
    blocks = [paragraph(rng, _take(pending, 1), rng.randint(2, 3))]
    headings = rng.sample(HEADINGS, k=len(HEADINGS))
    while words_in("\n\n".join(blocks)) + CLOSING_WORDS < target:
        section = _section(rng, headings.pop() if headings else rng.choice(HEADINGS), pending)
        if words_in("\n\n".join(blocks + section)) + CLOSING_WORDS > high:
            break
        blocks += section
        if image is not None:
            blocks.insert(len(blocks) - 1, f"![{image[1]}]({image[0]})")
            image = None
    name, url = rng.choice(EXTERNAL)
    closing = [f"For further reading, see [{name}]({url})."]
    closing += [f"See also [{link.text}]({link.path})." for link in pending]
    while words_in("\n\n".join(blocks + closing)) + CLOSING_WORDS - 8 < low:
        closing.append(sentence(rng))
    closing.append("If you need help now, see [Get help](/help/).")
    blocks.append(" ".join(closing))
    return wrap("\n\n".join(blocks)) + "\n"


CLOSING_WORDS = 16  # the closing paragraph's fixed sentences


def _section(rng: random.Random, heading: str, pending: list[Target]) -> list[str]:
    """A heading, a paragraph, then a list or another paragraph; takes up to two links."""
    blocks = [f"## {heading}", paragraph(rng, _take(pending, 1), rng.randint(2, 4))]
    if rng.random() < 0.5:
        blocks.append(_bullets(rng, _take(pending, 1)))
    elif rng.random() < 0.5:
        blocks.append(_numbered(rng))
    else:
        blocks.append(paragraph(rng, _take(pending, 1), rng.randint(3, 5)))
    return blocks


def _take(pending: list[Target], n: int) -> list[Target]:
    taken, pending[:n] = pending[:n], []
    return taken


def _bullets(rng: random.Random, links: Sequence[Target]) -> str:
    items = rng.sample(LIST_ITEMS, k=rng.randint(3, 5))
    for link in links:
        items.append(f"Read [{link.text}]({link.path}).")
    return "\n".join(f"- {item}" for item in items)


def _numbered(rng: random.Random) -> str:
    items = rng.sample(LIST_ITEMS, k=rng.randint(3, 5))
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


def short_text(rng: random.Random, words: int) -> str:
    """Plain prose of at least `words` words, for bios, descriptions and intros."""
    parts: list[str] = []
    while words_in(" ".join(parts)) < words:
        parts.append(sentence(rng))
    return " ".join(parts)


def wrap(text: str, width: int = 78) -> str:
    """Wrap prose as authors do, keeping Markdown blocks (lines starting with #, -, 1.) whole."""
    out = []
    for block in text.split("\n\n"):
        if block.startswith(("#", "-", "!", "1.")):
            out.append(block)
            continue
        lines, line = [], ""
        for word in block.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
        out.append("\n".join(lines))
    return "\n\n".join(out)
