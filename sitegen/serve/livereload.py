"""Live reload: which open pages must reload after a rebuild, and the snippet injected into served pages.

Each rebuild is a *generation*. A served page carries the generation it was rendered at and the output file
it came from; its script keeps an event stream open (`/__sitegen/events`) and the server tells it to reload
only when a later generation rewrote or removed that file, changed a stylesheet, script or image, or changed
the build errors (so the error overlay appears and disappears). Other writes leave the tab alone.

Hidden tabs close their stream and reopen it when shown, passing their generation, so a change made meanwhile
still reloads them; this keeps the browser's six-connections-per-host limit from stalling many open tabs.
"""

from __future__ import annotations

import contextlib
import html
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

EVENTS_PATH = "/__sitegen/events"

# Output files whose change can alter any page that links them (a page's own HTML is checked by name).
ASSET_SUFFIXES = frozenset(
    {".css", ".js", ".mjs", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico"}
    | {".woff", ".woff2", ".ttf", ".otf"}
)
OVERLAY_LIMIT = 50
#: Seconds a page counts as open after the last tab showing it closed its stream (see open_files).
RELOADING_SECONDS = 2.0
STOP_POLL = 0.01  # seconds between the looks of wait_shown at its `stop`


@dataclass(frozen=True, slots=True)
class Generation:
    """What one rebuild changed. Paths are relative to the output folder, with '/' separators."""

    number: int
    changed: frozenset[str]
    assets_changed: bool
    errors: tuple[str, ...]


def is_asset(rel: str) -> bool:
    if rel.startswith("pagefind/"):
        return False  # the search bundle changes behind every rebuild; reloading for it would be noise
    dot = rel.rfind(".")
    return dot > rel.rfind("/") and rel[dot:].lower() in ASSET_SUFFIXES


class LiveReload:
    """The generations of a serve session, shared by the rebuild thread and every request thread."""

    def __init__(self, history: int = 64, reloading_seconds: float = RELOADING_SECONDS):
        # A new id per session: a tab opened before a restart reloads when it reconnects.
        self.session = secrets.token_hex(4)
        self._cond = threading.Condition()
        self._history: deque[Generation] = deque([Generation(0, frozenset(), False, ())], maxlen=history)
        self._closed = False
        self._open: Counter[str] = Counter()
        self._reloading_seconds = reloading_seconds
        self._left: dict[str, float] = {}  # output file -> when the last tab showing it closed its stream
        self._shown: dict[str, int] = {}  # output file -> newest generation a tab showing it was served at

    @contextlib.contextmanager
    def watching(self, pages: set[str], token: str = "") -> Iterator[None]:
        """While a tab's event stream is open: the output files it shows count as open (see open_files).
        `token`: the generation the tab was served at (see wait_shown)."""
        session, _, number = token.partition(".")
        with self._cond:
            self._open.update(pages)
            if session == self.session and number.isdigit():
                for page in pages:
                    self._shown[page] = max(self._shown.get(page, -1), int(number))
                self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._open.subtract(pages)
                self._open += Counter()  # (drops the files no tab shows any more)
                now = time.monotonic()
                self._left.update((page, now) for page in pages if page not in self._open)

    def wait_shown(
        self, files: Iterable[str], number: int, timeout: float, stop: Callable[[], bool] | None = None
    ) -> bool:
        """Wait until a tab served at generation `number` or later shows each of `files` (its event stream,
        opened once its page has loaded, says so); False after `timeout` seconds, or as soon as `stop()`
        says so (asked every STOP_POLL seconds)."""
        wanted = set(files)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._closed or all(self._shown.get(f, -1) >= number for f in wanted):
                    return True
                left = deadline - time.monotonic()
                if left <= 0 or (stop is not None and stop()):
                    return False
                self._cond.wait(min(left, STOP_POLL) if stop is not None else left)

    def open_files(self) -> set[str]:
        """The output files that open tabs show now, or showed until a moment ago (a tab that reloads closes
        its stream until its page has loaded: an edit saved meanwhile must still make its page first): a
        rebuild makes them first."""
        with self._cond:
            since = time.monotonic() - self._reloading_seconds
            self._left = {page: left for page, left in self._left.items() if left > since}
            return set(self._open) | self._left.keys()

    @property
    def current(self) -> Generation:
        with self._cond:
            return self._history[-1]

    def token(self, generation: Generation | None = None) -> str:
        return f"{self.session}.{(generation or self.current).number}"

    def publish(self, written: Iterable[str], removed: Iterable[str], errors: Iterable[str]) -> Generation:
        """Record a finished rebuild and wake every waiting event stream."""
        changed = frozenset(p.replace("\\", "/") for p in (*written, *removed))
        with self._cond:
            generation = Generation(
                self._history[-1].number + 1,
                changed,
                any(is_asset(p) for p in changed),
                tuple(errors),
            )
            self._history.append(generation)
            self._cond.notify_all()
        return generation

    def close(self) -> None:
        """End every event stream (the server is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def wait(self, after: int, timeout: float) -> bool:
        """Block until a generation newer than `after` exists; False on timeout or when closed."""
        with self._cond:
            ready = self._cond.wait_for(lambda: self._closed or self._history[-1].number > after, timeout)
            return bool(ready) and not self._closed

    def check(self, token: str, pages: set[str]) -> tuple[bool, Generation]:
        """Must a page served at `token`, shown from any of the output files `pages`, reload now?"""
        session, _, number_text = token.partition(".")
        with self._cond:
            latest = self._history[-1]
            if session != self.session or not number_text.isdigit():
                return True, latest
            number = int(number_text)
            if number == latest.number:
                return False, latest
            oldest = self._history[0].number
            if number > latest.number or number < oldest:
                return True, latest  # unknown or forgotten generation: reloading is the safe answer
            served = self._history[number - oldest]
            newer = [g for g in self._history if g.number > number]
        if served.errors != latest.errors:
            return True, latest
        return any(g.assets_changed or not pages.isdisjoint(g.changed) for g in newer), latest


def page_files(url_path: str) -> set[str]:
    """The output files a URL path can be served from (its file, or its folder's index.html)."""
    segments = [s for s in url_path.split("/") if s not in ("", ".", "..")]
    rel = "/".join(segments)
    if not rel:
        return {"index.html"}
    if url_path.endswith("/"):
        return {f"{rel}/index.html"}
    return {rel, f"{rel}/index.html"}


#: The client (sitegen/serve/livereload.js), read once; its settings go in data attributes.
_CLIENT = resources.files("sitegen.serve").joinpath("livereload.js").read_text(encoding="utf-8")

_OVERLAY_STYLE = (
    "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;"
    "background:rgba(24,24,27,.94);color:#fafafa;font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;"
    "text-align:left"
)


def overlay(errors: tuple[str, ...]) -> str:
    """A full-page panel listing the last rebuild's errors; it goes away by the reload after a fix."""
    shown = list(errors[:OVERLAY_LIMIT])
    if len(errors) > OVERLAY_LIMIT:
        shown.append(f"... and {len(errors) - OVERLAY_LIMIT} more (see the terminal)")
    lines = "\n".join(html.escape(line) for line in shown)
    return (
        f'<div id="sitegen-error-overlay" role="alert" style="{_OVERLAY_STYLE}">'
        '<p style="margin:0 0 1rem;font-size:18px;color:#f87171"><strong>sitegen: the last rebuild failed'
        "</strong></p>"
        f'<pre style="margin:0 0 1rem;white-space:pre-wrap;color:#fecaca">{lines}</pre>'
        '<p style="margin:0;color:#a1a1aa">Below is the last good build. '
        "Fix the file and save: this page reloads by itself. "
        '<button type="button" onclick="this.closest(\'#sitegen-error-overlay\').remove()">'
        "Dismiss</button></p>"
        "</div>"
    )


def snippet(token: str | None, file: str, errors: tuple[str, ...]) -> bytes:
    """What goes before </body> of a served page: the error overlay, and the reload client when watching."""
    parts = [overlay(errors)] if errors else []
    if token is not None:
        # The values are attributes (escaped as such): no file name can end the script element early.
        settings = {"since": token, "file": file, "endpoint": EVENTS_PATH}
        attributes = "".join(
            f' data-{name}="{html.escape(value, quote=True)}"' for name, value in settings.items()
        )
        parts.append(f"<script data-sitegen-livereload{attributes}>{_CLIENT}</script>")
    return "".join(parts).encode("utf-8")


def inject(page: bytes, extra: bytes) -> bytes:
    """Insert `extra` before the last </body>, or append it when the page has none."""
    if not extra:
        return page
    at = page.lower().rfind(b"</body")
    return page + extra if at < 0 else page[:at] + extra + page[at:]
