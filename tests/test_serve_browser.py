"""What a curator sees in a real browser while `sitegen serve --watch` runs: edits appear untouched."""

from __future__ import annotations

import os
import re

import pytest
from conftest import paper, wait_for, write_site

from sitegen.serve.session import Preview

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT_MS = 20_000


def alpha(body: str = "Alpha abstract.", title: str = "Alpha Paper") -> str:
    return paper("alpha", title, body, digests="[2026-03-13]", tags="[testing]")


@pytest.fixture
def session(tmp_path, browser):
    """A watching preview of a two-paper site and a browser page open on alpha's page."""
    root = write_site(
        tmp_path,
        {
            "content/papers/alpha.md": alpha(),
            "content/papers/beta.md": paper("beta", "Beta Paper", "Beta abstract.", digests="[2026-03-13]"),
        },
    )
    logs: list[str] = []
    with Preview(root, port=0, watch=True, log=logs.append) as preview:
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        response = page.goto(preview.url + "papers/alpha/")
        assert response.status == 200
        sync_api.expect(page.locator("h1")).to_have_text("Alpha Paper")
        page.evaluate("window.__notReloaded = true")
        try:
            yield preview, root, page, logs
        finally:
            page.close()


def reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded !== true")


def test_editing_the_markdown_shows_the_new_text(session):
    _, root, page, _ = session
    (root / "content/papers/alpha.md").write_text(alpha("A sharper abstract.", "Alpha, Revised"))
    sync_api.expect(page.locator("h1")).to_have_text("Alpha, Revised", timeout=TIMEOUT_MS)
    sync_api.expect(page.get_by_text("A sharper abstract.")).to_be_visible()
    assert reloaded(page)


def test_an_atomic_rename_save_is_seen(session):
    _, root, page, _ = session
    target = root / "content/papers/alpha.md"
    temp = target.with_name(".alpha.md.tmp")
    temp.write_text(alpha("Saved through a rename."))
    os.replace(temp, target)
    sync_api.expect(page.get_by_text("Saved through a rename.")).to_be_visible(timeout=TIMEOUT_MS)


def test_a_vim_style_save_is_seen(session):
    _, root, page, _ = session
    target = root / "content/papers/alpha.md"
    backup = target.with_name("alpha.md~")
    os.rename(target, backup)
    target.write_text(alpha("Saved the vim way."))
    backup.unlink()
    sync_api.expect(page.get_by_text("Saved the vim way.")).to_be_visible(timeout=TIMEOUT_MS)


def test_broken_yaml_shows_an_overlay_that_goes_when_fixed(session):
    _, root, page, logs = session
    target = root / "content/papers/alpha.md"
    target.write_text('---\ntitle: "Alpha Paper\nslug: alpha\n---\nAbstract.\n')
    overlay = page.locator("#sitegen-error-overlay")
    sync_api.expect(overlay).to_be_visible(timeout=TIMEOUT_MS)
    sync_api.expect(overlay).to_contain_text(re.compile(r"alpha\.md:\d+:\d+: "))
    assert any(re.search(r"alpha\.md:\d+:\d+: ", line) for line in logs)
    target.write_text(alpha("Fixed again."))
    sync_api.expect(page.get_by_text("Fixed again.")).to_be_visible(timeout=TIMEOUT_MS)
    sync_api.expect(overlay).to_have_count(0)


def test_deleting_the_paper_turns_its_page_into_a_404(session):
    preview, root, page, _ = session
    (root / "content/papers/alpha.md").unlink()
    sync_api.expect(page.locator("h1")).not_to_have_text("Alpha Paper", timeout=TIMEOUT_MS)
    response = page.goto(preview.url + "papers/alpha/")
    assert response.status == 404


def test_an_unrelated_edit_leaves_the_page_alone(session):
    preview, root, page, _ = session
    before = preview.live.current.number
    # A second stream with the page's own parameters: once it hears of the rebuild, so has the page's.
    page.evaluate(
        """() => new Promise(resolve => {
            const token = document.querySelector('script[data-sitegen-livereload]').dataset.since;
            const url = '/__sitegen/events?since=' + encodeURIComponent(token) +
                '&file=papers%2Falpha%2Findex.html&path=%2Fpapers%2Falpha%2F';
            window.__probe = new EventSource(url);
            window.__probe.addEventListener('open', () => resolve());
            window.__probe.addEventListener('generation', e => { window.__heard = e.data; });
        })"""
    )
    # A file this page does not show or link (a paper's edit may change this page's related list).
    (root / "static").mkdir(exist_ok=True)
    (root / "static/notes.txt").write_text("not on this page\n")
    page.wait_for_function("window.__heard !== undefined", timeout=TIMEOUT_MS)
    assert preview.live.current.number > before
    page.wait_for_timeout(300)  # the page's own stream handles the same message
    assert not reloaded(page)


def test_the_server_survives_a_burst_of_edits(session):
    preview, root, page, logs = session
    target = root / "content/papers/alpha.md"
    for i in range(30):
        target.write_text(alpha(f"Burst edit {i}."))
    sync_api.expect(page.get_by_text("Burst edit 29.")).to_be_visible(timeout=TIMEOUT_MS)
    # The open page shows the last edit before the build that follows it reports (see Builder.preview).
    rebuilds = wait_for(lambda: [line for line in logs if line.startswith("rebuilt in ")], what="a rebuild")
    assert 1 <= len(rebuilds) < 30  # debounced: not one rebuild per write
    assert page.goto(preview.url).status == 200
