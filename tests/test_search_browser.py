"""The search page in a real browser: the sample site built with its Pagefind index, served over HTTP with
the site's own Content-Security-Policy, searched by word, tag and digest date, at the root and under /review/.

One chromium and one build of each site for the whole module; every wait is Playwright's (no fixed sleeps).
"""

from __future__ import annotations

import contextlib
import html
import re
import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO, paper, static_server, write_site

from sitegen.build import BuildOptions, build_site
from sitegen.build.search import index_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not any((REPO / "content/papers").glob("*.md")), reason="the sample content is not in this checkout"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("pagefind_bin")
expect = sync_api.expect

TIMEOUT_MS = 15_000
WORD = "unlearning"
SHARDS = 3  # of the sample's 544 papers, in shards of at most 200
TAG = "Machine unlearning"  # the display name of a tag that many, not all, papers about unlearning carry
RESULTS = re.compile(r"^(\d+) results? for ")
TAG_CHIP = re.compile(r'<a class="chip" href="[^"]*" data-pagefind-filter="tag:[^"]*">([^<]*)</a>')


def _csp() -> str | None:
    """The Content-Security-Policy netlify.toml sends with every page, so the tests run under it."""
    try:
        config = tomllib.loads((REPO / "netlify.toml").read_text(encoding="utf-8"))
    except OSError:
        return None
    for rule in config.get("headers", []):
        if rule.get("for") == "/*":
            return rule.get("values", {}).get("Content-Security-Policy")
    return None


@dataclass
class Served:
    """A built site: its output folder, the URL path it lives under, and the server's origin."""

    out: Path
    base: str
    origin: str

    def url(self, path: str = "") -> str:
        return self.origin + self.base + path

    def page_text(self, href: str) -> str:
        """The built HTML of the page a link leads to."""
        rel = urlsplit(href).path.removeprefix(self.base)
        return (self.out / rel / "index.html").read_text(encoding="utf-8")

    def paper_tags(self, href: str) -> list[str]:
        """The tag names a result's paper page shows."""
        return [html.unescape(name) for name in TAG_CHIP.findall(self.page_text(href))]


def _serve(directory: Path, base: str, out: Path, stack: contextlib.ExitStack) -> Served:
    csp = _csp()
    origin = stack.enter_context(static_server(directory, {"Content-Security-Policy": csp} if csp else None))
    return Served(out, base, origin)


def _build(root: Path, out: Path, base_url: str | None = None, search: bool = True) -> None:
    result = build_site(root, BuildOptions(out=out, base_url=base_url, search=search))
    assert not result.failed, [str(d) for d in result.report.diagnostics]
    assert search is (result.search is not None)


@dataclass
class Sites:
    root: Served  # served at /
    review: Served  # served at /review/ (built with --base-url https://x.org/review/)
    sharded: Served  # the root build indexed in 3 shards merged by the search page
    bare: Served  # a build without the index (--no-search)


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Iterator[Sites]:
    tmp = tmp_path_factory.mktemp("search-browser")
    source = tmp / "source"
    shutil.copytree(REPO / "content", source / "content")  # the build's cache stays out of the repository
    _build(source, tmp / "www")
    _build(source, tmp / "hosted" / "review", base_url="https://x.org/review/")
    shutil.copytree(tmp / "www", tmp / "sharded")
    assert index_site(tmp / "sharded", shard_pages=200).shards == SHARDS
    bare = write_site(tmp / "bare-source", {"content/papers/a.md": paper("a", digests="[2026-03-13]")})
    _build(bare, tmp / "bare", search=False)
    with contextlib.ExitStack() as servers:
        yield Sites(
            root=_serve(tmp / "www", "/", tmp / "www", servers),
            review=_serve(tmp / "hosted", "/review/", tmp / "hosted" / "review", servers),
            sharded=_serve(tmp / "sharded", "/", tmp / "sharded", servers),
            bare=_serve(tmp / "bare", "/", tmp / "bare", servers),
        )


@pytest.fixture
def page(browser):
    """A fresh page that records every request and console error; none may leave the site's host, and
    none may be a Content-Security-Policy refusal."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.requests, page.errors = requests, errors
    yield page
    context.close()
    hosts = {urlsplit(url).netloc for url in requests if not url.startswith(("data:", "blob:"))}
    assert len(hosts) <= 1, hosts
    assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []


@pytest.fixture(params=["root", "review"])
def site(request, sites) -> Served:
    return getattr(sites, request.param)


# --- helpers --------------------------------------------------------------------------------------------


def results(page):
    return page.locator(".pagefind-ui__result")


def result_count(page) -> int:
    """The count Pagefind's UI announces ("38 results for unlearning"), once its search has finished."""
    message = page.locator(".pagefind-ui__message")
    expect(message).to_have_text(RESULTS)
    return int(RESULTS.match(message.inner_text()).group(1))


def search(page, served: Served, query: str, **params: str):
    address = "search/?" + "&".join([f"q={query}", *(f"{k}={v}" for k, v in params.items())])
    page.goto(served.url(address))
    expect(results(page).first).to_be_visible()
    return result_count(page)


def all_results(page, count: int) -> list[tuple[str, str]]:
    """(title, href) of every result, pressing "Load more results" until all `count` are shown."""
    more = page.locator(".pagefind-ui__button", has_text="Load more")
    while results(page).count() < count:
        shown = results(page).count()
        more.click()
        expect(results(page)).not_to_have_count(shown)
    links = page.locator(".pagefind-ui__result-link")
    expect(links).to_have_count(count)
    return [(link.inner_text(), link.get_attribute("href")) for link in links.all()]


def tag_filter(page, name: str):
    """The tag's checkbox in the filter panel, its group opened if it is closed."""
    block = page.locator("details.pagefind-ui__filter-block", has_text="Tag")
    if block.get_attribute("open") is None:
        block.locator("summary").click()
    return block.locator(f'input.pagefind-ui__filter-checkbox[name="tag"][value="{name}"]')


def tag_label(page, name: str):
    return page.locator(f'label.pagefind-ui__filter-label[for="tag-{name}"]')


# --- tests ----------------------------------------------------------------------------------------------


def test_a_word_finds_its_papers_with_title_digest_and_excerpt(page, site):
    count = search(page, site, WORD)
    assert count >= 10
    first = results(page).first
    expect(first.locator(".pagefind-ui__result-excerpt mark").first).to_be_visible()
    digest = first.locator('.pagefind-ui__result-tag[data-pagefind-ui-meta="digest"]')
    expect(digest).to_have_text(re.compile(r"^Digest: [A-Z][a-z]{2} \d{1,2}, \d{4}\s*$"))
    title = first.locator(".pagefind-ui__result-link")
    href = title.get_attribute("href")
    assert href.startswith(site.base + "papers/")
    expected_title = title.inner_text()
    expected_date = digest.inner_text().strip().removeprefix("Digest: ")
    title.click()
    expect(page).to_have_url(site.origin + href)
    expect(page.locator("h1")).to_have_text(expected_title)
    # The date shown is the paper's latest digest.
    expect(page.locator(".facts time").last).to_have_text(expected_date)


def test_a_tag_filter_keeps_only_that_tags_papers(page, site):
    everything = all_results(page, search(page, site, WORD))
    for _, href in everything:
        text = site.page_text(href).lower()
        assert "unlearn" in text.replace("-", ""), href  # Pagefind reads "un-learning" as "un learning"
    expected = sorted(href for _, href in everything if TAG in site.paper_tags(href))
    assert 0 < len(expected) < len(everything)  # some, not all, of the results carry the tag
    checkbox = tag_filter(page, TAG)
    # Once the search is done, each tag shows how many of its results carry it.
    expect(tag_label(page, TAG)).to_have_text(f"{TAG} ({len(expected)})")
    checkbox.focus()
    page.keyboard.press("Space")  # the filters are keyboard operable
    expect(checkbox).to_be_checked()
    expect(page.locator(".pagefind-ui__message")).to_have_text(f"{len(expected)} results for {WORD}")
    assert sorted(href for _, href in all_results(page, len(expected))) == expected
    # The address keeps the filter: reloading it shows the same results.
    expect(page).to_have_url(re.compile(r"[?&]tag=Machine\+unlearning"))
    page.reload()
    expect(page.locator(".pagefind-ui__message")).to_have_text(f"{len(expected)} results for {WORD}")
    expect(tag_filter(page, TAG)).to_be_checked()


def test_the_search_box_of_every_page_leads_to_the_results(page, site):
    page.goto(site.url("tags/"))
    page.locator("#header-search-input").fill(WORD)
    page.locator("#header-search-input").press("Enter")
    expect(page).to_have_url(site.url(f"search/?q={WORD}"))
    expect(page.locator(".pagefind-ui__search-input")).to_have_value(WORD)
    expect(page).to_have_title(re.compile(f"^{WORD} · Search · "))  # names the entry in the history
    expect(results(page).first).to_be_visible()
    assert result_count(page) >= 10
    href = page.locator(".pagefind-ui__result-link").first.get_attribute("href")
    assert href.startswith(site.base + "papers/")
    # The search box is the page's own control: typing a new query searches again, and the address follows.
    box = page.locator(".pagefind-ui__search-input")
    box.fill("diffusion")
    expect(page.locator(".pagefind-ui__message")).to_have_text(re.compile(r"results? for diffusion$"))
    expect(page).to_have_url(site.url("search/?q=diffusion"))


def sort_dates(page, site: Served) -> list[str]:
    """The digest dates (data-pagefind-sort) of every result, in the order shown, read from their pages."""
    found = []
    for _, href in all_results(page, result_count(page)):
        found.append(re.search(r'data-pagefind-sort="date:([0-9-]+)"', site.page_text(href)).group(1))
    return found


def test_sort_by_digest_date(page, sites):
    site = sites.root
    search(page, site, "reasoning", sort="newest")
    expect(page.locator("#search-sort")).to_have_value("newest")
    newest = sort_dates(page, site)
    assert newest == sorted(newest, reverse=True)
    page.locator("#search-sort").select_option("oldest")  # the UI is remade with the same query
    expect(page).to_have_url(re.compile(r"[?&]sort=oldest"))
    expect(page.locator(".pagefind-ui__search-input")).to_have_value("reasoning")
    expect(results(page).first).to_be_visible()
    oldest = sort_dates(page, site)
    assert oldest == sorted(oldest)
    assert oldest[0] < newest[0]


def test_shards_are_searched_as_one_index(page, sites):
    whole = sorted(href for _, href in all_results(page, search(page, sites.root, WORD)))
    expected = sorted(href for href in whole if TAG in sites.root.paper_tags(href))
    page.goto("about:blank")
    page.requests.clear()
    sharded = sorted(href for _, href in all_results(page, search(page, sites.sharded, WORD)))
    assert sharded == whole
    assert any("/pagefind/shards/2/" in url for url in page.requests)
    checkbox = tag_filter(page, TAG)
    expect(tag_label(page, TAG)).to_have_text(f"{TAG} ({len(expected)})")  # counts summed over shards
    checkbox.check()
    expect(page.locator(".pagefind-ui__message")).to_have_text(f"{len(expected)} results for {WORD}")
    assert sorted(href for _, href in all_results(page, len(expected))) == expected
    # Sorted by date, the shards' results come out in one order (sitegen.build.search deals pages by date).
    count = search(page, sites.sharded, "reasoning", sort="newest")
    newest = sort_dates(page, sites.sharded)
    assert newest == sorted(newest, reverse=True)
    # A new sort remakes the UI over the same merged index: no shard is merged twice.
    page.locator("#search-sort").select_option("oldest")
    expect(page).to_have_url(re.compile(r"[?&]sort=oldest"))
    expect(results(page).first).to_be_visible()
    assert result_count(page) == count
    oldest = sort_dates(page, sites.sharded)
    assert sorted(oldest) == sorted(newest)
    rounds = SHARDS  # ascending, pages may be out of order only within one round of the dealing
    assert all(oldest[i] <= oldest[j] for i in range(count) for j in range(i + rounds, count))


def test_keyboard_slash_focuses_the_box_and_tab_reaches_the_results(page, sites):
    search(page, sites.root, WORD)
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator(".pagefind-ui__search-input")).to_be_focused()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('pagefind-ui__result-link')"):
            break
    else:
        pytest.fail("Tab never reached a result link")
    href = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    expect(page).to_have_url(sites.root.url(href.lstrip("/")))


def test_a_build_without_the_index_says_so(page, sites):
    page.goto(sites.bare.url("search/?q=anything"))
    expect(page.locator(".search-unavailable")).to_be_visible()
    expect(page.locator("#search")).to_be_hidden()
    expect(page.locator(".search-tools")).to_be_hidden()


def test_indexed_text_starts_with_the_abstract_and_the_title_is_searched_as_metadata(page, sites):
    """Neither the eyebrow ("Paper"), the section heading ("Abstract") nor the title is part of the indexed
    text, so a result's excerpt never repeats its title; the title is found (and ranked) as Pagefind's title
    metadata all the same."""
    served = sites.root
    page.goto(served.url("search/"))
    script = """async ([bundle, word]) => {
        const pagefind = await import(bundle);
        const found = await pagefind.search(word);
        const first = found.results.slice(0, 5);
        return await Promise.all(first.map(r => r.data().then(d => [d.meta.title, d.content])));
    }"""
    for title, content in page.evaluate(script, [served.url("pagefind/pagefind.js"), WORD]):
        assert not content.startswith((title, "Abstract", "Paper")), content[:120]
    # A word that only one paper's title holds (no abstract has it) still finds that paper.
    word, slug = _title_only_word()
    lookup = """async ([bundle, word]) => {
        const pagefind = await import(bundle);
        const found = await pagefind.search(word);
        return await Promise.all(found.results.map(r => r.data().then(d => [d.url, d.content])));
    }"""
    found = page.evaluate(lookup, [served.url("pagefind/pagefind.js"), word])
    assert [url for url, _ in found] == [f"/papers/{slug}/"]
    assert word[:6] not in found[0][1].lower()


def _title_only_word() -> tuple[str, str]:
    """A word (7 letters or more) of one sample paper's title whose first six letters no other text of the
    sample holds (Pagefind stems words: "localizing" finds "localized"), and that paper's slug."""
    texts = [
        path.read_text(encoding="utf-8").lower() for path in sorted((REPO / "content/papers").glob("*.md"))
    ]
    for text in texts:
        front, body = text.split("\n---\n", 1)
        title = re.search(r"^title: (.*)$", front, re.M).group(1)
        for word in re.findall(r"[a-z]{7,}", title):
            stem = word[:6]
            if stem not in body and sum(stem in other for other in texts) == 1:
                return word, re.search(r"^slug: (.*)$", front, re.M).group(1).strip()
    raise AssertionError("no title-only word in the sample")
