"""Imports that must leave a site that builds (issue 16, items 6, 7 and the import side of 12).

- Titles that are YAML keywords or numbers: every YAML the importer writes (page front matter and digest
  records) reads back as the same strings, a record damaged by the old writer is read as written with a
  file:line warning and repaired by the next import, and one reader serves import, check and build.
- Links whose scheme or host is in capitals: the importer writes only links the validator accepts.
- Temporary files of killed imports: later imports remove those whose writer is gone; check and build never
  read them.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import REPO, build_table, paper, write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen.content.frontmatter import dump, parse
from sitegen.content.model import is_web_link, load_paper, parse_record
from sitegen.errors import Report
from sitegen.importer.run import import_digests, record_text

TODAY = date(2026, 3, 20)
DAY = "2026-03-13"
#: Titles that YAML reads as something other than a string when written without quotes, and their slugs.
KEYWORD_TITLES = {
    "1984": "1984",
    "Null": "null",
    "~50%": "50",
    "yes": "yes",
    "Off": "off",
    "1e3": "1e3",
    ".inf": "inf",
    "0x1F": "0x1f",
    "0o17": "0o17",
    "012": "012",
    "- x": "x",
    "# y": "y",
    "a: b": "a-b",
    "True": "true",
}
#: The record of DAY as importers before the quoting writer wrote it for those titles.
DAMAGED_RECORD = (
    f"# The papers of the digest of {DAY} in the digest's own order (sitegen import).\n"
    f"date: {DAY}\n"
    "sources: [digest.txt]\n"
    "papers:\n" + "".join(f"  - {slug}\n" for slug in KEYWORD_TITLES.values())
)
#: The slugs of DAMAGED_RECORD that YAML reads as no string, and what it reads them as.
DAMAGED = {"1984": "a number", "null": "null", "50": "a number", "yes": "true/false", "off": "true/false"}
DAMAGED |= {"0x1f": "a number", "012": "a number", "true": "true/false"}


def new_site(root: Path) -> Path:
    (root / "content" / "papers").mkdir(parents=True)
    shutil.copy(REPO / "content" / "taxonomy.yaml", root / "content" / "taxonomy.yaml")
    return root


def digest(folder: Path, titles: list[str], abstract: str = "We study it. It works.") -> Path:
    path = folder / "digest.txt"
    path.write_text("Mar 13\n" + "".join(f"{title}\n{abstract}\n" for title in titles), encoding="utf-8")
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def record_path(root: Path) -> Path:
    return root / "content" / "digests" / f"{DAY}.yaml"


@pytest.fixture
def keyword_site(tmp_path, run) -> Path:
    root = new_site(tmp_path / "site")
    result = run("import", digest(tmp_path, list(KEYWORD_TITLES)), "--root", root, "--year", "2026")
    assert result.code == 0, result.err
    return root


# --- 6. titles that are YAML keywords or numbers ------------------------------------------------------------


def test_keyword_titles_give_a_record_any_yaml_reader_reads_as_strings(keyword_site, run):
    record = yaml.safe_load(record_path(keyword_site).read_text(encoding="utf-8"))
    assert record["papers"] == list(KEYWORD_TITLES.values())  # plain PyYAML, not only sitegen's reader
    for title, slug in KEYWORD_TITLES.items():
        page = keyword_site / "content" / "papers" / f"{slug}.md"
        fields = yaml.safe_load(page.read_text(encoding="utf-8").split("---\n")[1])
        assert (fields["title"], fields["slug"]) == (title, slug)
    check = run("check", "--root", keyword_site)
    assert (check.code, check.err) == (0, "")
    build = run("build", "--root", keyword_site, "--no-search", "--base-url", "https://example.org/")
    assert build.code == 0 and build.err == ""
    order = (keyword_site / "public" / "digests" / DAY / "index.html").read_text(encoding="utf-8")
    positions = [order.index(f'/papers/{slug}/"') for slug in KEYWORD_TITLES.values()]
    assert positions == sorted(positions)  # every paper listed, in the digest's own order


def test_reimporting_keyword_titles_changes_nothing(keyword_site, tmp_path, run):
    before = snapshot(keyword_site)
    result = run("import", tmp_path / "digest.txt", "--root", keyword_site, "--year", "2026")
    assert result.code == 0 and result.err == ""
    assert snapshot(keyword_site) == before


def test_a_record_damaged_by_the_old_writer_is_read_as_written_and_reported(keyword_site, run):
    record_path(keyword_site).write_text(DAMAGED_RECORD, encoding="utf-8")
    check = run("check", "--root", keyword_site)
    assert check.code == 0
    expected = [
        f"{record_path(keyword_site)}:{line}:5: warning: '{slug}' in 'papers' reads as {DAMAGED[slug]}, "
        f'not as text: taken as written; quote it ("{slug}") or import the digest again, which rewrites '
        "the record"
        for line, slug in enumerate(KEYWORD_TITLES.values(), start=5)
        if slug in DAMAGED
    ]
    assert check.err.splitlines() == expected
    build = run("build", "--root", keyword_site, "--no-search")
    assert build.code == 0
    listed = (keyword_site / "public" / "digests" / DAY / "index.html").read_text(encoding="utf-8")
    assert all(f'/papers/{slug}/"' in listed for slug in KEYWORD_TITLES.values())


def test_reimport_repairs_a_damaged_record_and_then_changes_nothing(keyword_site, tmp_path, run):
    record_path(keyword_site).write_text(DAMAGED_RECORD, encoding="utf-8")
    pages = {p: p.read_bytes() for p in (keyword_site / "content" / "papers").glob("*.md")}
    result = run("import", tmp_path / "digest.txt", "--root", keyword_site, "--year", "2026")
    assert result.code == 0
    lines = result.err.splitlines()
    assert len(lines) == len(DAMAGED) and all("in 'papers' reads as" in line for line in lines)
    assert yaml.safe_load(record_path(keyword_site).read_text())["papers"] == list(KEYWORD_TITLES.values())
    assert {p: p.read_bytes() for p in pages} == pages  # only the record was rewritten
    check = run("check", "--root", keyword_site)
    assert (check.code, check.err) == (0, "")
    before = snapshot(keyword_site)
    again = run("import", tmp_path / "digest.txt", "--root", keyword_site, "--year", "2026")
    assert again.code == 0 and again.err == "" and snapshot(keyword_site) == before


@pytest.mark.parametrize(
    ("papers", "line", "col", "shown"),
    [
        ("papers:\n  - a\n  - 1.5\n", 5, 5, "1.5 (a number)"),  # no slug: which text was meant is unclear
        ("papers:\n  - a\n  - ~\n", 5, 5, "None (null)"),
        ("papers:\n  - a\n  - [b, c]\n", 5, 5, "['b', 'c'] (a list)"),
        ('papers:\n  - a\n  - !!int "7"\n', 5, 5, "7 (a number)"),  # quoted: not what an importer wrote
        ("papers: nope\n", 3, 9, None),
    ],
)
def test_a_record_that_cannot_be_repaired_is_an_error_with_its_line(tmp_path, run, papers, line, col, shown):
    root = write_site(
        tmp_path / "site",
        {
            "content/papers/a.md": paper("a", digests=f"[{DAY}]"),
            f"content/digests/{DAY}.yaml": f"date: {DAY}\nsources: [digest.txt]\n{papers}",
        },
    )
    message = (
        f"'papers' must be a list of slugs, not hold {shown}" if shown else "'papers' must be a list of slugs"
    )
    check = run("check", "--root", root)
    assert check.code == 1
    assert check.err.splitlines() == [f"{record_path(root)}:{line}:{col}: {message}"]
    before = snapshot(root)
    result = run("import", digest(tmp_path, ["A"]), "--root", root, "--year", "2026")
    assert result.code == 2
    assert result.err.splitlines() == [f"{record_path(root)}:{line}:{col}: {message}"]
    assert snapshot(root) == before


YAML_WORDS = st.sampled_from(
    [
        "1984", "Null", "null", "~", "~50%", "yes", "No", "on", "OFF", "1e3", ".inf", "-.inf", ".NaN", "0x1F",
        "0o17", "0b101", "012", "1_000", "1:20", "2026-03-13", "2026-03-13 10:00:00", "- x", "# y", "a: b",
        "a:", "? q", "[a]", "{a: 1}", "&anchor", "*alias", "!tag", "|", ">", "'q'", '"q"', "%x", "@x", "`x",
        "", " ", "a #b", "x\ny", "\t", "\x85", "\u2028", "\ufeff", "---", "...", "=", "<<",
    ]
)  # fmt: skip
ANY_TEXT = st.one_of(YAML_WORDS, st.text(), st.builds(lambda a, b: a + b, YAML_WORDS, st.text(max_size=5)))


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_any_title_round_trips_through_the_writer_and_the_readers(title, other):
    """Page front matter (dump, then parse) and digest records (record_text, then parse_record): one writer,
    and each string reads back as itself, with no diagnostic."""
    fields = {"title": title, "slug": other, "digests": [DAY], "tags": [title, other], "links": [other]}
    assert parse(dump(fields, "Abstract.\n")).fields == fields
    report = Report()
    text = record_text(date(2026, 3, 13), [title, other], [other, title])
    assert parse_record("r.yaml", text.encode("utf-8"), report) == (DAY, [other, title], [title, other])
    assert report.diagnostics == []


# --- 7. links in capitals -----------------------------------------------------------------------------------


def test_a_link_in_capitals_goes_into_links_and_the_page_builds(tmp_path, run):
    root = new_site(tmp_path / "site")
    url = "HTTPS://GITHUB.COM/OWNER/REPO"
    source = digest(tmp_path, ["Loud Links"], f"Code at {url} and at Http://Example.ORG/x. It works.")
    assert run("import", source, "--root", root, "--year", "2026").code == 0
    page = root / "content" / "papers" / "loud-links.md"
    report = Report()
    loaded = load_paper(page, report)
    assert loaded is not None and report.diagnostics == []
    assert loaded.links == [url, "Http://Example.ORG/x"]
    check = run("check", "--root", root)
    assert (check.code, check.err) == (0, "")
    assert run("build", "--root", root, "--no-search").code == 0
    built = (root / "public" / "papers" / "loud-links" / "index.html").read_text(encoding="utf-8")
    assert f'href="{url}"' in built


def test_the_validator_takes_any_case_and_still_refuses_what_is_no_web_link(tmp_path, run):
    links = '[HTTP://EXAMPLE.ORG/A, hTtPs://b.example/c, "ftp://x.org/f", "https://a b", "https://"]'
    root = write_site(tmp_path, {"content/papers/p.md": paper("p", links=links)})
    check = run("check", "--root", root)
    assert check.code == 1
    page = root / "content" / "papers" / "p.md"
    line = f"links: {links}"  # the page's line 4
    assert check.err.splitlines() == [
        f"{page}:4:{line.index(chr(34) + bad + chr(34)) + 1}: link '{bad}' must be an http(s) URL"
        for bad in ("ftp://x.org/f", "https://a b", "https://")
    ]


SCHEMES = st.sampled_from(["http", "https"]).flatmap(
    lambda s: st.tuples(*(st.sampled_from([c, c.upper()]) for c in s)).map("".join)
)
HOSTS = st.from_regex(r"[A-Za-z0-9]{1,8}(\.[A-Za-z0-9]{1,8}){0,2}", fullmatch=True)
PATHS = st.from_regex(r"(/[A-Za-z0-9_~%.-]{0,8}){0,3}", fullmatch=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SCHEMES, HOSTS, PATHS)
def test_every_link_the_importer_writes_is_one_the_validator_accepts(tmp_path_factory, scheme, host, path):
    folder = tmp_path_factory.mktemp("links")
    root = new_site(folder / "site")
    url = f"{scheme}://{host}{path}"
    source = digest(folder, ["A Paper With a Link"], f"See {url} for code. It works.")
    import_digests(root, [source], year=2026, today=TODAY)
    report = Report()
    loaded = load_paper(root / "content" / "papers" / "a-paper-with-a-link.md", report)
    assert loaded is not None and report.diagnostics == []
    assert all(is_web_link(link) for link in loaded.links)


# --- 12. temporary files of killed imports ------------------------------------------------------------------


#: A process id that no process has (above any pid_max): the writer of a leftover named after it is gone.
DEAD = 999_999_999


def leftover(path: Path, data: bytes, age: float = 0) -> Path:
    """A file like the ones write_if_changed leaves when killed between writing and renaming, `age` s old."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_an_import_removes_the_temporary_files_of_killed_writers_only(tmp_path, run):
    """The one rule of sitegen.store.files.remove_leftovers: a temporary file goes once the process its name
    carries is gone, whatever its age."""
    root = new_site(tmp_path / "site")
    papers, digests = root / "content" / "papers", root / "content" / "digests"
    live = os.getpid()  # the import runs in this process: its id is alive
    gone = [
        leftover(papers / f".a-paper.md.{DEAD}-0a1b2c3d.tmp", b"---\ntitle: half"),
        leftover(digests / f".{DAY}.yaml.{DEAD}-abcdef12.tmp", b"date: 20"),
        leftover(root / "content" / f".taxonomy.yaml.{DEAD}-0a1b2c3d.tmp", b"tags:"),
        # A live process has the id, but no write takes this long: the id has been reused since.
        leftover(papers / f".b-paper.md.{live}-0a1b2c3d.tmp", b"---\n", 2 * 86_400),
    ]
    at_work = leftover(papers / f".other.md.{live}-0a1b2c3d.tmp", b"---\n")  # perhaps another import's
    kept = [
        leftover(papers / ".notes.tmp", b"mine", 86_400),  # no name the writer gives
        leftover(papers / f"draft.md.{DEAD}-abcdef12.tmp", b"mine", 86_400),  # not hidden
        # Names without a process id (older sitegen's, other programs'): never removed, however old.
        leftover(papers / ".a-paper.md.k3x_9q0z.tmp", b"---\ntitle: half", 86_400),
        leftover(digests / f".{DAY}.yaml.abcdef12.tmp", b"date: 20", 86_400),
    ]
    (papers / f".x.md.{DEAD}-12345678.tmp").mkdir()  # a folder is never a leftover
    outside = leftover(tmp_path / "elsewhere.txt", b"keep")
    link = papers / f".link.md.{DEAD}-abcdef12.tmp"
    link.symlink_to(outside)

    refused = run("import", tmp_path / "missing.txt", "--root", root)
    assert refused.code == 2 and all(p.exists() for p in gone)  # refused: nothing written, nothing removed

    result = run("import", digest(tmp_path, ["A Paper"]), "--root", root, "--year", "2026")
    assert result.code == 0, result.err
    assert "4 temporary files of a killed import removed" in result.out
    assert [p for p in gone if os.path.lexists(p)] == []
    assert (
        at_work.exists()
        and all(p.exists() for p in kept)
        and (papers / f".x.md.{DEAD}-12345678.tmp").is_dir()
    )
    assert link.is_symlink() and outside.read_bytes() == b"keep"  # neither the link nor what it points to


def test_check_and_build_never_read_leftovers_nor_remove_them(keyword_site, run):
    papers, digests = keyword_site / "content" / "papers", keyword_site / "content" / "digests"
    # (Named after a process that is gone: an import would remove them.)
    leftover(papers / f".1984.md.{DEAD}-abcdef12.tmp", b"---\ntitle: [unclosed\n")
    leftover(papers / f".new-page.md.{DEAD}-abcdef12.tmp", paper("new-page").encode())
    leftover(digests / f".{DAY}.yaml.{DEAD}-abcdef12.tmp", b"date: 2026-03-14\npapers: [1984]\n")
    content = snapshot(keyword_site / "content")
    check = run("check", "--root", keyword_site)
    assert (check.code, check.err) == (0, "")
    assert check.out.startswith(f"checked {len(KEYWORD_TITLES)} papers")
    build = run("build", "--root", keyword_site, "--no-search", "--base-url", "https://example.org/")
    assert build.code == 0 and build.err == ""
    assert build_table(build.out)["Papers"] == len(KEYWORD_TITLES)
    assert not (keyword_site / "public" / "papers" / "new-page").exists()
    assert not (keyword_site / "public" / "digests" / "2026-03-14").exists()
    assert snapshot(keyword_site / "content") == content  # a build never writes content/
