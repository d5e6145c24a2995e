"""The local HTTP server of `sitegen serve`: the output folder, read under a lock, with live reload injected.

Only files inside the output folder can be read: the request path is decoded once, `..` segments, backslashes
and NUL bytes are refused, and the final real path (symlinks followed) must still be inside the folder. Every
refusal is an ordinary 404, so a probe learns nothing about the disk.
"""

from __future__ import annotations

import contextlib
import errno
import mimetypes
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from sitegen.build.output import is_fingerprinted
from sitegen.serve.livereload import EVENTS_PATH, LiveReload, inject, page_files, snippet

# Explicit types first: the system's mime.types differs between machines and misses several of these.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".xml": "application/xml",
    ".xsl": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".bib": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".pdf": "application/pdf",
    ".wasm": "application/wasm",
    ".webmanifest": "application/manifest+json",
    # Pagefind's bundle: gzip data its own script unpacks.
    ".pagefind": "application/octet-stream",
    ".pf_meta": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
}

NOT_FOUND_PAGE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>Not found</title></head>"
    b"<body><h1>Not found</h1><p>This site has no page here.</p></body></html>"
)
_QUIET_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
PING_SECONDS = 15.0


def content_type(name: str) -> str:
    suffix = os.path.splitext(name)[1].lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


class OutputLock:
    """Many readers or one writer, writers first: a request never reads a folder the builder is writing."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            self._cond.wait_for(lambda: not self._writing and not self._readers)
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


def url_segments(path: str) -> list[str] | None:
    """The decoded segments of a request path, or None when it tries to leave the folder or is malformed."""
    if not path.startswith("/") or "\\" in path or "\0" in path:
        return None
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\\" in decoded or "\0" in decoded:
        return None
    segments = [s for s in decoded.split("/") if s not in ("", ".")]
    if ".." in segments:
        return None
    return segments


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a request path leads: a file to send (with its path relative to the folder) or a redirect."""

    file: str | None = None
    rel: str | None = None
    redirect: str | None = None


def resolve(root: str, path: str) -> Resolved:
    """Map a request path onto the real, already resolved folder `root`; Resolved() means 404."""
    segments = url_segments(path)
    if segments is None:
        return Resolved()
    real = os.path.realpath(os.path.join(root, *segments))
    if real != root and not real.startswith(root + os.sep):
        return Resolved()
    if os.path.isdir(real):
        if not path.endswith("/"):
            return Resolved(redirect="/" + "/".join(quote(s) for s in segments) + "/")
        index = os.path.realpath(os.path.join(real, "index.html"))
        if not index.startswith(root + os.sep) or not os.path.isfile(index):
            return Resolved()
        return Resolved(index, "/".join([*segments, "index.html"]))
    if os.path.isfile(real) and not path.endswith("/"):
        return Resolved(real, "/".join(segments))
    return Resolved()


class SiteServer(ThreadingHTTPServer):
    """Serves `out_dir`; `lock` guards it from the builder; `live` feeds the reload script when watching."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        out_dir: Path,
        lock: OutputLock,
        live: LiveReload,
        watching: bool,
        log: Callable[[str], None],
    ):
        host = address[0]
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.out_dir = os.path.realpath(out_dir)
        self.lock = lock
        self.live = live
        self.watching = watching
        self.log = log
        super().__init__(address, RequestHandler)

    def handle_error(self, request, client_address) -> None:
        # A browser closing a tab mid-response is normal; anything else is a bug worth one line.
        exc = sys.exc_info()[1]
        if isinstance(exc, _QUIET_ERRORS):
            return
        self.log(f"sitegen serve: internal error answering {client_address[0]}: {type(exc).__name__}: {exc}")


class RequestHandler(BaseHTTPRequestHandler):
    server: SiteServer
    protocol_version = "HTTP/1.1"
    server_version = "sitegen"
    timeout = 60  # idle keep-alive connections end by themselves

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args) -> None:
        pass  # a request log drowns the build messages that matter

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute-form request target
            target = urlsplit(target).path or "/"
        path, _, query = target.partition("?")
        path = path.partition("#")[0]
        if path == EVENTS_PATH and not head:
            self._events(parse_qs(query))
            return
        server = self.server
        with server.lock.read():
            found = resolve(server.out_dir, path)
            if found.redirect:
                location = found.redirect + (f"?{query}" if query else "")
                self._send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", head, {"Location": location})
                return
            status = HTTPStatus.OK
            if found.file is None:
                status = HTTPStatus.NOT_FOUND
                found = resolve(server.out_dir, "/404.html")
            try:
                body = Path(found.file).read_bytes() if found.file else NOT_FOUND_PAGE
            except OSError:  # vanished between the check and the read: answer as if it was never there
                status, found, body = HTTPStatus.NOT_FOUND, Resolved(), NOT_FOUND_PAGE
            kind = content_type(found.file or "404.html")
            if kind.startswith("text/html"):
                current = server.live.current
                token = server.live.token(current) if server.watching else None
                body = inject(body, snippet(token, found.rel or "", current.errors))
        cached = status == HTTPStatus.OK and is_fingerprinted(found.rel)
        self._send(status, body, kind, head, {"Cache-Control": IMMUTABLE} if cached else None)

    def _send(
        self, status: HTTPStatus, body: bytes, kind: str, head: bool, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        headers = headers or {}
        # A preview must never show a stale copy from the browser's cache (an asset's name changes with it).
        self.send_header("Cache-Control", headers.pop("Cache-Control", "no-store"))
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _events(self, query: dict[str, list[str]]) -> None:
        """A Server-Sent Events stream telling one page when to reload."""
        live = self.server.live
        token = query.get("since", [""])[0]
        pages = page_files(query.get("path", ["/"])[0])
        if query.get("file", [""])[0]:
            pages.add(query["file"][0])
        self.close_connection = True
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"retry: 1000\n\n")
        self.wfile.flush()
        with live.watching(pages, token):
            self._stream(live, token, pages)

    def _stream(self, live: LiveReload, token: str, pages: set[str]) -> None:
        while not live.closed:
            reload, latest = live.check(token, pages)
            if reload:
                self.wfile.write(b"event: reload\ndata: now\n\n")
                self.wfile.flush()
                return
            if live.token(latest) != token:
                token = live.token(latest)
                self.wfile.write(f"event: generation\ndata: {token}\n\n".encode())
                self.wfile.flush()
            if not live.wait(latest.number, PING_SECONDS) and not live.closed:
                self.wfile.write(b": ping\n\n")  # finds closed tabs, so their threads end
                self.wfile.flush()

    def handle(self) -> None:
        with contextlib.suppress(*_QUIET_ERRORS):
            super().handle()


#: For a file named by a hash of its content (output.is_fingerprinted): a reload need not fetch it again.
IMMUTABLE = "public, max-age=31536000, immutable"


def bind_error(exc: OSError, host: str, port: int) -> str:
    """One line explaining why the server could not listen, with a port to try instead."""
    if exc.errno == errno.EADDRINUSE:
        return f"sitegen serve: port {port} on {host} is already in use; try --port {free_port(host, port)}"
    if exc.errno == errno.EACCES:
        return f"sitegen serve: no permission to listen on port {port}; try --port {free_port(host, 8000)}"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"sitegen serve: cannot listen on host {host!r}: not an address of this machine"
    return f"sitegen serve: cannot listen on {host}:{port}: {exc.strerror or exc}"


def free_port(host: str, start: int) -> int:
    """The first port from `start` + 1 that can be bound now (a suggestion, not a reservation)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in range(max(start + 1, 1024), min(start + 100, 65535)):
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    return 0
