"""Command line: the only place that prints or exits.

Exit status: 0 success; 1 the content has errors; 2 a usage error or an input refused as a whole.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

from sitegen import __version__
from sitegen.config import load_config, site_path
from sitegen.errors import Diagnostic, Report, SitegenError
from sitegen.model import load_site, parse_iso_date

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of a usage block."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


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
    parser = _Parser(prog="sitegen", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"sitegen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def root_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--root", type=Path, default=Path("."), help="the site folder (default: current folder)"
        )

    p = commands.add_parser(
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

    p = commands.add_parser("build", help="render the site into the output folder")
    root_option(p)
    p.add_argument("--out", type=Path, help="output folder (default: ROOT/public)")
    p.add_argument("--base-url", help="absolute URL the site is served from, e.g. https://x.org/review/")
    p.add_argument("--drafts", action="store_true", help="include pages with draft: true")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")

    p = commands.add_parser("serve", help="serve the site locally, optionally rebuilding on change")
    root_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port to listen on (default: 8000)")
    p.add_argument("--watch", action="store_true", help="rebuild and reload the browser when files change")

    p = commands.add_parser("check", help="validate the content without building")
    root_option(p)
    return parser


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        sys.stderr.write(f"{diagnostic}\n")


def _check_root(root: Path) -> None:
    if not root.is_dir():
        raise SitegenError(Diagnostic(str(root), "site folder does not exist"))


def cmd_check(args: argparse.Namespace) -> int:
    """What a build validates, without rendering: the content (load_site) and the site's templates and static
    files (check_site_files)."""
    from sitegen.render import make_environment
    from sitegen.validate import check_site_files

    _check_root(args.root)
    config = load_config(args.root)
    report = Report()
    site = load_site(args.root, config, report)
    env = make_environment(site_path(args.root, config.templates_dir).resolve())
    check_site_files(args.root, config, env, report)
    _print_diagnostics(report.diagnostics)
    errors, warnings = len(report.errors), len(report.warnings)
    print(f"checked {len(site.papers)} papers: {errors} errors, {warnings} warnings")
    return EXIT_CONTENT if errors else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from sitegen.importer import import_files

    _check_root(args.root)
    result = import_files(args.root, args.files, day=args.date, year=args.year, today=date.today())
    _print_diagnostics(result.diagnostics)
    print(result.summary())
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from sitegen.build import Builder, BuildOptions

    _check_root(args.root)
    options = BuildOptions(
        out=args.out,
        base_url=args.base_url,
        drafts=args.drafts,
        strict=args.strict,
        search=not args.no_search,
    )
    progress = _progress_printer() if sys.stderr.isatty() else None
    # A one-shot build makes few reference cycles but holds a large, long-lived object graph (every paper,
    # view and page) that each full collection walks again: a third of a rebuild's time after a small edit.
    # Freed by reference counting, the memory peak is the same without the cycle collector.
    gc.disable()
    builder = Builder(args.root, options, progress)
    if args.keep is not None:
        args.keep.append(builder)
        builder.retained = args.keep
    result = builder.build()
    if progress:
        sys.stderr.write("\r\033[K")
    _print_diagnostics(result.report.diagnostics)
    print(result.summary())
    return EXIT_CONTENT if result.failed else EXIT_OK


def _progress_printer():
    def show(stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r\033[K{stage}: {done}/{total}")
        sys.stderr.flush()

    return show


def cmd_serve(args: argparse.Namespace) -> int:
    from sitegen.serve import serve

    _check_root(args.root)

    def log(line: str) -> None:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    return serve(args.root, host=args.host, port=args.port, watch=args.watch, log=log)


COMMANDS = {"import": cmd_import, "build": cmd_build, "serve": cmd_serve, "check": cmd_check}


# Commands after which the process ends at once (see run); `serve` ends the usual way, with its cleanup.
QUICK_EXIT = frozenset({"build", "check", "import"})


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
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
