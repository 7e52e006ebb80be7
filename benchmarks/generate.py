"""Write a deterministic synthetic hubgen site of N drops, for benchmarks.

    python benchmarks/generate.py 10000 /tmp/site-10000

The site is in hubgen's own format and passes `hubgen check`: one monthly
campaign per 500 drops (the newest is May 2025, live at `NOW`, older ones go
back a month each, in several time zones), creators, organisations with
helplines, topics, small SVG and PNG media, free-standing pages, and drop
bodies of 300-500 words of Markdown linking to earlier drops, creators,
organisations, topics and images. About 1 % of drops are drafts and 0.5 %
have expired, and the newest campaign still has drops scheduled, as on a real
hub that CI rebuilds every hour. All randomness is seeded by N: the same N
writes the same bytes.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import struct
import sys
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from corpus import Target, body, short_text, wrap

NOW = "2025-05-30T12:00"  # build time, in the site's time zone
SITE_TIMEZONE = "America/New_York"
DROPS_PER_CAMPAIGN = 500
NEWEST_MONTH = (2025, 5)
ZONES = (
    "America/New_York",
    "Europe/London",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Europe/Berlin",
    "America/Chicago",
    "Pacific/Auckland",
)
MONTHLY = {  # month -> (slug stem, title stem, hashtag)
    1: ("new-year-check-in", "New Year Check-in", "#NewYearCheckIn"),
    2: ("time-to-talk", "Time to Talk", "#TimeToTalk"),
    3: ("sleep-awareness", "Sleep Awareness Month", "#SleepWell"),
    4: ("stress-awareness", "Stress Awareness Month", "#StressAwareness"),
    5: ("mental-health-awareness", "Mental Health Awareness Month", "#MentalHealthAwareness"),
    6: ("mens-health", "Men's Health Month", "#MensHealthMonth"),
    7: ("minority-mental-health", "Minority Mental Health Month", "#MinorityMentalHealth"),
    8: ("summer-wellbeing", "Summer Wellbeing", "#SummerWellbeing"),
    9: ("back-to-school", "Back to School", "#BackToSchool"),
    10: ("world-mental-health-day", "World Mental Health Day", "#WorldMentalHealthDay"),
    11: ("mind-your-mates", "Mind Your Mates", "#MindYourMates"),
    12: ("winter-wellbeing", "Winter Wellbeing", "#WinterWellbeing"),
}
BASE_TOPICS = (
    "anxiety depression sleep stress grief loneliness burnout self-care peer-support "
    "suicide-prevention eating-disorders body-image parenting students work relationships "
    "trauma addiction mindfulness exercise nutrition social-media bullying lgbtq-wellbeing "
    "men-s-health perinatal ageing carers money-worries recovery therapy medication "
    "panic-attacks ocd adhd autism psychosis bipolar resilience gratitude"
).split()
QUALIFIERS = ("", "at-work", "for-teens", "at-university", "in-families", "after-loss", "online")
FIRST_NAMES = (
    "Maya Alex Jordan Priya Sam Daniel Amara Leo Noor Kai Elena Tomás Aisha Ben Chloe Dev "
    "Farah Gabriel Hana Ivan Jade Kofi Lena Marco Nia Omar Paula Quinn Rosa Sunil Tara Uma "
    "Victor Wen Yara Zoe Ravi Ines Malik Sofia"
).split()
LAST_NAMES = (
    "Okafor Kim Blake Shah Lindqvist Reyes Mensah Rossi Haddad Tanaka Novak Silva Brennan "
    "Cohen Dubois Eriksen Fischer Garcia Hughes Ito Jensen Kowalski Larsen Moreau Nguyen "
    "OBrien Patel Quintero Romero Schmidt Torres Ueda Varga Walsh Xu Yilmaz Zhang Adeyemi "
    "Bauer Costa"
).split()
PLACES = (
    "Northshore Riverside Lakeside Harbour Greenfield Hillcrest Eastgate Westbrook Meadow "
    "Oakridge Stonebridge Brightwater Clearview Fairhaven Kingsway Larchmont Millbrook "
    "Newhaven Parkside Redwood Seaview Southfield Thornbury Valley Willowdale Ashford "
    "Beacon Cedar Dalton Elmwood"
).split()
ORG_KINDS = (
    "Crisis Line",
    "Peer Support Network",
    "Youth Helpline",
    "Wellbeing Trust",
    "Mental Health Alliance",
    "Listening Service",
    "Family Support",
    "Recovery Centre",
    "Student Support",
    "Carers Line",
    "Bereavement Service",
    "Warmline",
)
REGIONS = ("US", "GB", "CA", "AU", "IE", "NZ", "IN", "NO", "DE")
KINDS = ("article", "resource", "video", "spotlight", "event", "announcement")
KIND_WEIGHTS = (50, 15, 12, 10, 5, 8)
TITLE_LEADS = (
    "Understanding",
    "Living with",
    "Talking about",
    "Five myths about",
    "A short guide to",
    "Questions about",
    "First steps with",
    "Helping a friend with",
    "Creators on",
    "What we learned about",
    "Checking in on",
    "Resources for",
)
TITLE_TAILS = (
    "what helps",
    "where to start",
    "a practical guide",
    "stories from our community",
    "what to say",
    "when to get help",
    "small daily habits",
    "for parents and carers",
    "for young people",
    "at home and at work",
    "myths and facts",
    "a live Q&A recap",
)
PAGES = (
    ("about", "About this hub", 1),
    ("privacy", "Privacy", 2),
    ("how-we-write", "How we write about mental health", 3),
    ("contact", "Contact us", None),
)


@dataclass
class Drop:
    campaign: str
    slug: str
    title: str
    linkable: bool  # published at NOW and neither a draft nor expired


@dataclass
class Plan:
    """The site's shared pieces, chosen before any drop is written."""

    n: int
    campaigns: list[tuple[str, int, int, str]]  # (slug, year, month, zone)
    creators: list[tuple[str, str]]  # (slug, name)
    organisations: list[tuple[str, str]]
    topics: list[str]
    media: list[str]  # site paths of drop images
    campaign_topics: list[list[str]] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)


def generate(n: int, out: Path) -> Plan:
    """Write a site of `n` drops into `out` (which must not exist or be empty)."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    rng = random.Random(f"hubgen-benchmark:{n}")
    plan = _plan(n)
    plan.campaign_topics = [rng.sample(plan.topics, k=4) for _ in plan.campaigns]
    files: dict[str, str | bytes] = {"site.yaml": _site_yaml(plan)}
    files["content/static/CNAME"] = "hub.example.org\n"
    for path in plan.media:
        files["content" + path] = _media_file(rng, path)
    for i, (slug, name) in enumerate(plan.creators):
        files[f"content/creators/{slug}.md"] = _creator(rng, plan, i, slug, name)
        files[f"content/media/creators/{slug}.svg"] = _svg(rng, name)
    for i, (slug, name) in enumerate(plan.organisations):
        files[f"content/organisations/{slug}.md"] = _organisation(rng, plan, i, slug, name)
        files[f"content/media/organisations/{slug}.svg"] = _svg(rng, name)
    for slug, title, order in PAGES:
        files[f"content/pages/{slug}.md"] = _page(rng, plan, title, order)
    per = _split(n, len(plan.campaigns))
    for index, count in enumerate(per):
        slug = plan.campaigns[index][0]
        files[f"campaigns/{slug}.yaml"] = _campaign(rng, plan, index)
        files[f"content/media/heroes/{slug}.svg"] = _svg(rng, slug)
        for j in range(count):
            name, text = _drop(rng, plan, index, j, count)
            files[f"content/drops/{slug}/{name}"] = text
    for rel, content in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return plan


def _plan(n: int) -> Plan:
    campaigns = []
    count = max(1, math.ceil(n / DROPS_PER_CAMPAIGN))
    year, month = NEWEST_MONTH
    for k in range(count):  # newest first, then reversed: oldest first
        stem = MONTHLY[month][0]
        campaigns.append((f"{stem}-{year}", year, month, ZONES[k % len(ZONES)]))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    topics = [f"{t}-{q}" if q else t for q in QUALIFIERS for t in BASE_TOPICS]
    return Plan(
        n=n,
        campaigns=campaigns[::-1],
        creators=_people(max(6, n // 25)),
        organisations=_orgs(max(4, n // 200)),
        topics=topics[: min(len(topics), max(20, n // 40))],
        media=[
            f"/media/drops/picture-{i:05d}.{'png' if i % 3 == 2 else 'svg'}"
            for i in range(max(8, n // 20))
        ],
    )


def _people(count: int) -> list[tuple[str, str]]:
    people = []
    combos = len(FIRST_NAMES) * len(LAST_NAMES)
    for c in range(count):
        first = FIRST_NAMES[c % len(FIRST_NAMES)]
        last = LAST_NAMES[(c // len(FIRST_NAMES) + c) % len(LAST_NAMES)]
        round_ = c // combos
        name = f"{first} {chr(65 + round_ % 26)}. {last}" if round_ else f"{first} {last}"
        people.append((_slugify(f"{name} {round_}" if round_ else name), name))
    return people


def _orgs(count: int) -> list[tuple[str, str]]:
    orgs = []
    for c in range(count):
        place = PLACES[c % len(PLACES)]
        kind = ORG_KINDS[(c // len(PLACES) + c) % len(ORG_KINDS)]
        round_ = c // (len(PLACES) * len(ORG_KINDS))
        name = f"{place} {kind}" + (f" {round_ + 1}" if round_ else "")
        orgs.append((_slugify(name), name))
    return orgs


def _split(n: int, parts: int) -> list[int]:
    """`n` drops over `parts` campaigns, as evenly as possible."""
    return [(n * (k + 1)) // parts - (n * k) // parts for k in range(parts)]


def _slugify(text: str) -> str:
    text = text.lower().replace("'", "").replace("á", "a").replace("ó", "o")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _site_yaml(plan: Plan) -> str:
    helpers = [slug for i, (slug, _) in enumerate(plan.organisations) if i % 2 == 0][:2]
    return (
        "title: Wellbeing Campaigns Network\n"
        "base_url: https://hub.example.org/\n"
        "language: en\n"
        f"timezone: {SITE_TIMEZONE}\n"
        "description: >-\n"
        "  Years of awareness campaigns in one place: educational updates, creator\n"
        "  spotlights and partner organisations, with help always one tap away.\n"
        "help:\n"
        "  title: Get help now\n"
        f"  organisations: [{', '.join(helpers)}]\n"
        "nav:\n"
        "  - title: Get help\n"
        "    url: /help/\n"
        "  - title: Topics\n"
        "    url: /topics/\n"
    )


def _campaign(rng: random.Random, plan: Plan, index: int) -> str:
    slug, year, month, zone = plan.campaigns[index]
    stem, title, hashtag = MONTHLY[month]
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    creators = rng.sample(plan.creators, k=min(3, len(plan.creators)))
    orgs = rng.sample(plan.organisations, k=2)
    topics = plan.campaign_topics[index]
    intro = short_text(rng, 60)
    lines = [
        f"title: {_q(f'{title} {year}')}",
        f'hashtag: "{hashtag}{year}"',
        f"starts: {year}-{month:02d}-01",
        f"ends: {year}-{month:02d}-{last:02d}",
        f"timezone: {zone}",
        f"summary: A month of updates, spotlights and partner resources, {title} {year}.",
        "hero:",
        f"  src: /media/heroes/{slug}.svg",
        f"  alt: An abstract illustration for {title} {year}, soft shapes in calm colours.",
        "intro: |",
        *("  " + line for line in wrap(intro).splitlines()),
        "",
        f"  If you are struggling right now, see [Get help](/help/) or read about "
        f"[{topics[0]}](/topics/{topics[0]}/).",
        "creators:",
        *(f"  - {s}" for s, _ in creators),
        f"organisations: [{', '.join(s for s, _ in orgs)}]",
        "topics:",
        *(f"  - {t}" for t in topics),
        "links:",
        '  - title: "World Health Organization: mental health"',
        "    url: https://www.who.int/health-topics/mental-health",
        "    description: Facts and figures from the WHO.",
    ]
    return "\n".join(lines) + "\n"


def _creator(rng: random.Random, plan: Plan, i: int, slug: str, name: str) -> str:
    topics = rng.sample(plan.topics, k=2)
    handle = "@" + slug.replace("-", "")[:15]
    pronouns = ("she/her", "he/him", "they/them")[i % 3]
    return (
        "---\n"
        f"name: {name}\n"
        f'handle: "{handle}"\n'
        f"pronouns: {pronouns}\n"
        "avatar:\n"
        f"  src: /media/creators/{slug}.svg\n"
        f"  alt: Illustrated avatar of {name}, abstract shapes on a plain background.\n"
        "links:\n"
        "  - title: Videos\n"
        f"    url: https://video.example.com/{slug}\n"
        f"topics: [{', '.join(topics)}]\n"
        "---\n" + wrap(short_text(rng, rng.randint(60, 120))) + "\n"
    )


def _organisation(rng: random.Random, plan: Plan, i: int, slug: str, name: str) -> str:
    regions = rng.sample(REGIONS, k=rng.randint(1, 3))
    lines = [
        "---",
        f"name: {name}",
        f"website: https://{slug}.example.org",
        f"summary: {name} offers free, confidential support and information.",
        "logo:",
        f"  src: /media/organisations/{slug}.svg",
        f"  alt: The logo of {name}.",
        f"topics: [{', '.join(rng.sample(plan.topics, k=2))}]",
        f"regions: [{', '.join(regions)}]",
        "helplines:",
    ]
    for h in range(1 + i % 3):
        lines += _helpline(rng, name, slug, i, h, regions)
    lines += ["---", wrap(short_text(rng, rng.randint(80, 150)))]
    return "\n".join(lines) + "\n"


def _helpline(
    rng: random.Random, name: str, slug: str, i: int, h: int, regions: list[str]
) -> list[str]:
    crisis = h == 0 and i % 2 == 0
    lines = [f"  - name: {name} {('line', 'text line', 'chat')[h]}"]
    if h == 0:
        lines += [f'    phone: "555-{i % 10000:04d}"', f'    sms: "555-{(i + 7) % 10000:04d}"']
    elif h == 1:
        lines += ["    text:", "      keyword: HOME", f'      number: "{74100 + i % 900}"']
    else:
        lines.append(f"    chat: https://{slug}.example.org/chat")
    lines.append(f"    hours: {rng.choice(('24/7', '18:00-23:00', 'Mon-Fri 09:00-17:00'))}")
    lines.append(f"    regions: [{regions[0]}]")
    lines.append(f"    crisis: {'true' if crisis else 'false'}")
    lines.append(f"    last_verified: 2025-0{1 + i % 4}-1{h}")
    return lines


def _page(rng: random.Random, plan: Plan, title: str, order: int | None) -> str:
    head = ["---", f"title: {title}", f"summary: {_q(title + ': how this hub works.')}"]
    if order is not None:
        head += ["nav: true", f"order: {order}"]
    links = [Target("the organisations we work with", "/organisations/")]
    text = body(rng, words=(200, 300), links=links)
    return "\n".join(head) + "\n---\n" + text


def _drop(rng: random.Random, plan: Plan, index: int, j: int, count: int) -> tuple[str, str]:
    """One drop's file name and text: the j-th of `count` drops of campaign `index`."""
    slug_c, year, month, zone = plan.campaigns[index]
    days = (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    day = date(year, month, 1) + timedelta(days=j * days // count)
    minutes = 7 * 60 + (j * 37) % (14 * 60) // 5 * 5  # 07:00 to 20:55, clear of DST changes
    when = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)
    kind = rng.choices(KINDS, weights=KIND_WEIGHTS)[0]
    topics = rng.sample(plan.topics, k=rng.randint(1, 3))
    if j == 0 and plan.campaign_topics[index][0] not in topics:
        topics[0] = plan.campaign_topics[index][0]  # the hub's intro links to its page
    title, slug = _title(rng, plan, slug_c, topics[0])
    draft = rng.random() < 0.01
    expired = not draft and rng.random() < 0.005
    creators = rng.sample(plan.creators, k=1 if kind == "spotlight" else rng.choice((0, 1, 1, 2)))
    orgs = rng.sample(plan.organisations, k=rng.choice((0, 0, 0, 1, 2)))
    lines = ["---", f"title: {_q(title)}", f"publish_at: {_when(rng, when, zone)}"]
    if kind != "article" or rng.random() < 0.3:
        lines.append(f"kind: {kind}")
    lines.append(f"summary: >-\n  {title}. {_summary(rng)}")
    if topics:
        lines.append(f"topics: [{', '.join(topics)}]")
    if creators:
        lines += ["creators:", *(f"  - {s}" for s, _ in creators)]
    if orgs:
        lines.append(f"organisations: [{', '.join(s for s, _ in orgs)}]")
    if "suicide-prevention" in topics or "eating-disorders" in topics:
        lines.append("content_warning: This post discusses suicide and self-harm.")
    if draft:
        lines.append("draft: true")
    if expired:
        lines.append(f"expires_at: {(when + timedelta(days=2)).strftime('%Y-%m-%d %H:%M')}")
    if rng.random() < 0.3:
        lines += [
            "image:",
            f"  src: {rng.choice(plan.media)}",
            f"  alt: {_q(f'An illustration for “{title}”.')}",
        ]
    if kind == "event":
        start = when + timedelta(days=1)
        lines += [
            "event:",
            f'  starts: "{start.strftime("%Y-%m-%d")} 19:00"',
            f'  ends: "{start.strftime("%Y-%m-%d")} 20:00"',
            "  location: Online livestream",
            f"  url: https://live.example.com/{slug_c}/{slug}",
        ]
    if rng.random() < 0.35:
        lines += [
            "links:",
            '  - title: "Mind: information and support"',
            "    url: https://www.mind.org.uk/information-support/",
            "    description: Guides on mental health problems, treatments and rights.",
        ]
    lines.append("---")
    text = "\n".join(lines)
    targets = _targets(rng, plan, creators, orgs, topics)
    image = None
    if rng.random() < 0.2:
        image = (rng.choice(plan.media), "A simple drawing in calm colours.")
    prose = body(rng, words=(300, 500), links=targets, image=image)
    plan.drops.append(Drop(slug_c, slug, title, linkable=not draft and not expired))
    return f"{day.isoformat()}-{slug}.md", text + "\n" + prose


def _when(rng: random.Random, when: datetime, zone: str) -> str:
    """publish_at as authors write it: plain, quoted, with a T, or with a UTC offset."""
    style = rng.random()
    if style < 0.55:
        return when.strftime("%Y-%m-%d %H:%M")
    if style < 0.85:
        return f'"{when.strftime("%Y-%m-%dT%H:%M")}"'
    offset = when.replace(tzinfo=ZoneInfo(zone)).strftime("%z")
    return f'"{when.strftime("%Y-%m-%dT%H:%M")}{offset[:3]}:{offset[3:]}"'


def _title(rng: random.Random, plan: Plan, campaign: str, topic: str) -> tuple[str, str]:
    subject = topic.replace("-", " ")
    title = f"{rng.choice(TITLE_LEADS)} {subject}: {rng.choice(TITLE_TAILS)}"
    slug = _slugify(title)
    taken = {d.slug for d in plan.drops[-DROPS_PER_CAMPAIGN:] if d.campaign == campaign}
    if slug not in taken:
        return title, slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{title} (part {n})", f"{slug}-{n}"


def _summary(rng: random.Random) -> str:
    return rng.choice(
        (
            "What it is, what helps, and where to find support.",
            "Practical ideas from our creators and partners.",
            "A short read with first steps you can take today.",
            "Answers to the questions readers send us most.",
        )
    )


def _targets(rng: random.Random, plan: Plan, creators, orgs, topics) -> list[Target]:
    """Pages this drop's body links to: earlier drops, a creator, an organisation, a topic."""
    targets = []
    earlier = [d for d in plan.drops[-300:] if d.linkable]
    for d in rng.sample(earlier, k=min(len(earlier), rng.randint(1, 2))):
        targets.append(Target(d.title, f"/{d.campaign}/{d.slug}/"))
    if creators:
        slug, name = creators[0]
        targets.append(Target(name, f"/creators/{slug}/"))
    if orgs:
        slug, name = orgs[0]
        targets.append(Target(name, f"/organisations/{slug}/"))
    targets.append(Target(f"more on {topics[0].replace('-', ' ')}", f"/topics/{topics[0]}/"))
    rng.shuffle(targets)
    return targets


def _media_file(rng: random.Random, path: str) -> bytes:
    return _png(rng) if path.endswith(".png") else _svg(rng, path).encode("utf-8")


def _svg(rng: random.Random, label: str) -> str:
    colours = ["#" + "".join(f"{rng.randrange(60, 230):02x}" for _ in range(3)) for _ in range(3)]
    circles = "".join(
        f'<circle cx="{rng.randrange(10, 110)}" cy="{rng.randrange(10, 70)}" '
        f'r="{rng.randrange(8, 30)}" fill="{c}"/>'
        for c in colours
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 80" width="120" height="80">'
        f'<title>{label}</title><rect width="120" height="80" fill="#f4f1ea"/>{circles}'
        "</svg>\n"
    )


def _png(rng: random.Random, size: int = 24) -> bytes:
    """A small gradient PNG, made with the standard library."""
    r0, g0, b0 = (rng.randrange(40, 200) for _ in range(3))
    rows = b"".join(
        b"\x00"
        + bytes(v for x in range(size) for v in ((r0 + x * 2) % 256, (g0 + y * 2) % 256, b0))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of drops")
    parser.add_argument("out", type=Path, help="folder to write the site into (new or empty)")
    args = parser.parse_args(argv)
    try:
        plan = generate(args.n, args.out)
    except FileExistsError as exc:
        print(f"generate.py: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.n} drops in {len(plan.campaigns)} campaigns, {len(plan.creators)} "
        f"creators, {len(plan.organisations)} organisations, {len(plan.topics)} topics "
        f"into {args.out}; build it with --now {NOW}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
