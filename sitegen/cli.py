"""Command line: the only place that prints or exits.

Exit status: 0 success; 1 the content has errors; 2 a usage error or an input refused as a whole.

Size: the argument parser and one short function per command, with the printing of results: the one place that
prints or exits stays one file.
"""

from __future__ import annotations

import argparse
import gc
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sitegen import __version__
from sitegen.config import CONFIG_NAME, load_config, setting_position, site_path
from sitegen.content.model import load_site, parse_iso_date
from sitegen.errors import Diagnostic, Report, SitegenError, display_path, plural
from sitegen.importer.tagcheck import check_tags
from sitegen.text.urls import is_local

if TYPE_CHECKING:
    from sitegen.build import BuildResult

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2

#: What `sitegen --help` opens with.
DESCRIPTION = (
    "sitegen turns daily trending-papers digests into a static literature-review website: a page per "
    "paper, lists by tag and by digest, feeds and search."
)
EPILOG = (
    "Start a site with `sitegen new DIR`, then in DIR: `sitegen import DIGEST`, `sitegen serve --watch` to "
    "preview, `sitegen build` to make the site in public/. `sitegen COMMAND --help` tells more of each. "
    "Exit status: 0 success, 1 the content has errors, 2 a usage error or an input refused as a whole."
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of a usage block."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)

    def format_help(self) -> str:
        """argparse's help with the description first: the help opens by saying what the tool or command
        does, then how to call it."""
        formatter = self._get_formatter()
        formatter.add_text(self.description)
        formatter.add_usage(self.usage, self._actions, self._mutually_exclusive_groups)
        for group in self._action_groups:
            formatter.start_section(group.title)
            formatter.add_text(group.description)
            formatter.add_arguments(group._group_actions)
            formatter.end_section()
        formatter.add_text(self.epilog)
        return formatter.format_help()


def _iso_date(text: str) -> date:
    parsed = parse_iso_date(text)
    if parsed is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-13")
    return parsed


def _year(text: str) -> int:
    if not text.isdigit() or not 1900 <= int(text) <= 9999:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year like 2026")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sitegen", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"sitegen {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    def command(name: str, help: str) -> argparse.ArgumentParser:
        """A command whose own --help opens with its one-line help, as a sentence."""
        return subparsers.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")

    def root_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--root", type=Path, default=Path("."), help="the site folder (default: current folder)"
        )

    p = command("new", help="make a site folder to start from: settings, tags, a README")
    p.add_argument("folder", type=Path, metavar="DIR", help="a new or empty folder")

    p = command(
        "import",
        help="turn digests, Hugging Face or arXiv lists and reference libraries into paper pages",
    )
    p.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="digest text, Hugging Face daily-papers JSON, arXiv Atom, BibTeX or CSL-JSON (told by content)",
    )
    root_option(p)
    p.add_argument(
        "--date",
        type=_iso_date,
        help="digest date for the papers of every file given (overrides their own dates)",
    )
    p.add_argument(
        "--year", type=_year, help="year of the digests' date lines (default: latest not in future)"
    )

    p = command("build", help="render the site into the output folder")
    root_option(p)
    p.add_argument("--out", type=Path, help="output folder (default: ROOT/public)")
    p.add_argument("--base-url", help="absolute URL the site is served from, e.g. https://x.org/review/")
    p.add_argument("--drafts", action="store_true", help="include pages with draft: true")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")

    p = command("serve", help="serve the site locally, optionally rebuilding on change")
    root_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port to listen on (default: 8000)")
    p.add_argument("--watch", action="store_true", help="rebuild and reload the browser when files change")

    p = command("check", help="validate the content without building")
    root_option(p)

    p = command("retag", help="apply the taxonomy's current rules to the pages' tags")
    root_option(p)
    p.add_argument("--apply", action="store_true", help="write the changes (default: only list them)")
    p.add_argument(
        "--adopt",
        type=Path,
        metavar="OLD_TAXONOMY",
        help="count tags without auto_tags as the importer's where this older taxonomy's rules give them",
    )

    p = command("repair", help="apply the importer's current text repair to imported abstracts")
    root_option(p)
    p.add_argument("--apply", action="store_true", help="write the changes (default: only list them)")
    return parser


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        sys.stderr.write(f"{diagnostic}\n")


def _check_root(root: Path) -> None:
    if not root.is_dir():
        message = "site folder does not exist; make one with `sitegen new DIR`"
        raise SitegenError(Diagnostic(str(root), message))


def _check_site(root: Path) -> None:
    """Refuse a folder that is not a site (neither content nor settings): building or checking it would
    make an empty site, or check nothing, without a word of why."""
    _check_root(root)
    if os.path.lexists(root / CONFIG_NAME) or os.path.lexists(root / "content"):
        return
    try:
        empty = not os.listdir(root)
    except OSError:
        empty = False
    start = f"sitegen new {shlex.quote(display_path(root))}" if empty else "sitegen new DIR"
    message = (
        f"not a site folder: it has neither content/ nor {CONFIG_NAME}; "
        f"start a site with `{start}`, or give the site's folder with --root"
    )
    raise SitegenError(Diagnostic(str(root), message))


def _problems(report: Report) -> str:
    return f"{plural(len(report.errors), 'error')}, {plural(len(report.warnings), 'warning')}"


def cmd_new(args: argparse.Namespace) -> int:
    from sitegen.content.newsite import new_site

    new_site(args.folder)
    where = display_path(args.folder)
    print(f"made a new site in {where}: settings in {CONFIG_NAME}, tags in content/taxonomy.yaml")
    command = f"sitegen import DIGEST --root {shlex.quote(where)}"
    print(f"next: import a digest with `{command}`; README.md there tells the rest")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """What a build validates, without rendering: the content (load_site), the site's templates and static
    files (check_site_files), and static files that pages would replace (check_static_collisions)."""
    from sitegen.build.templates import make_environment
    from sitegen.build.validate import check_site_files, check_static_collisions

    _check_site(args.root)
    config = load_config(args.root)
    report = Report()
    site = load_site(args.root, config, report)
    env = make_environment(site_path(args.root, config.templates_dir).resolve())
    check_site_files(args.root, config, env, report)
    check_static_collisions(site, report)
    check_tags(site, report)
    _print_diagnostics(report.diagnostics)
    print(f"checked {plural(len(site.papers), 'paper')}: {_problems(report)}")
    return EXIT_CONTENT if report.errors else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from sitegen.importer.run import import_files

    _check_root(args.root)  # (an import into an empty folder starts a site: content/ is made)
    result = import_files(args.root, args.files, day=args.date, year=args.year, today=date.today())
    _print_diagnostics(result.diagnostics)
    print(result.summary())
    return EXIT_OK


def cmd_retag(args: argparse.Namespace) -> int:
    from sitegen.importer.retag import retag

    result = retag(args.root, apply=args.apply, adopt=args.adopt)
    _print_diagnostics(result.diagnostics)
    for change in result.changes:
        print(change)
    print(result.summary(args.apply))
    return EXIT_OK


def cmd_repair(args: argparse.Namespace) -> int:
    from sitegen.importer.repair import repair

    result = repair(args.root, apply=args.apply)
    _print_diagnostics(result.diagnostics)
    for change in result.changes:
        print(change)
    print(result.summary(args.apply))
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from sitegen.build import Builder, BuildOptions

    _check_site(args.root)
    # The settings as the build reads them (it raises the same errors): a localhost base_url is then told.
    config = load_config(args.root, {"base_url": args.base_url} if args.base_url is not None else None)
    options = BuildOptions(
        out=args.out,
        base_url=args.base_url,
        drafts=args.drafts,
        strict=args.strict,
        search=not args.no_search,
    )
    progress = _progress_printer() if sys.stderr.isatty() else None
    builder = Builder(args.root, options, progress)
    if args.keep is not None:
        args.keep.append(builder)
        builder.retained = args.keep
    result = builder.build()
    if progress:
        sys.stderr.write("\r\033[K")
    if args.base_url is None and not result.failed and is_local(config.base_url):
        result.report.diagnostics.append(_local_base_url(args.root, config.base_url))
    _print_diagnostics(result.report.diagnostics)
    print(result.summary() if result.failed else _build_summary(result))
    return EXIT_CONTENT if result.failed else EXIT_OK


def _local_base_url(root: Path, base_url: str) -> Diagnostic:
    """The warning of a build made with a base_url of this computer: every `sitegen build` makes a site to
    deploy (`serve` builds with its own address), whose absolute links would lead nowhere once deployed.
    (Not given when --base-url names such an address: the build was meant for it.)"""
    line, col = setting_position(root, "base_url")
    message = (
        f"base_url is {base_url}: the feeds, sitemap and canonical links of this build point at this "
        "computer (and BibTeX leaves out the pages' URLs); "
        f"set base_url in {CONFIG_NAME} to the site's address, or build with --base-url URL"
    )
    return Diagnostic(str(root / CONFIG_NAME), message, line, col, "warning")


#: Page kinds the build summary names, in order; the others count as other pages.
_KINDS = {"paper": "Papers", "tag": "Tag pages", "digest": "Digest pages", "feed": "Feeds"}


def _build_summary(result: BuildResult) -> str:
    """A table in the manner of Hugo's: pages by kind, files written and removed, then the time and the
    problems in one line."""
    rows: list[tuple[str, int]] = [(label, result.counts.get(kind, 0)) for kind, label in _KINDS.items()]
    rows.append(("Other pages", sum(n for kind, n in result.counts.items() if kind not in _KINDS)))
    rows += [("Files written", len(result.written)), ("Files removed", len(result.removed))]
    if result.search is not None:
        rows.append(("Pages in search", result.search.pages))
    label_width = max(len(label) for label, _ in rows)
    number_width = max(len(str(n)) for _, n in rows)
    lines = [f"  {label:<{label_width}} | {n:>{number_width}}" for label, n in rows]
    if result.search_removed:
        why = "paper pages changed; build without --no-search"
        lines.append(f"note: the old search index was removed ({why})")
    lines.append(f"built in {_duration(result.seconds)}: {_problems(result.report)}")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _progress_printer():
    def show(stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r\033[K{stage}: {done}/{total}")
        sys.stderr.flush()

    return show


def cmd_serve(args: argparse.Namespace) -> int:
    from sitegen.serve.session import serve

    _check_site(args.root)

    def log(line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    return serve(args.root, host=args.host, port=args.port, watch=args.watch, log=log)


COMMANDS = {
    "new": cmd_new,
    "import": cmd_import,
    "build": cmd_build,
    "serve": cmd_serve,
    "check": cmd_check,
    "retag": cmd_retag,
    "repair": cmd_repair,
}


# Commands after which the process ends at once (see run); `serve` ends the usual way, with its cleanup.
QUICK_EXIT = frozenset({"new", "build", "check", "import", "retag", "repair"})


def run() -> NoReturn:
    """The `sitegen` program. After a one-shot command the interpreter is not torn down: freeing a build's
    objects one by one takes a tenth of a second at 10,000 papers and changes nothing on disk (every file and
    child process is finished by then)."""
    # Past a file size limit (ulimit -f) a write then fails with EFBIG, which is reported like a full disk,
    # instead of the signal killing the process half-way through a file.
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    # What a quick-exit command leaves here is never freed: the process ends first.
    kept: list[object] = []
    if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT:
        # Killed politely (a CI job's time limit, `kill`), a command stops as after Ctrl-C: a failed build
        # leaves the output as it was and its Pagefind run stopped, not running on alone. (`serve` does the
        # same with its own cleanup.)
        signal.signal(signal.SIGTERM, _terminated)
        # A one-shot command makes few reference cycles but holds a large, long-lived object graph (every
        # paper, view and page) that each full collection walks again. Only for the program, which ends
        # after the command: main() called in a longer-lived process leaves the collector as it is.
        gc.disable()
    code = main(keep=kept)
    if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass
        os._exit(code)
    sys.exit(code)


def main(argv: Sequence[str] | None = None, keep: list[object] | None = None) -> int:
    """Run one command. `keep`: a list that outlives the process's last use of memory (see run), where a
    command may leave its large objects rather than free them one by one."""
    args = build_parser().parse_args(argv)
    args.keep = keep
    try:
        return COMMANDS[args.command](args)
    except SitegenError as exc:
        _print_diagnostics(exc.diagnostics)
        return exc.exit_code
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("sitegen."):
            sys.stderr.write(f"sitegen {args.command}: not built yet\n")
            return EXIT_USAGE
        raise
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        # The environment failed where no module expected it (a full disk, a folder that turned read-only):
        # one line naming the file, as for any other error.
        named = isinstance(exc.filename, str | bytes | os.PathLike)
        where = os.fsdecode(exc.filename) if named else f"sitegen {args.command}"
        _print_diagnostics([Diagnostic(where, exc.strerror or str(exc))])
        return EXIT_CONTENT
    except Terminated:
        sys.stderr.write("terminated\n")
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is (see run) so that it unwinds as after Ctrl-C."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


if __name__ == "__main__":
    raise SystemExit(main())
