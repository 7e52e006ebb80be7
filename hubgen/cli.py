"""The command line: parse arguments, read the clock once, map failures to exit codes.

Exit status: 0 success, 1 the content has errors, 2 the command was used wrongly
or the output folder was refused. No traceback reaches an author.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from hubgen import __version__
from hubgen.diagnostics import Diagnostic, format_github, format_json, format_text
from hubgen.errors import ContentErrors, HubgenError, UsageError
from hubgen.pipeline import build, check
from hubgen.timeparse import TimeError, parse_now

FORMATS: dict[str, Callable[[list[Diagnostic]], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubgen",
        description="Build static microsites for awareness campaigns.",
    )
    parser.add_argument("--version", action="version", version=f"hubgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    b = commands.add_parser(
        "build",
        help="build the site into an output folder",
        description="Check the content, then build the site as published at --now. "
        "Nothing is written if the content has errors; the previous output stays as it was.",
    )
    _common(b)
    b.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: public/ inside the site folder)",
    )
    b.add_argument(
        "--preview",
        action="store_true",
        help="include drafts, scheduled and expired drops, labelled, and mark every "
        "page noindex; never deploy a preview build",
    )
    b.add_argument(
        "--base-url",
        metavar="URL",
        help="the URL the output folder is served at (overrides site.yaml's base_url)",
    )
    b.add_argument(
        "--force",
        action="store_true",
        help="write into an output folder that holds files hubgen did not write (they are kept)",
    )
    c = commands.add_parser(
        "check",
        help="check all content, published or not, without building",
        description="Check every file, published or not, and report all problems.",
    )
    _common(c)
    c.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default="text",
        help="how to print problems: text (default), json, or github (GitHub Actions annotations)",
    )
    s = commands.add_parser(
        "schedule",
        help="list the coming changes: drops going live or expiring, campaigns starting or ending",
        description="List every coming boundary (a moment at which the built site changes) "
        "after --now, in local time and UTC, with the file it comes from; the next one first.",
    )
    _site_and_now(s)
    s.add_argument("--json", action="store_true", help="print JSON for machines")
    _serve_parser(commands)
    _new_parser(commands)
    return parser


def _serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    v = commands.add_parser(
        "serve",
        help="preview the site in a browser, rebuilding and reloading as you save",
        description="Build the site, serve it over HTTP, and rebuild when a file under "
        "site.yaml, campaigns/, content/ or themes/ changes; open pages reload by "
        "themselves, and show the problems when a save breaks the build.",
    )
    _site_and_now(v)
    v.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this computer only)",
    )
    v.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to listen on; 0 picks a free one (default: 8000)",
    )
    v.add_argument(
        "--preview",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show drafts, scheduled and expired drops, labelled, with a preview banner "
        "(the default); --no-preview shows the site as published at --now",
    )


def _new_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    n = commands.add_parser(
        "new",
        help="start a campaign, drop, creator, organisation or page from a commented template",
        description="Write a valid, commented starter file and print its path. "
        "An existing file is never replaced.",
    )
    kinds = n.add_subparsers(dest="kind", required=True, metavar="KIND")
    c = kinds.add_parser("campaign", help="campaigns/<slug>.yaml")
    c.add_argument("slug")
    c.add_argument("--starts", required=True, metavar="DATE", help="first day, like 2023-05-01")
    c.add_argument("--ends", required=True, metavar="DATE", help="last day (included)")
    c.add_argument("--title", help="default: made from the slug")
    d = kinds.add_parser("drop", help="content/drops/<campaign>/<date>-<slug>.md, as a draft")
    d.add_argument("campaign", help="the campaign's slug")
    d.add_argument("title", help="the drop's title; the file name is made from it")
    d.add_argument("--at", required=True, metavar="T", help="publish_at, like 2023-05-10 09:00")
    cr = kinds.add_parser("creator", help="content/creators/<slug>.md")
    cr.add_argument("slug")
    cr.add_argument("--name", help="default: made from the slug")
    o = kinds.add_parser("organisation", help="content/organisations/<slug>.md")
    o.add_argument("slug")
    o.add_argument("--website", required=True, metavar="URL", help="its website, https://...")
    o.add_argument("--name", help="default: made from the slug")
    p = kinds.add_parser("page", help="content/pages/<slug>.md")
    p.add_argument("slug")
    p.add_argument("--title", help="default: made from the slug")
    for kind in (c, d, cr, o, p):
        _site_option(kind)


def _common(p: argparse.ArgumentParser) -> None:
    _site_and_now(p)
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument(
        "--jobs",
        type=_jobs,
        metavar="N",
        help="worker processes that render Markdown and pages (default: one per CPU)",
    )
    p.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="neither read nor write the build cache (.hubgen-cache/ in the site folder)",
    )


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes, 1 or more, got {text!r}")
    return int(text)


def _site_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--site",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the site folder, holding site.yaml (default: the current folder)",
    )


def _site_and_now(p: argparse.ArgumentParser) -> None:
    _site_option(p)
    p.add_argument(
        "--now",
        metavar="T",
        help="the moment to act as if it were, ISO 8601 like 2023-05-10T12:00 or "
        "2023-05-10T12:00-04:00; without an offset it is in the site's time zone "
        "(default: the current time)",
    )


def console(argv: Sequence[str] | None = None) -> NoReturn:
    """`hubgen` as a command (and `python -m hubgen`, `build.py`): `main`, then
    exit without freeing the heap object by object. A build of a large site
    leaves a million objects, many in cycles that only a full collection
    would free: at 10,000 drops, 0.5 to 0.8 s of tearing down for a process
    that is ending anyway (mypy exits the same way). Nor is the build's work
    let go when it returns (`hold`). Files are closed and the cache saved by
    then; only the standard streams need flushing, and when that fails the
    status is 120, as Python's own exit makes it."""
    held: list[object] = []  # what the command made, kept till the process ends
    code = main(argv, hold=held)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away, as `| head` does
            code = 120
    os._exit(code)


def main(argv: Sequence[str] | None = None, *, hold: list[object] | None = None) -> int:
    """The command `argv` names, run; its exit status. `hold` is handed a build's
    work, not to be let go object by object: the process ends right after,
    without freeing its heap (`console`)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage or help
        return int(exc.code or 0)
    try:
        now = _now(getattr(args, "now", None))
        if not args.site.is_dir():
            raise UsageError(f"no site folder at {args.site}")
        if args.command == "new":
            return _new(args)
        if args.command == "build":
            return _build(args, now, hold=hold)
        if args.command == "schedule":
            return _schedule(args, now)
        if args.command == "serve":
            return _serve(args, now)
        return _check(args, now)
    except ContentErrors as exc:
        fmt = getattr(args, "format", "text")
        stream = sys.stderr if fmt == "text" else sys.stdout
        stream.write(_formatted(fmt, exc.diagnostics, args.site))
        return exc.exit_code
    except HubgenError as exc:
        print(f"hubgen: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"hubgen: error:{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hubgen: interrupted", file=sys.stderr)
        return 130


def _now(text: str | None) -> datetime:
    """The one place hubgen reads the clock."""
    if text is None:
        return datetime.now(UTC)
    try:
        return parse_now(text)
    except TimeError as exc:
        raise UsageError(f"--now: {exc}") from None


def _build(args: argparse.Namespace, now: datetime, *, hold: list[object] | None) -> int:
    out = args.out if args.out is not None else args.site / "public"
    built = build(
        args.site,
        out,
        now=now,
        preview=args.preview,
        strict=args.strict,
        base_url=args.base_url,
        force=args.force,
        jobs=args.jobs,
        cache=args.cache,
        hold=hold,
    )
    _warn(built.diagnostics)
    preview = " (preview)" if args.preview else ""
    if built.unchanged:
        print(f"{out} is up to date{preview}: {built.files} files, {built.summary}")
    else:
        print(f"built {built.files} files into {out}{preview}: {built.summary}")
    return 0


def _schedule(args: argparse.Namespace, now: datetime) -> int:
    from hubgen import schedule  # like the stages: not loaded for a build that is up to date
    from hubgen.publish import upcoming

    checked = check(args.site, now=now)
    _warn(checked.diagnostics)
    coming = upcoming(checked.graph, checked.now)
    if args.json:
        sys.stdout.write(schedule.format_json(coming, now=checked.now))
    else:
        zone = checked.graph.site.timezone
        sys.stdout.write(schedule.format_text(coming, now=checked.now, zone=zone))
    return 0


def _serve(args: argparse.Namespace, now: datetime) -> int:
    """Without --now the preview follows the clock: each rebuild reads it afresh."""
    from hubgen.serve import serve  # the server and watchdog load only for this command

    def clock() -> datetime:
        return now if args.now is not None else datetime.now(UTC)

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a port number (0 to 65535)")
    return serve(
        args.site,
        host=args.host,
        port=args.port,
        preview=args.preview,
        clock=clock,
        follow_clock=args.now is None,
    )


def _check(args: argparse.Namespace, now: datetime) -> int:
    checked = check(args.site, now=now, strict=args.strict, jobs=args.jobs, cache=args.cache)
    out = _formatted(args.format, checked.diagnostics, args.site)
    (sys.stdout if args.format != "text" else sys.stderr).write(out)
    return 0


def _formatted(fmt: str, items: list[Diagnostic], site: Path) -> str:
    """GitHub annotations need paths from the repository root: run from there."""
    if fmt == "github":
        return format_github(items, root=_from_here(site))
    return FORMATS[fmt](items)


def _from_here(site: Path) -> str:
    """The site folder as a path from the working folder ("" for the folder itself)."""
    here = Path.cwd().resolve()
    resolved = site.resolve()
    path = resolved.relative_to(here) if resolved.is_relative_to(here) else resolved
    return "" if path == Path(".") else path.as_posix()


def _new(args: argparse.Namespace) -> int:
    from hubgen import scaffold  # only this command writes starters

    if args.kind == "campaign":
        starter = scaffold.campaign(args.slug, starts=args.starts, ends=args.ends, title=args.title)
    elif args.kind == "drop":
        if not scaffold.campaign_exists(args.site, args.campaign):
            raise UsageError(
                f"no campaign '{args.campaign}' (campaigns/{args.campaign}.yaml): start it with "
                f"hubgen new campaign {args.campaign} --starts DATE --ends DATE"
            )
        starter = scaffold.drop(args.campaign, args.title, at=args.at)
    elif args.kind == "creator":
        starter = scaffold.creator(args.slug, name=args.name)
    elif args.kind == "organisation":
        starter = scaffold.organisation(args.slug, website=args.website, name=args.name)
    else:
        starter = scaffold.page(args.slug, title=args.title)
    print(scaffold.write_starter(args.site, starter))
    return 0


def _warn(items: list[Diagnostic]) -> None:
    if items:
        sys.stderr.write(format_text(items))
