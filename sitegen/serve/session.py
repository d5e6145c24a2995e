"""`sitegen serve [--watch]`: build into a private folder, serve it, rebuild what changed, reload the browser.

The session builds with drafts and a base URL pointing at the local server into a temporary folder (removed
on exit), so a preview never leaves drafts or localhost links in the real output folder. With --watch, each
burst of source changes becomes one incremental rebuild; the HTTP server holds requests while the builder
writes, then tells the open pages whether they must reload. Mistakes in the sources are reported, shown over
the page, and never stop the server. The search index is refreshed afterwards on its own thread, so it never
delays a reload.
"""

from __future__ import annotations

import contextlib
import gc
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from sitegen.build.builder import Superseded
from sitegen.config import SiteConfig, load_config
from sitegen.errors import Diagnostic, SitegenError, display_path
from sitegen.serve.http import OutputLock, SiteServer, bind_error
from sitegen.serve.livereload import LiveReload
from sitegen.serve.searching import SearchRefresher
from sitegen.serve.watch import CONFIG, Changes, Debouncer, Layout, Watcher
from sitegen.store.files import process_folder, remove_abandoned_folders
from sitegen.text import urls

EXIT_OK, EXIT_USAGE = 0, 2
SERVE_FOLDER_PREFIX = "sitegen-serve-"  # a session's output folder, in the system's temporary folder


class BuildResultLike(Protocol):
    report: Any
    failed: bool
    written: list[str]
    removed: list[str]

    def summary(self) -> str: ...


class BuilderLike(Protocol):
    def build(
        self, changed: set[Path] | None = None, stop: Callable[[], bool] | None = None
    ) -> BuildResultLike: ...


BuilderFactory = Callable[[Path, Path, str], BuilderLike]


def site_builder(root: Path, out_dir: Path, base_url: str) -> BuilderLike:
    """The real builder, set up for previewing: drafts shown, local links, no search step (done apart)."""
    from sitegen.build import Builder, BuildOptions

    options = BuildOptions(out=out_dir, base_url=base_url, drafts=True, strict=False, search=False)
    return Builder(root, options)


def _ignore(_: str) -> None:
    pass


def server_url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"  # a wildcard address is not something to type into a browser
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


#: How long a build waits, at most, for the open pages a preview made to be loaded again (see _preview).
PREVIEW_SHOWN_SECONDS = 0.5
#: How long, at most, edits that keep coming may keep the builds given up (see Session._superseded).
MAX_SUPERSEDED_SECONDS = 5.0
#: Seconds without an edit after a rebuild before the cycles it left are collected (see watch).
COLLECT_IDLE_SECONDS = 1.0


class Session:
    """One serve session's builds: the first, then one per burst of changes, never two at once."""

    def __init__(
        self,
        root: Path,
        out_dir: Path,
        base_url: str,
        lock: OutputLock,
        live: LiveReload,
        log: Callable[[str], None],
        make_builder: BuilderFactory = site_builder,
    ):
        self.root = root
        self.out_dir = out_dir
        self.base_url = base_url
        self.lock = lock
        self.live = live
        self.log = log
        self.make_builder = make_builder
        self.builder: BuilderLike | None = None
        self.layout = Layout.of(root, self._config() or SiteConfig())
        self.builds = 0
        self._mutex = threading.Lock()
        self._held: contextlib.AbstractContextManager[None] | None = None
        self._shown_warnings: set[str] = set()
        self._debouncer: Debouncer | None = None
        self._watcher: Watcher | None = None
        self.search = SearchRefresher(out_dir, self._mutex, log)
        #: What builds cut short were told (see _superseded), for the next one; and when the first began.
        self._unbuilt: Changes | None = None
        self._unbuilt_since = 0.0

    def _config(self) -> SiteConfig | None:
        try:
            return load_config(self.root)
        except SitegenError:
            return None  # the build reports it; meanwhile keep watching the folders we know

    def watch(self) -> None:
        """Start watching the sources; changes seen during a build wait for it and make the next one."""
        self._debouncer = Debouncer(self.rebuild, idle=gc.collect, idle_after=COLLECT_IDLE_SECONDS)
        self._watcher = Watcher(self.layout, self._debouncer.push, self.log)

    def stop(self) -> None:
        if self._watcher:
            self._watcher.stop()
        if self._debouncer:
            self._debouncer.stop()
        self.search.stop()

    def rebuild(self, changes: Changes) -> None:
        """Build what `changes` need; report problems and never raise (the server must keep running)."""
        first = self.builds == 0
        with self._mutex:
            # The builder keeps the whole site in memory between rebuilds: a cycle collection during a
            # rebuild would walk all of it, again and again. Cycles are collected once the pages are out.
            gc.disable()
            try:
                self._rebuild(changes)
            except Exception as exc:  # a bug must not take the preview down; the next change starts afresh
                self.builder = None
                message = f"sitegen serve: internal error while rebuilding: {type(exc).__name__}: {exc}"
                self.log(message)
                with self.lock.write():
                    self.live.publish([], [], [message])
            finally:
                gc.enable()
        if self._debouncer is None or first:
            gc.collect()
        # (Watching, the debouncer collects once no edit has come for a moment: a full collection holds the
        # interpreter for a third of a second at 10,000 papers, which an edit saved then would wait for.)

    @contextlib.contextmanager
    def _hold_output(self) -> Iterator[None]:
        """The builder's write guard: takes the output lock for its commit and keeps it until the rebuild's
        result is published, so that no page is served between new files and the news of them (the error
        overlay, say). Released by _rebuild."""
        if self._held is None:
            held = self.lock.write()
            held.__enter__()
            self._held = held
        yield

    def _waiting(self) -> bool:
        """Whether an edit waits for the rebuild under way to end."""
        return self._debouncer is not None and self._debouncer.waiting()

    def _superseded(self) -> bool:
        """Whether the incremental build under way should give up for the edit that came meanwhile: its
        preview must not wait for a whole build, and the build that follows makes all this one would. Only
        while the builds given up began less than MAX_SUPERSEDED_SECONDS ago: when the curator keeps saving,
        the other pages still come up to date."""
        return self._waiting() and time.monotonic() - self._unbuilt_since < MAX_SUPERSEDED_SECONDS

    def _rebuild(self, changes: Changes) -> None:
        started = time.perf_counter()
        if self._unbuilt is None:
            self._unbuilt_since = time.monotonic()
        else:  # (what a build given up was told is still to build)
            self._unbuilt.merge(changes)
            changes, self._unbuilt = self._unbuilt, None
        if CONFIG in changes.kinds or self.builder is None:
            self.builder = None
            config = self._config()
            if config is not None and Layout.of(self.root, config) != self.layout:
                self.layout = Layout.of(self.root, config)
                if self._watcher:
                    self._watcher.set_layout(self.layout)
        changed = None if self.builder is None or changes.full else set(changes.paths)
        if changed:
            self._preview(changed)
        written: list[str] = []
        removed: list[str] = []
        result: BuildResultLike | None = None
        self._held = None
        try:
            try:
                if self.builder is None:
                    self.builder = self.make_builder(self.root, self.out_dir, self.base_url)
                    if hasattr(self.builder, "write_guard"):
                        self.builder.write_guard = self._hold_output
                # A builder that takes the lock itself renders while pages are still served; any other holds
                # requests for its whole build.
                if getattr(self.builder, "write_guard", None) is None:
                    self._hold_output().__enter__()
                try:
                    # (A full build is never given up: the next one would start again from nothing.)
                    result = self.builder.build(changed=changed, stop=self._superseded if changed else None)
                except Superseded:
                    self._unbuilt = changes
                    return
                diagnostics = list(result.report.diagnostics)
                failed = result.failed
                written, removed = list(result.written), list(result.removed)
            except SitegenError as exc:  # settings or templates unusable: nothing was built
                self.builder = None
                diagnostics, failed = list(exc.diagnostics), True
            errors = [str(d) for d in diagnostics if d.severity == "error"]
            if failed and not errors:
                errors = [str(d) for d in diagnostics] or ["the build failed"]
            if self._held is None:
                self._hold_output().__enter__()
            self.live.publish(written, removed, errors)
        finally:
            if self._held is not None:
                held, self._held = self._held, None
                held.__exit__(None, None, None)
        self.builds += 1
        self._report(diagnostics, changes, result, written, removed, time.perf_counter() - started)
        if not failed and (self.builds == 1 or any(p.endswith(".html") for p in (*written, *removed))):
            self.search.schedule()

    def _preview(self, changed: set[Path]) -> None:
        """Pages open in the browser that show an edited paper are made first and reloaded at once, paper
        pages before lists; the build that follows makes the rest (see Builder.preview). Only while no build
        error is shown: the overlay must stay until a build clears it."""
        preview = getattr(self.builder, "preview", None)
        if preview is None or self.live.current.errors:
            return
        papers = self.layout.content / "papers"
        if not all(path.suffix == ".md" and path.parent == papers for path in changed):
            return
        shown = self.live.open_files()
        # Paper pages first (the edited paper's own, most likely the one looked at), then the lists that show
        # it: each tab reloads as soon as its page is made, and the browser loads the paper alone.
        papers_first = {file for file in shown if file.startswith(urls.PAPERS)}
        for files in (papers_first, shown - papers_first):
            written = preview(changed, files)
            if written:
                with self.lock.write():
                    generation = self.live.publish(written, [], [])
                # What follows takes the processor: it waits until the tabs have the pages made for them
                # (or a moment has passed), so that serving them is not slowed down by it.
                self.live.wait_shown(written, generation.number, PREVIEW_SHOWN_SECONDS, self._waiting)

    def _report(
        self,
        diagnostics: list[Diagnostic],
        changes: Changes,
        result: BuildResultLike | None,
        written: list[str],
        removed: list[str],
        seconds: float,
    ) -> None:
        for diagnostic in diagnostics:
            line = str(diagnostic)
            if diagnostic.severity == "warning":
                if line in self._shown_warnings:
                    continue  # said once is enough; errors repeat until they are fixed
                self._shown_warnings.add(line)
            self.log(line)
        if self.builds == 1:
            self.log(result.summary() if result is not None else "the site could not be built")
            return
        what = ", ".join(display_path(p) for p in sorted(changes.paths)[:3])
        if len(changes.paths) > 3:
            what += f" and {len(changes.paths) - 3} more"
        what = what or "settings or folders"
        outcome = "failed" if result is None or result.failed else "rebuilt"
        self.log(
            f"{outcome} in {seconds * 1000:.0f} ms ({what}): {len(written)} written, {len(removed)} removed"
        )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Stop cleanly on SIGTERM as on Ctrl-C (only the main thread may set signal handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Preview:
    """A running preview: server, first build and (optionally) watcher; a context manager that cleans up.

    Raises OSError when the address cannot be used (see server.bind_error for the message).
    """

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        watch: bool = False,
        log: Callable[[str], None] = _ignore,
        make_builder: BuilderFactory = site_builder,
    ):
        self.lock, self.live = OutputLock(), LiveReload()
        # (What a server killed outright left, 250 MB at 10,000 papers, goes first.)
        remove_abandoned_folders(tempfile.gettempdir(), SERVE_FOLDER_PREFIX)
        self.out_dir = process_folder(tempfile.gettempdir(), SERVE_FOLDER_PREFIX)
        try:
            self.server = SiteServer((host, port), self.out_dir, self.lock, self.live, watch, log)
        except BaseException:
            shutil.rmtree(self.out_dir, ignore_errors=True)
            raise
        self.url = server_url(host, self.server.server_address[1])
        self.watching = watch
        self.session = Session(root, self.out_dir, self.url, self.lock, self.live, log, make_builder)
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.1,), name="sitegen-http", daemon=True
        )

    def __enter__(self) -> Preview:
        try:
            # Requests made during the first build wait for it (the output lock); changes seen meanwhile are
            # rebuilt right after it.
            self._thread.start()
            if self.watching:
                self.session.watch()
            self.session.rebuild(Changes(full=True, kinds={CONFIG}))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.live.close()
        self.session.stop()
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.out_dir, ignore_errors=True)


def serve(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    watch: bool = False,
    log: Callable[[str], None] = _ignore,
    make_builder: BuilderFactory = site_builder,
) -> int:
    """Serve the site until interrupted. Returns 0 after Ctrl-C or SIGTERM, 2 when the address is unusable."""
    try:
        preview = Preview(root, host, port, watch, log, make_builder)
    except OSError as exc:
        log(bind_error(exc, host, port))
        return EXIT_USAGE
    with _sigterm_as_interrupt():
        try:
            with preview:
                watching = ", watching for changes" if watch else ""
                log(f"serving {display_path(root)} at {preview.url} (drafts included{watching})")
                log("press Ctrl-C to stop")
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            pass
    log("stopped")
    return EXIT_OK
