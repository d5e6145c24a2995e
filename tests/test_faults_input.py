"""Hostile and broken input (issue 16, items 9-12): every case ends, in seconds, with one line per problem
(`path:line:col: message`), the right exit status and no traceback; `check` and `build` agree on it.

Each case runs the real program in a child process (`python -m sitegen`), with a timeout: the FIFO and
/dev/zero cases hung before, and a hang must fail the test rather than the suite.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import paper, write_site

TIMEOUT = 60  # seconds; every case takes well under one (the alias bomb took 8 s and 395 MB of memory)

# A diagnostic: a path, then optionally a line and a column, then the message; nothing else on stderr.
DIAGNOSTIC = re.compile(r"[^\n]+?(:\d+(:\d+)?)?: \S[^\n]*")

GOOD = paper("good", digests="[2026-03-13]", tags="[pruning]")


@dataclass
class Ran:
    code: int
    out: str
    err: str


def sitegen(*args: str | Path) -> Ran:
    """`sitegen ARGS` in a child process; a run that does not end within TIMEOUT fails the test."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sitegen", *map(str, args)],
            capture_output=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"sitegen {' '.join(map(str, args))} did not end within {TIMEOUT} s")
    return Ran(
        proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )


def diagnostics(ran: Ran) -> list[str]:
    """The lines of stderr, each checked to be one well-formed diagnostic (so no traceback either)."""
    assert "Traceback" not in ran.err, ran.err[-3000:]
    lines = ran.err.splitlines()
    for line in lines:
        assert DIAGNOSTIC.fullmatch(line), line[:500]
    return lines


def check(root: Path, code: int = 1) -> list[str]:
    ran = sitegen("check", "--root", root)
    assert ran.code == code, ran.err[-3000:]
    return diagnostics(ran)


def build(root: Path, code: int = 1) -> list[str]:
    # (A base URL of the site's own, or the build would add its warning of localhost links.)
    ran = sitegen("build", "--root", root, "--no-search", "--base-url", "https://example.org/")
    assert ran.code == code, ran.err[-3000:]
    if code == 1:
        assert "output left as it was" in ran.out
    return diagnostics(ran)


def both(root: Path, code: int = 1) -> list[str]:
    """The diagnostics of `check`, which `build` must give too, with the same exit status; the output of an
    earlier good build is left byte for byte as it was by the failed one."""
    before = snapshot(root / "public")
    checked = check(root, code)
    built = build(root, code)
    assert built == checked
    if code:
        assert snapshot(root / "public") == before
    return checked


def snapshot(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def root(tmp_path) -> Path:
    """A site with one good page, built once (so that a failed build has output to leave alone)."""
    write_site(tmp_path, {"content/papers/good.md": GOOD})
    build(tmp_path, code=0)
    return tmp_path


# --- item 9: tracebacks -----------------------------------------------------------------------------------


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root reads a chmod 000 file; test_folder_in_place_of_a_file "
    "covers a taxonomy that cannot be read",
)
def test_unreadable_taxonomy(root):
    taxonomy = root / "content/taxonomy.yaml"
    taxonomy.write_text("tags: []\n")
    taxonomy.chmod(0)
    assert both(root) == [f"{taxonomy}: cannot read: Permission denied"]


@pytest.mark.parametrize(
    ("rel", "code"),
    [
        ("content/taxonomy.yaml", 1),
        ("content/digests/2026-03-13.yaml", 1),
        ("content/papers/x.md", 1),
        ("sitegen.yaml", 2),  # settings that cannot be read refuse the whole run
    ],
)
def test_folder_in_place_of_a_file(root, rel, code):
    (root / rel).mkdir(parents=True)
    assert both(root, code) == [f"{root / rel}: cannot read: a folder, not a file"]


def test_latin1_template(root):
    (root / "templates").mkdir()
    (root / "templates/home.html").write_bytes(b'{% extends "theme/base.html" %}\n{# caf\xe9 #}\n')
    message = "not UTF-8 text (byte 0xe9); save the file as UTF-8"
    assert both(root) == [f"{root}/templates/home.html:2:7: {message}"]


def test_latin1_template_that_no_page_uses(root):
    """`check` compiles every template of the site, and so does every build: they agree on a broken one."""
    (root / "templates/partials").mkdir(parents=True)
    (root / "templates/partials/unused.html").write_bytes(b"caf\xe9\n")
    assert both(root) == [
        f"{root}/templates/partials/unused.html:1:4: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


@pytest.mark.parametrize(
    "comment", ["", "# a comment: the YAML parser reads this block, not the fast reader\n"]
)
def test_rating_with_4301_digits(root, comment):
    page = root / "content/papers/b.md"
    page.write_text(f"---\ntitle: B\nslug: b\nrating: {'9' * 4301}\n{comment}---\nx\n")
    [line] = both(root)
    assert line == (
        f"{page}:4:9: YAML value error: a number 4,301 characters long is more than sitegen reads "
        "(1,000 at most): put it in quotes to keep it as text"
    )


def test_huge_number_is_quoted_short(root):
    """A number that YAML reads (hexadecimal: no length limit in Python) but that has more decimal digits
    than Python will print: the message describes it instead of printing it."""
    page = root / "content/papers/b.md"
    page.write_text(f"---\ntitle: B\nslug: b\nrating: 0x{'f' * 998}\n---\nx\n")  # (1,000 characters)
    assert both(root) == [
        f"{page}:4:9: 'rating' must be a whole number from 1 to 5, not <a number of about 1,202 digits>"
    ]


def test_explicit_timestamp_is_not_a_date(root):
    page = root / "content/papers/b.md"
    page.write_text('---\ntitle: B\nslug: b\ndigests: [!!timestamp "2026-03-13 10:00:00"]\n---\nx\n')
    assert both(root) == [f"{page}:4:11: digest date '2026-03-13 10:00:00' is not a valid date (YYYY-MM-DD)"]


def test_explicit_timestamp_in_a_digest_record(root):
    record = root / "content/digests/2026-03-13.yaml"
    record.parent.mkdir()
    record.write_text('date: !!timestamp "2026-03-13 10:00:00"\npapers: [good]\n')
    assert both(root) == [f"{record}:1:7: a digest record needs 'date: YYYY-MM-DD'"]


# --- item 10: YAML alias bombs ------------------------------------------------------------------------------


def alias_bomb(levels: int, key: str = "x") -> str:
    """Nine aliases to the level below on each level: 9**levels strings from a few hundred bytes."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]")
    lines.append(f"{key}: *l{levels - 1}")
    return "\n".join(lines) + "\n"


ALIAS_MESSAGE = (
    "YAML value error: aliases (*name) repeat values here past the 10,000 that sitegen lets them add: "
    "write the values out"
)


@pytest.mark.parametrize("levels", [8, 9])
def test_alias_bomb_in_front_matter(root, levels):
    page = root / "content/papers/b.md"
    bomb = alias_bomb(levels, key="tags")
    assert len(bomb) < 600
    page.write_text(f"---\ntitle: B\nslug: b\n{bomb}---\nx\n")
    # l0..l3 hold 9 + 81 + 729 + 6,561 values; with l4 (59,049) the aliases add more than the bound.
    assert both(root) == [f"{page}:8:1: {ALIAS_MESSAGE}"]


@pytest.mark.parametrize(
    ("rel", "prefix", "line", "code"),
    [
        ("content/taxonomy.yaml", "tags: []\n", 6, 1),
        ("content/digests/2026-03-13.yaml", "date: 2026-03-13\n", 6, 1),
        ("sitegen.yaml", "title: A site\n", 6, 2),
    ],
)
def test_alias_bomb_in_data_files(root, rel, prefix, line, code):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(prefix + alias_bomb(9))
    assert both(root, code) == [f"{path}:{line}:1: {ALIAS_MESSAGE}"]


def test_alias_loop(root):
    page = root / "content/papers/b.md"
    page.write_text("---\ntitle: B\nslug: b\nextra: &a [1, *a]\n---\nx\n")
    assert both(root) == [
        f"{page}:4:8: YAML value error: an alias refers to a value that contains it (a loop)"
    ]


def test_a_few_aliases_are_fine(root):
    (root / "content/papers/b.md").write_text(
        "---\ntitle: B\nslug: b\ndigests: &d [2026-03-13]\ntags: [pruning]\nseen: *d\n---\nx\n"
    )
    [line] = both(root, code=0)
    assert line.endswith(
        "warning: unknown field 'seen'; known fields: title, slug, digests, tags, links, draft, "
        "status, rating, arxiv, authors, published, doi, upvotes"
    )


def test_long_values_are_cut_in_messages(root):
    page = root / "content/papers/b.md"
    page.write_text(f"---\ntitle: B\nslug: b\ntags: [{'x' * 1_000_000}_]\n---\nx\n")
    [line] = both(root)
    assert line.startswith(f"{page}:4:8: tag 'xxxx")
    assert line.endswith("' may hold only lowercase ASCII letters, digits and single hyphens")
    assert len(line) < len(str(page)) + 200


# --- item 11: special files ---------------------------------------------------------------------------------

REFUSED = "not a regular file (sitegen reads only regular files)"


def test_fifo_page(root):
    fifo = root / "content/papers/x.md"
    os.mkfifo(fifo)
    assert both(root) == [f"{fifo}: cannot read: a FIFO (named pipe), {REFUSED}"]


@pytest.mark.parametrize("rel", ["content/taxonomy.yaml", "content/digests/2026-03-13.yaml", "sitegen.yaml"])
def test_fifo_data_files(root, rel):
    fifo = root / rel
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    code = 2 if rel == "sitegen.yaml" else 1
    assert both(root, code) == [f"{fifo}: cannot read: a FIFO (named pipe), {REFUSED}"]


def test_folder_links_that_loop(root):
    """Two links back up the content folder: the build's scan of its inputs used to walk 2**40 paths."""
    (root / "content/a").symlink_to(".")
    (root / "content/b").symlink_to(".")
    assert both(root, code=0) == []


def test_page_linked_to_dev_zero(root):
    link = root / "content/papers/z.md"
    link.symlink_to("/dev/zero")
    assert both(root) == [f"{link}: cannot read: a device, {REFUSED}"]


def test_oversized_page(root):
    page = root / "content/papers/big.md"
    with open(page, "wb") as file:
        file.truncate(4 * 1024 * 1024 + 1)  # (sparse: nothing to write)
    assert both(root) == [f"{page}: cannot read: larger than 4 MiB, the most sitegen reads from one file"]


def test_fifo_template(root):
    (root / "templates").mkdir()
    fifo = root / "templates/base.html"
    os.mkfifo(fifo)
    assert both(root) == [f"{fifo}: cannot read: a FIFO (named pipe), {REFUSED}"]


def test_fifo_and_device_in_static_are_left_out(root):
    (root / "static").mkdir()
    os.mkfifo(root / "static/pipe.css")
    (root / "static/zero.bin").symlink_to("/dev/zero")
    warnings = both(root, code=0)
    assert warnings == [
        f"{root}/static/pipe.css: warning: static file ignored: a FIFO (named pipe), {REFUSED}",
        f"{root}/static/zero.bin: warning: static file ignored: a device, {REFUSED}",
    ]
    assert not (root / "public/zero.bin").exists()


# --- item 12: one line per diagnostic, and check and build agree ------------------------------------------


def test_control_character_in_yaml(root):
    page = root / "content/papers/b.md"
    page.write_bytes(b'---\ntitle: "a\x01b"\nslug: b\n---\nx\n')
    assert both(root) == [
        f"{page}:2:10: YAML syntax error: character U+0001 may not appear in YAML; in a double-quoted "
        "string, write it as \\x01"
    ]


def test_line_break_in_a_file_name_stays_on_one_line(root):
    page = root / "content/papers/two\nlines.md"
    page.write_text("---\ntitle: B\nslug: B\n---\nx\n")
    folder = root / "content/papers"
    assert both(root) == [
        f"{folder}/two\\nlines.md:3:7: slug 'B' may hold only lowercase ASCII letters, digits and single "
        "hyphens"
    ]


def test_check_and_build_agree(root):
    """The same flawed content gives the same diagnostics, in the same order, from both commands; before,
    `check` left out what only the build looked at (a digest record naming a missing page, templates)."""
    write_site(
        root,
        {
            "content/papers/b.md": "---\ntitle: B\nslug: b\ncolour: red\n---\nx\n",
            "content/papers/c.md": b"\xef\xbb\xbf---\ntitle: C\nslug: c\n---\nx\n",
            "content/digests/2026-03-13.yaml": "date: 2026-03-13\npapers: [good, ghost]\n",
            "content/taxonomy.yaml": "tags:\n  - slug: pruning\n    name: Pruning\n",
        },
    )
    warnings = both(root, code=0)
    assert warnings == [
        f"{root}/content/papers/b.md:4:1: warning: unknown field 'colour'; known fields: title, slug, "
        "digests, tags, links, draft, status, rating, arxiv, authors, published, doi, upvotes",
        f"{root}/content/papers/c.md:1:1: warning: UTF-8 byte-order mark ignored",
        f"{root}/content/digests/2026-03-13.yaml:2:16: warning: digest record lists 'ghost', but no paper "
        "has that slug",
    ]
    # An error as well: both fail, with the same lines (the warnings among them).
    write_site(root, {"content/papers/d.md": "---\ntitle: D\nslug: d\ndigests: [2026-02-30]\n---\nx\n"})
    lines = both(root)
    assert (
        f"{root}/content/papers/d.md:4:11: digest date '2026-02-30' is not a valid date (YYYY-MM-DD)" in lines
    )
    assert set(warnings) < set(lines)
