"""The repository's sample site: it builds without a problem, and every internal link and asset resolves."""

from __future__ import annotations

import re
from pathlib import Path

import feedparser
import pytest
from conftest import REPO
from test_build import Page, broken_links, html_files

from sitegen.build import BuildOptions, build_site

pytestmark = pytest.mark.skipif(
    not any((REPO / "content/papers").glob("*.md")), reason="the sample content is not in this checkout"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "public"
    result = build_site(REPO, BuildOptions(out=out, base_url="https://example.org/review/", search=False))
    assert not result.failed, [str(d) for d in result.report.diagnostics]
    assert result.report.diagnostics == []
    papers = len(list((REPO / "content/papers").glob("*.md")))
    assert result.counts["paper"] == papers - _drafts()
    return out


def _drafts() -> int:
    return sum(
        1
        for path in (REPO / "content/papers").glob("*.md")
        if re.search(r"^draft:\s*true\s*$", path.read_text(encoding="utf-8").split("\n---", 1)[0], re.M)
    )


def test_every_internal_link_and_asset_resolves(sample):
    assert broken_links(sample, "/review/") == []


def test_every_page_carries_the_base_path(sample):
    for file in html_files(sample):
        for _, _, value in Page(file.read_text(encoding="utf-8")).links:
            assert value.startswith(("/review/", "https://", "http://", "#", "mailto:")), (file, value)


def test_feeds_parse(sample):
    feeds = [sample / "feed.xml", *sorted((sample / "tags").glob("*/feed.xml"))]
    assert len(feeds) > 1
    for feed in feeds:
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo, (feed, parsed.bozo_exception)
        assert parsed.entries, feed
        for entry in parsed.entries:
            assert entry.link.startswith("https://example.org/review/papers/")


def test_every_digest_of_the_sample_has_a_page(sample):
    for record in (REPO / "content/digests").glob("*.yaml"):
        assert (sample / "digests" / record.stem / "index.html").is_file(), record.stem
