"""Live reload decisions and the injected snippet."""

from __future__ import annotations

import threading
import time

from sitegen.serve.livereload import LiveReload, inject, is_asset, page_files, snippet


def test_a_page_reloads_only_for_its_own_file_assets_or_errors():
    live = LiveReload()
    page = {"papers/a/index.html"}
    start = live.token()
    live.publish(["papers/b/index.html", "tags/x/index.html", "feed.xml"], [], [])
    assert live.check(start, page)[0] is False
    live.publish(["papers/a/index.html"], [], [])
    assert live.check(start, page)[0] is True

    later = live.token()
    live.publish(["css/site.css"], [], [])
    assert live.check(later, page)[0] is True

    later = live.token()
    live.publish([], ["papers/a/index.html"], [])
    assert live.check(later, page)[0] is True


def test_error_changes_reload_every_page():
    live = LiveReload()
    clean = live.token()
    live.publish([], [], ["content/papers/a.md:3:7: bad"])
    assert live.check(clean, {"index.html"})[0] is True
    broken = live.token()
    live.publish([], [], ["content/papers/a.md:3:7: bad"])
    assert live.check(broken, {"index.html"})[0] is False  # same errors: nothing new to show
    live.publish([], [], [])
    assert live.check(broken, {"index.html"})[0] is True


def test_search_bundle_changes_do_not_reload():
    assert not is_asset("pagefind/pagefind.js")
    assert is_asset("css/site.css") and is_asset("img/logo.SVG")
    assert not is_asset("papers/a/index.html") and not is_asset("feed.xml")


def test_unknown_session_or_forgotten_generation_reloads():
    live = LiveReload(history=3)
    assert live.check("other.1", {"index.html"})[0] is True
    assert live.check("garbage", {"index.html"})[0] is True
    old = live.token()
    for _ in range(5):
        live.publish(["unrelated.html"], [], [])
    assert live.check(old, {"index.html"})[0] is True
    assert live.check(live.token(), {"index.html"})[0] is False


def test_page_files():
    assert page_files("/") == {"index.html"}
    assert page_files("/papers/a/") == {"papers/a/index.html"}
    assert page_files("/papers/a") == {"papers/a", "papers/a/index.html"}
    assert page_files("/../x/") == {"x/index.html"}


def test_snippet_goes_before_the_last_body_end_tag():
    page = b"<html><body><p>x</p><script>'</body>'</script></BODY></html>"
    out = inject(page, b"<i>here</i>")
    assert out.endswith(b"<i>here</i></BODY></html>")
    assert inject(b"<p>no body", b"<i>x</i>") == b"<p>no body<i>x</i>"


def test_overlay_escapes_errors_and_script_cannot_be_closed_early():
    data = snippet("s.1", "a</script>.html", ("content/papers/a.md:2:1: <b>bad</b>",)).decode()
    assert 'id="sitegen-error-overlay"' in data
    assert "content/papers/a.md:2:1: &lt;b&gt;bad&lt;/b&gt;" in data
    assert data.count("</script>") == 1
    assert snippet(None, "x", ()) == b""


def test_a_build_can_wait_until_the_tabs_show_what_a_preview_made():
    """wait_shown returns once a tab served at the new generation opens its event stream for the page, and
    gives up after its timeout when none does."""
    live = LiveReload()
    old = live.token()
    generation = live.publish(["papers/a/index.html"], [], [])
    with live.watching({"papers/a/index.html"}, old):  # a tab still showing the page from before
        assert not live.wait_shown(["papers/a/index.html"], generation.number, 0.05)

    def reloaded() -> None:
        with live.watching({"papers/a/index.html", "papers/a/"}, live.token(generation)):
            pass

    thread = threading.Thread(target=reloaded)
    thread.start()
    assert live.wait_shown(["papers/a/index.html"], generation.number, 10.0)
    thread.join()


def test_a_page_reloading_counts_as_open_for_a_moment():
    """A tab that reloads closes its event stream until its page has loaded: an edit saved meanwhile must
    still find the page open and make it first."""
    live = LiveReload(reloading_seconds=0.2)
    with live.watching({"papers/a/index.html"}, live.token()):
        assert live.open_files() == {"papers/a/index.html"}
    assert live.open_files() == {"papers/a/index.html"}  # reloading
    time.sleep(0.3)
    assert live.open_files() == set()  # closed


def test_waiting_for_the_tabs_ends_when_an_edit_comes():
    """The build waits for the tabs to show a preview, but not when another edit waits for it."""
    live = LiveReload()
    generation = live.publish(["papers/a/index.html"], [], [])
    started = time.monotonic()
    assert not live.wait_shown(["papers/a/index.html"], generation.number, 10.0, stop=lambda: True)
    assert time.monotonic() - started < 5.0
