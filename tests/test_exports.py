"""Exports of what a reader filters: tags/<tag>/papers.bib and papers.json (CSL-JSON), the same for each
digest and the reading queue, read back by a real BibTeX parser (bibtexparser) and a real CSL processor
(citeproc-py); made again only when a paper they list changes, and equal to a cold build's after edits; and
the search page's export of the results it shows, made in a real browser."""

from __future__ import annotations

import contextlib
import dataclasses
import html
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import bibtexparser
import pytest
import yaml
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from conftest import REPO, paper, static_server, write_site
from hypothesis import given
from hypothesis import strategies as st
from test_bibtex import DECODER, fold
from test_incremental import Sites, corpus

from sitegen.build import Builder, BuildOptions, bibtex
from sitegen.build.bibtex import _letters, citation_key, unique_keys
from sitegen.build.manifest import load_manifest
from sitegen.content.model import Paper
from sitegen.store.cache import CACHE_DIR, SHARDS, CacheFolder
from sitegen.store.files import text_fingerprint

BASE = "https://example.org/review/"
PAPER_LINK = re.compile(r'href="/review/papers/([^/"]+)/"')

needs_sample = pytest.mark.skipif(
    not any((REPO / "content/papers").glob("*.md")), reason="the sample content is not in this checkout"
)


# --- the sample site, with curator state it lacks ----------------------------------------------------------


@dataclass
class Front:
    """A paper's front matter as YAML reads it (independently of sitegen's loader)."""

    slug: str
    title: str
    tags: list[str]
    digests: list[date]
    draft: bool
    status: str | None


@dataclass
class Sample:
    root: Path
    out: Path
    papers: dict[str, Front]  # by slug
    draft: str  # the slug of the paper made a draft
    queued: list[str]  # slugs given a status (the draft among them)


def front(path: Path) -> Front:
    head = path.read_text(encoding="utf-8").split("\n---", 1)[0].removeprefix("---\n")
    data = yaml.safe_load(head)
    return Front(
        data["slug"],
        data["title"],
        list(data.get("tags") or []),
        list(data.get("digests") or []),
        bool(data.get("draft")),
        data.get("status"),
    )


def add_fields(path: Path, **fields: str) -> None:
    text = path.read_text(encoding="utf-8")
    extra = "".join(f"{name}: {value}\n" for name, value in fields.items())
    path.write_text(text.replace("\n---\n", "\n" + extra + "---\n", 1), encoding="utf-8")


def build_cli(root: Path, out: Path, *options: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(root), "--out", str(out), *options],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Sample:
    """The repository's sample site copied, one tagged paper made a draft, four given a status (the draft
    one too), and built with --no-search."""
    tmp = tmp_path_factory.mktemp("exports")
    root = tmp / "site"
    shutil.copytree(REPO / "content", root / "content")
    files = sorted((root / "content/papers").glob("*.md"))
    tagged = [f for f in files if front(f).tags and front(f).digests]
    draft, queued = tagged[0], tagged[1:4]
    add_fields(draft, draft="true", status="reading")
    for path, status in zip(queued, ("unread", "reading", "read"), strict=True):
        add_fields(path, status=status)
    out = tmp / "public"
    build_cli(root, out, "--no-search", "--base-url", BASE)
    papers = {f.slug: f for f in map(front, files)}
    return Sample(root, out, papers, front(draft).slug, [front(draft).slug, *(front(p).slug for p in queued)])


def read_bib(path: Path) -> list:
    library = bibtexparser.parse_string(path.read_text(encoding="utf-8"))
    assert not library.failed_blocks, [(b.error, b.raw[:200]) for b in library.failed_blocks]
    return library.entries


def read_csl(path: Path) -> list[dict]:
    """The items of a CSL-JSON file, each also formatted by citeproc-py (a CSL processor) with the style it
    ships, whose bibliography must name every title."""
    items = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(items, list)
    if items:
        source = CiteProcJSON(items)
        style = CitationStylesStyle("harvard-cite-them-right", validate=False)
        bibliography = CitationStylesBibliography(style, source, formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        text = "\n".join(str(entry) for entry in bibliography.bibliography())
        for item in items:
            assert fold(item["title"]) in fold(text)
    return items


def slug_of(url: str) -> str:
    match = re.fullmatch(re.escape(BASE) + r"papers/([^/]+)/", url)
    assert match, url
    return match.group(1)


def check_export(folder: Path, expected: list[Front]) -> None:
    """papers.bib and papers.json of `folder` list exactly `expected`, in that order: the same keys (each the
    paper's citation key, with a letter when an earlier entry of the file has it), titles and URLs."""
    entries = read_bib(folder / "papers.bib")
    items = read_csl(folder / "papers.json")
    slugs = [f.slug for f in expected]
    assert [slug_of(e.fields_dict["url"].value) for e in entries] == slugs, folder
    assert [slug_of(item["URL"]) for item in items] == slugs, folder
    keys = [e.key for e in entries]
    assert [item["id"] for item in items] == keys
    assert len(set(keys)) == len(keys)
    bases: set[str] = set()
    for key, paper_front in zip(keys, expected, strict=True):
        base = citation_key(Paper(source="", title=paper_front.title, slug=paper_front.slug,
                                  digests=paper_front.digests))  # fmt: skip
        assert key == base if base not in bases else re.fullmatch(re.escape(base) + "[a-z]+", key), key
        bases.add(base)
    for entry, item, paper_front in zip(entries, items, expected, strict=True):
        assert fold(DECODER.latex_to_text(entry.fields_dict["title"].value)) == fold(paper_front.title)
        assert item["title"] == paper_front.title
        # The sample's papers have no arXiv id and no date of publication: no year is made up from a digest
        # date, which goes in a note instead.
        first = min(paper_front.digests)
        assert "issued" not in item and "year" not in entry.fields_dict
        note = f"Listed in the digest of {first.isoformat()}"
        assert item["note"] == entry.fields_dict["note"].value == note
        assert ("keyword" in item) is bool(paper_front.tags)


def listed_order(out: Path, page_folder: Path) -> list[str]:
    """The slugs of the papers a list page shows (all its pages), in order."""
    pages = [page_folder / "index.html", *sorted(
        page_folder.glob("page/*/index.html"), key=lambda p: int(p.parent.name))]  # fmt: skip
    slugs: list[str] = []
    for page in pages:
        for slug in PAPER_LINK.findall(page.read_text(encoding="utf-8")):
            if slug not in slugs:
                slugs.append(slug)
    return slugs


@needs_sample
def test_every_tag_exports_its_papers_but_drafts_in_its_order(sample):
    tags = sorted(p.parent for p in (sample.out / "tags").glob("*/index.html"))
    assert len(tags) > 10
    draft_tags = set(sample.papers[sample.draft].tags)
    for folder in tags:
        members = {s for s, f in sample.papers.items() if folder.name in f.tags and not f.draft}
        order = [s for s in listed_order(sample.out, folder) if s in members]
        assert set(order) == members, folder
        check_export(folder, [sample.papers[s] for s in order])
        if folder.name in draft_tags:
            assert sample.draft not in (folder / "papers.json").read_text(encoding="utf-8")


@needs_sample
def test_every_digest_exports_its_papers_but_drafts_in_its_order(sample):
    digests = sorted(p.parent for p in (sample.out / "digests").glob("*/index.html"))
    assert len(digests) == 4
    for folder in digests:
        day = date.fromisoformat(folder.name)
        members = {s for s, f in sample.papers.items() if day in f.digests and s != sample.draft}
        order = [s for s in listed_order(sample.out, folder) if s in members]
        assert set(order) == members, folder
        check_export(folder, [sample.papers[s] for s in order])


@needs_sample
def test_the_reading_queue_exports_the_papers_with_a_status_by_title(sample):
    queued = [sample.papers[s] for s in sample.queued if s != sample.draft]
    assert len(queued) == 3
    check_export(sample.out / "reading", sorted(queued, key=lambda f: (f.title.casefold(), f.slug)))


@needs_sample
def test_tag_digest_and_reading_pages_link_to_their_exports(sample):
    pages = [sample.out / "tags/llm/index.html", *sample.out.glob("digests/*/index.html")]
    for page in [*pages, sample.out / "reading/index.html"]:
        text = page.read_text(encoding="utf-8")
        folder = page.parent.relative_to(sample.out).as_posix()
        for name in ("papers.bib", "papers.json"):
            assert f'href="/review/{folder}/{name}"' in text, (page, name)
            assert (page.parent / name).is_file()
    # Every page of a paginated tag links to the export of all its papers.
    second = (sample.out / "tags/llm/page/2/index.html").read_text(encoding="utf-8")
    assert 'href="/review/tags/llm/papers.bib"' in second


# --- the files as a unit: keys unique within a file --------------------------------------------------------


def test_a_repeated_key_gets_a_letter_that_no_entry_of_the_file_has():
    assert unique_keys(["deep2026x", "deep2026x", "deep2026xb", "deep2026x", "other"]) == [
        "deep2026x",
        "deep2026xc",
        "deep2026xb",
        "deep2026xd",
        "other",
    ]
    assert unique_keys(["k"] * 28)[25:] == ["kz", "kaa", "kab"]


def unique_keys_by_definition(keys: list[str]) -> list[str]:
    """Each repeat of a key gets the first letter suffix that no key of the file has (trying from "b")."""
    taken, seen, out = set(keys), set(), []
    for key in keys:
        if key in seen:
            n = 1
            while key + _letters(n) in taken:
                n += 1
            key += _letters(n)
            taken.add(key)
        seen.add(key)
        out.append(key)
    return out


@given(st.lists(st.sampled_from(["k", "kb", "kc", "kaa", "j", "jb", "kz"]), max_size=60))
def test_unique_keys_are_the_first_free_letters(keys):
    assert unique_keys(keys) == unique_keys_by_definition(keys)
    assert len(set(unique_keys(keys))) == len(keys)


def test_an_entry_under_a_new_key_is_the_entry_made_with_that_key():
    # bibtex_file renames a repeated key in the entry already made; it must be what citation_entry makes.
    cited = bibtex.Citation("deep2026x", "Deep {X} & 100%", 2026, 3, "2603.00001", None, ("A. B",), "10.1/x")
    again = dataclasses.replace(
        cited, title="Deep X, again", arxiv=None, note="Listed in the digest of 2026-03-13"
    )
    text = bibtex.bibtex_file([(c, bibtex.citation_entry(c)) for c in (cited, again, cited)])
    made = [
        bibtex.citation_entry(cited),
        bibtex.citation_entry(again, "deep2026xb"),
        bibtex.citation_entry(cited, "deep2026xc"),
    ]
    assert text == "\n\n".join(made) + "\n\n"
    assert [e.key for e in bibtexparser.parse_string(text).entries] == [
        "deep2026x",
        "deep2026xb",
        "deep2026xc",
    ]


def test_papers_with_one_key_stay_apart_in_both_files(site):
    same = "Deep Learning for Everything"
    root = site(
        {
            "content/papers/a.md": paper("a", same, digests="[2026-03-13]", tags="[x]"),
            "content/papers/b.md": paper("b", same + "!", digests="[2026-03-13]", tags="[x]"),
            "content/papers/c.md": paper(
                "c", "Learning {Deep} & 100% $ure", digests="[2026-03-13]", tags="[x]", arxiv='"2403.01234v2"'
            ),
        }
    )
    out = root / "public"
    build_cli(root, out, "--no-search", "--base-url", BASE)
    entries = read_bib(out / "tags/x/papers.bib")
    items = read_csl(out / "tags/x/papers.json")
    assert sorted(e.key for e in entries) == ["deeplearning", "deeplearningb", "learning2024deep"]
    assert [i["id"] for i in items] == [e.key for e in entries]
    arxiv = next(i for i in items if i["id"] == "learning2024deep")
    assert arxiv["number"] == "arXiv:2403.01234" and arxiv["URL"] == "https://arxiv.org/abs/2403.01234v2"
    assert arxiv["title"] == "Learning {Deep} & 100% $ure"
    assert arxiv["issued"] == {"date-parts": [[2024, 3]]}


def test_a_build_with_drafts_shows_them_on_the_page_but_never_exports_them(site):
    root = site(
        {
            "content/papers/a.md": paper("a", digests="[2026-03-13]", tags="[x]", status="read"),
            "content/papers/d.md": paper(
                "d", digests="[2026-03-13]", tags="[x]", status="read", draft="true"
            ),
        }
    )
    out = root / "public"
    build_cli(root, out, "--no-search", "--drafts", "--base-url", "https://example.org/")
    assert 'href="/papers/d/"' in (out / "tags/x/index.html").read_text(encoding="utf-8")
    for folder in ("tags/x", "digests/2026-03-13", "reading"):
        assert [e.key for e in read_bib(out / folder / "papers.bib")] == ["a"], folder
        assert [i["URL"] for i in read_csl(out / folder / "papers.json")] == ["https://example.org/papers/a/"]


# --- incremental builds -------------------------------------------------------------------------------------


def exports_of(paths: list[str]) -> set[str]:
    return {p for p in paths if p.endswith(("/papers.bib", "/papers.json"))}


def expected_exports(sites: Sites, slug: str) -> set[str]:
    """The export files that list paper `slug` of the corpus (not a draft)."""
    paper_front = front(sites.root / f"content/papers/{slug}.md")
    folders = [f"tags/{t}/" for t in paper_front.tags] + [
        f"digests/{d.isoformat()}/" for d in paper_front.digests
    ]
    if paper_front.status:
        folders.append("reading/")
    return {folder + name for folder in folders for name in ("papers.bib", "papers.json")}


@pytest.fixture
def sites(tmp_path) -> Sites:
    files = corpus(14, seed=5)
    for name, status in (("p2", "reading"), ("p5", "read")):
        files[f"content/papers/{name}.md"] = files[f"content/papers/{name}.md"].replace(
            "\n---\n", f"\nstatus: {status}\n---\n", 1
        )
    sites = Sites(tmp_path, files)
    sites.check()
    return sites


def export_reads(out: Path) -> dict[str, set[str]]:
    """What each export file read when it was made, as the output's manifest keeps it: the next build makes
    a file again if and only if one of these changed."""
    records, _ = load_manifest(out)
    return {path: set(record.reads) for path, record in records.items() if path in exports_of(list(records))}


def test_each_export_reads_its_list_and_the_fields_of_the_papers_it_lists_only(sites):
    reads = export_reads(sites.tmp / "fresh")
    fronts = [front(p) for p in (sites.root / "content/papers").glob("*.md")]
    shown = [f for f in fronts if not f.draft]
    lists = {
        f"tags/{t}/": (f"t:{t}#p", {f.slug for f in shown if t in f.tags}) for f in shown for t in f.tags
    }
    for f in shown:
        for day in f.digests:
            lists[f"digests/{day}/"] = (f"d:{day}#p", {g.slug for g in shown if day in g.digests})
    lists["reading/"] = ("site#K", {f.slug for f in shown if f.status})
    assert set(reads) == {folder + name for folder in lists for name in ("papers.bib", "papers.json")}
    for path, read in reads.items():
        source, members = lists[path.rsplit("/", 1)[0] + "/"]
        papers = {r for r in read if r.startswith("p:")}
        # Front matter ("m") and tag names ("n") of each paper listed, never its body ("x") or related papers.
        assert {r.split("#")[0] for r in papers} == {f"p:{slug}" for slug in members}, path
        assert {r.split("#")[1] for r in papers} <= {"m", "n"}, path
        assert read - papers == {source}, path


def test_a_title_edit_remakes_the_exports_that_list_the_paper_and_only_those(sites):
    for slug in ("p4", "p2"):  # (p2 is in the reading queue)
        path = sites.edit(f"content/papers/{slug}.md", lambda t: t.replace('title: "', 'title: "Renamed ', 1))
        tree = sites.check({path})
        expected = expected_exports(sites, slug)
        assert len(expected) >= 2
        remade = {p for p, read in export_reads(sites.tmp / "fresh").items() if f"p:{slug}#m" in read}
        assert remade == expected
        assert exports_of(sites.last_fresh.written) == expected
        for name in expected:
            assert b"Renamed" in tree[name], name


def test_an_abstract_edit_remakes_no_export(sites):
    path = sites.edit("content/papers/p4.md", lambda t: t.replace("(method M4).", "(method M4, revised)."))
    sites.check({path})
    assert "papers/p4/index.html" in sites.last_fresh.written
    assert exports_of(sites.last_fresh.written) == set()


def test_the_reading_queue_follows_status_drafts_and_deletions_as_a_cold_build(sites):
    steps = [
        ("p6", lambda t: t.replace("\n---\n", "\nstatus: unread\n---\n", 1)),  # joins the queue
        ("p2", lambda t: t.replace("status: reading", "status: read")),  # stays, other status
        ("p5", lambda t: t.replace("\n---\n", "\ndraft: true\n---\n", 1)),  # a draft leaves it
    ]
    for slug, change in steps:
        path = sites.edit(f"content/papers/{slug}.md", change)
        tree = sites.check({path})
        queued = [i["title"] for i in json.loads(tree["reading/papers.json"])]
        fronts = [front(p) for p in (sites.root / "content/papers").glob("*.md")]
        assert queued == sorted((f.title for f in fronts if f.status and not f.draft), key=str.casefold)
    (sites.root / "content/papers/p6.md").unlink()
    tree = sites.check({sites.root / "content/papers/p6.md"})
    assert [i["title"] for i in json.loads(tree["reading/papers.json"])] == [
        front(sites.root / "content/papers/p2.md").title
    ]


# --- the search page's export, in a real browser ------------------------------------------------------------

ENTRY_KEY = re.compile(r"^@misc\{[^,]+,")


@dataclass
class Served:
    out: Path
    origin: str


@pytest.fixture(scope="module")
def searchable(tmp_path_factory) -> Iterator[Served]:
    """A small site built with its search index, every paper with the same citation key."""
    pytest.importorskip("pagefind_bin")
    tmp = tmp_path_factory.mktemp("search-export")
    files = {
        f"content/papers/s{i}.md": paper(
            f"s{i}",
            f"Quantum Sparrow Models {i}",
            f"Sparrows sing quantum songs, study {i}.",
            digests="[2026-03-13]",
        )
        for i in range(13)
    }
    root = write_site(tmp / "site", files)
    out = tmp / "public"
    build_cli(root, out, "--base-url", "https://example.org/")
    with static_server(out) as origin:
        yield Served(out, origin)


def page_bibtex(out: Path, href: str) -> str:
    """The BibTeX block of the paper page `href` (a root-relative link)."""
    text = (out / href.strip("/") / "index.html").read_text(encoding="utf-8")
    match = re.search(r'<pre class="bibtex" id="bibtex"[^>]*><code>(.*?)</code></pre>', text, re.S)
    assert match, href
    return html.unescape(match.group(1)).strip()


@pytest.mark.browser
def test_the_search_page_exports_the_results_it_shows_as_bibtex(browser, searchable):
    sync_api = pytest.importorskip("playwright.sync_api")
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with contextlib.closing(context):
        page.goto(searchable.origin + "/search/?q=sparrows")
        links = page.locator(".pagefind-ui__result-link")
        sync_api.expect(page.locator(".pagefind-ui__message")).to_have_text(re.compile("^13 results"))
        # One page of results (the search page's page size), every one of them drawn: the export takes
        # those, not every match.
        page_size = int(page.locator("[data-page-size]").get_attribute("data-page-size") or 10)
        sync_api.expect(links).to_have_count(page_size)
        shown = [(link.inner_text(), link.get_attribute("href")) for link in links.all()]
        assert 1 < len(shown) < 13  # one page of results: the export takes those, not every match
        with page.expect_download() as caught:
            page.get_by_role("button", name="Export shown results as BibTeX").click()
        download = caught.value
        assert download.suggested_filename == "search-results.bib"
        text = Path(download.path()).read_text(encoding="utf-8")
        sync_api.expect(page.locator("#search-export-status")).to_have_text(f"Exported {len(shown)} entries.")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    entries = library.entries
    assert [fold(DECODER.latex_to_text(e.fields_dict["title"].value)) for e in entries] == [
        fold(title) for title, _ in shown
    ]
    assert [e.fields_dict["url"].value for e in entries] == ["https://example.org" + h for _, h in shown]
    # One key for all: the first keeps it, the others get letters, as in the build's exports.
    assert [e.key for e in entries] == unique_keys([entries[0].key] * len(shown))
    # Each entry is the one its paper page shows, but for its key.
    blocks = text.strip().split("\n\n")
    for block, (_, href) in zip(blocks, shown, strict=True):
        assert ENTRY_KEY.sub("@misc{KEY,", block) == ENTRY_KEY.sub(
            "@misc{KEY,", page_bibtex(searchable.out, href)
        )
    assert errors == []


def test_a_static_file_in_an_exports_place_is_left_out_and_check_says_so_as_build_does(site):
    root = site(
        {
            "content/papers/a.md": paper("a", digests="[2026-03-13]", tags="[x]"),
            "static/tags/x/papers.json": "[]",
            "static/tags/x/notes.json": "{}",
        }
    )
    checked = subprocess.run(
        [sys.executable, "-m", "sitegen", "check", "--root", str(root)], capture_output=True, text=True
    )
    built = subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--root", str(root), "--no-search", "--base-url", BASE],
        capture_output=True,
        text=True,
    )
    warning = (
        f"{root}/static/tags/x/papers.json: warning: static file ignored: sitegen writes tags/x/papers.json"
    )
    assert warning in checked.stderr.splitlines()
    assert built.stderr == checked.stderr
    assert len(read_csl(root / "public/tags/x/papers.json")) == 1
    assert (root / "public/tags/x/notes.json").read_text() == "{}"


# --- citations kept between builds ------------------------------------------------------------------------


def queued_corpus() -> dict[str, str]:
    """A corpus whose papers are all in the reading queue: its exports cite every paper shown."""
    files = corpus(10, seed=11)
    for name in list(files):
        if name.startswith("content/papers/"):
            files[name] = files[name].replace("\n---\n", "\nstatus: unread\n---\n", 1)
    return files


def build_into(root: Path, out: Path, base_url: str) -> None:
    result = Builder(root, BuildOptions(out=out, base_url=base_url, search=False)).build()
    assert not result.failed, result.report.diagnostics


def cold_exports(root: Path, tmp: Path, base_url: str) -> dict[str, bytes]:
    """The reading queue's exports of a cold build of `root` (a copy without its cache)."""
    copy = tmp / "cold-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(CACHE_DIR))
    build_into(copy, tmp / "cold-out", base_url)
    return {name: (tmp / "cold-out/reading" / name).read_bytes() for name in ("papers.bib", "papers.json")}


def citation_shards(base_url: str) -> str:
    """The name of the shards of kept citations for `base_url` (see sitegen.build.citestore)."""
    return f"citations-{text_fingerprint(base_url, 4)}"


def rewrite_shards(cache: CacheFolder, name: str, change) -> list[str]:
    """Save every shard of `name` that holds entries with `change` applied to each entry (through the
    cache's own writer: a valid file); returns the shards' names."""
    shards = []
    for n in range(SHARDS):
        data = cache.load(f"{name}-{n:02d}")
        if data:
            cache.save(f"{name}-{n:02d}", {k: change(v) for k, v in data.items()})
            shards.append(f"{name}-{n:02d}")
    return shards


def test_exports_made_from_kept_citations_follow_the_base_url(tmp_path):
    root = write_site(tmp_path / "site", queued_corpus())
    out = tmp_path / "out"
    build_into(root, out, "https://a.example/")
    kept = CacheFolder(root).load_sharded(citation_shards("https://a.example/"))
    assert len(kept) == 9  # every paper shown (p7 is a draft), kept by the build that made none of them here
    urls_a = [item.get("URL", "") for item in read_csl(out / "reading/papers.json")]
    assert sum(url.startswith("https://a.example/papers/") for url in urls_a) >= 5  # (those without arXiv id)

    # Another base URL: the kept citations of the first are not used (each URL to the site is the new one's).
    build_into(root, out, "https://b.example/")
    got = {name: (out / "reading" / name).read_bytes() for name in ("papers.bib", "papers.json")}
    assert got == cold_exports(root, tmp_path, "https://b.example/")
    assert b"a.example" not in got["papers.bib"] + got["papers.json"]


def test_a_damaged_citation_shard_is_made_again_and_never_shown(tmp_path):
    root = write_site(tmp_path / "site", queued_corpus())
    out = tmp_path / "out"
    build_into(root, out, "https://a.example/")
    cache, name = CacheFolder(root), citation_shards("https://a.example/")
    # A title of another paper in every entry: only a checked, decoded entry is used ...
    for shard in rewrite_shards(cache, name, lambda v: (v[0], "Forged", *v[2:])):
        raw = cache.path(shard)
        raw.write_bytes(raw.read_bytes()[:-3] + b"???")  # ... and each shard damaged past its checksum
    path = root / "content/papers/p1.md"
    path.write_text(path.read_text(encoding="utf-8").replace('title: "', 'title: "Retitled ', 1))
    build_into(root, out, "https://a.example/")
    got = {name: (out / "reading" / name).read_bytes() for name in ("papers.bib", "papers.json")}
    assert got == cold_exports(root, tmp_path, "https://a.example/")
    assert b"Forged" not in got["papers.bib"]
    # The damaged shards were written again, whole.
    assert sum(len(cache.load(f"{name}-{n:02d}") or {}) for n in range(SHARDS)) == 9


def test_an_export_made_again_takes_the_other_papers_citations_from_the_cache(tmp_path):
    # (What makes a title edit in a large reading queue cheap: shown by an entry changed in the cache, which a
    # build takes as is, as every cache entry whose checksum matches.)
    root = write_site(tmp_path / "site", queued_corpus())
    out = tmp_path / "out"
    build_into(root, out, "https://a.example/")
    cache = CacheFolder(root)
    rewrite_shards(cache, citation_shards("https://a.example/"), lambda v: (v[0], "Kept " + v[1], *v[2:]))
    path = root / "content/papers/p1.md"
    path.write_text(path.read_text(encoding="utf-8").replace('title: "', 'title: "Retitled ', 1))
    build_into(root, out, "https://a.example/")
    titles = [item["title"] for item in json.loads((out / "reading/papers.json").read_text(encoding="utf-8"))]
    assert len(titles) == 9
    assert [t for t in titles if not t.startswith("Kept ")] == [
        t for t in titles if t.startswith("Retitled ")
    ]
