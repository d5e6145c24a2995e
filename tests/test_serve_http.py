"""The preview's HTTP server on a real socket over a real folder: types, folders, 404s, traversal, HEAD."""

from __future__ import annotations

import http.client
import os
import socket
import threading

import pytest

from sitegen.serve.http import OutputLock, SiteServer, content_type, resolve, url_segments
from sitegen.serve.livereload import LiveReload
from sitegen.serve.session import serve

PAGE = b"<!doctype html><html><head><title>t</title></head><body><h1>Hello</h1></body></html>"


@pytest.fixture
def served(tmp_path):
    """A SiteServer on a free port over tmp_path/out; yields (out, port, server)."""
    out = tmp_path / "out"
    files = {
        "index.html": PAGE,
        "404.html": b"<html><body><p>custom not found</p></body></html>",
        "papers/alpha/index.html": PAGE.replace(b"Hello", b"Alpha"),
        "feed.xml": b"<?xml version='1.0'?><feed/>",
        "sitemap.xml": b"<?xml version='1.0'?><urlset/>",
        "robots.txt": b"User-agent: *\n",
        "style.css": b"body{}",
        "assets/style.0123456789.css": b"body{}",
        "logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        "site.webmanifest": b"{}",
        "data.json": b"{}",
        "pagefind/pagefind.js": b"//",
        "pagefind/wasm.en.pagefind": b"\x1f\x8b",
        "pagefind/pagefind-entry.json": b"{}",
        "pagefind/index/en_1.pf_index": b"\x1f\x8b",
        "pagefind/fragment/en_1.pf_fragment": b"\x1f\x8b",
        "pagefind/pagefind.en_1.pf_meta": b"\x1f\x8b",
        "pagefind/pagefind_bg.wasm": b"\0asm",
        "empty/.keep": b"",
    }
    for rel, data in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    (tmp_path / "secret.txt").write_text("do not serve")
    os.symlink(tmp_path / "secret.txt", out / "leak.txt")
    os.symlink(tmp_path, out / "up")
    os.symlink(out / "robots.txt", out / "robots-link.txt")  # inside: allowed
    logs: list[str] = []
    server = SiteServer(("127.0.0.1", 0), out, OutputLock(), LiveReload(), False, logs.append)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    yield out, server.server_address[1], server
    server.shutdown()
    server.server_close()
    assert logs == []  # nothing above was an internal error


def request(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Send `path` exactly as given (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/feed.xml", "application/xml"),
        ("/sitemap.xml", "application/xml"),
        ("/robots.txt", "text/plain; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/logo.svg", "image/svg+xml"),
        ("/site.webmanifest", "application/manifest+json"),
        ("/data.json", "application/json"),
        ("/pagefind/pagefind.js", "text/javascript; charset=utf-8"),
        ("/pagefind/pagefind_bg.wasm", "application/wasm"),
        ("/pagefind/wasm.en.pagefind", "application/octet-stream"),
        ("/pagefind/index/en_1.pf_index", "application/octet-stream"),
        ("/pagefind/fragment/en_1.pf_fragment", "application/octet-stream"),
        ("/pagefind/pagefind.en_1.pf_meta", "application/octet-stream"),
        ("/", "text/html; charset=utf-8"),
    ],
)
def test_content_types(served, path, expected):
    _, port, _ = served
    status, headers, _ = request(port, path)
    assert status == 200
    assert headers["content-type"] == expected
    assert headers["cache-control"] == "no-store"


def test_only_assets_named_by_their_content_may_be_cached(served):
    """A reload fetches the page again but not its stylesheet and script, whose names change with them."""
    _, port, _ = served
    assert (
        request(port, "/assets/style.0123456789.css")[1]["cache-control"]
        == "public, max-age=31536000, immutable"
    )
    for path in ("/style.css", "/", "/assets/style.0123456789.css.map", "/nothing/here"):
        assert request(port, path)[1]["cache-control"] == "no-store"


def test_folder_serves_its_index_and_redirects_without_slash(served):
    _, port, _ = served
    status, _, body = request(port, "/papers/alpha/")
    assert status == 200 and b"<h1>Alpha</h1>" in body
    status, headers, _ = request(port, "/papers/alpha?x=1")
    assert status == 301 and headers["location"] == "/papers/alpha/?x=1"
    status, _, _ = request(port, "/empty/")  # a folder without index.html is not listed
    assert status == 404


def test_unknown_path_gets_the_sites_404_page_with_status_404(served):
    _, port, _ = served
    status, headers, body = request(port, "/papers/nope/")
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert b"custom not found" in body


def test_without_a_404_page_a_plain_one_is_sent(served):
    out, port, _ = served
    (out / "404.html").unlink()
    status, _, body = request(port, "/nope")
    assert status == 404 and b"Not found" in body


def test_head_sends_headers_only(served):
    _, port, _ = served
    status, headers, body = request(port, "/papers/alpha/", "HEAD")
    _, _, full = request(port, "/papers/alpha/")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == len(full)


def test_pages_are_served_unchanged_without_watch_and_errors(served):
    out, port, _ = served
    _, _, body = request(port, "/")
    assert body == PAGE  # nothing injected: no watcher, no errors
    assert b"sitegen" not in (out / "index.html").read_bytes()


TRAVERSALS = [
    "/../secret.txt",
    "/papers/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/papers/%2e%2e/%2e%2e/secret.txt",
    "/%252e%252e/secret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "/%5c..%5csecret.txt",
    "/%00/../secret.txt",
    "/index.html%00.txt",
    "/leak.txt",
    "/up/secret.txt",
    "//etc/passwd",
    "/etc/passwd",
    "/%2fetc/passwd",
    "/%ff%fe",
    "../secret.txt",
    "secret.txt",
    "http://127.0.0.1/../secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_outside_the_output_folder_is_readable(served, path):
    _, port, _ = served
    status, _, body = request(port, path)
    assert status == 404
    assert b"do not serve" not in body and b"root:" not in body


def test_traversal_on_a_raw_socket_gets_404(served):
    _, port, _ = served
    answer = raw(port, b"GET /../../../../etc/passwd HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404") and b"root:" not in answer


def test_symlink_inside_the_folder_is_followed(served):
    _, port, _ = served
    status, _, body = request(port, "/robots-link.txt")
    assert status == 200 and body == b"User-agent: *\n"


def test_url_segments_refuses_escapes():
    assert url_segments("/a/./b//c") == ["a", "b", "c"]
    assert url_segments("/a%20b/") == ["a b"]
    assert url_segments("/a/../b") is None
    assert url_segments("/%2e%2e") is None
    assert url_segments("/a%5cb") is None
    assert url_segments("a") is None


def test_resolve_stays_inside(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text("x")
    root = os.path.realpath(tmp_path)
    assert resolve(root, "/a/").rel == "a/index.html"
    assert resolve(root, "/a").redirect == "/a/"
    assert resolve(root, "/a/index.html/").file is None
    assert resolve(root, "/..").file is None


def test_content_type_falls_back_to_octet_stream():
    assert content_type("x.unknown-kind") == "application/octet-stream"


def test_client_disconnects_do_not_hurt_the_server(served):
    _, port, _ = served
    for data in (b"GET /style.css HTTP/1.1\r\nHost: x\r\n", b"GET", b""):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(data)
    # Ask for a page and hang up before reading it.
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.close()
    status, _, _ = request(port, "/")
    assert status == 200


def test_requests_wait_while_the_builder_writes(served):
    out, port, server = served
    answers: list[bytes] = []
    with server.lock.write():
        (out / "index.html").write_bytes(b"<p>half")
        reader = threading.Thread(target=lambda: answers.append(request(port, "/")[2]))
        reader.start()
        reader.join(0.5)
        assert reader.is_alive() and not answers  # held back while the folder is being written
        (out / "index.html").write_bytes(b"<p>whole</p>")
    reader.join(10)
    assert answers == [b"<p>whole</p>"]


def test_port_in_use_is_one_line_with_a_suggestion(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        logs: list[str] = []
        code = serve(tmp_path, port=port, log=logs.append)
    assert code == 2
    assert len(logs) == 1
    assert f"port {port} on 127.0.0.1 is already in use; try --port " in logs[0]
    suggested = int(logs[0].rsplit(" ", 1)[1])
    assert suggested > port


def test_unknown_host_is_one_line(tmp_path):
    logs: list[str] = []
    assert serve(tmp_path, host="no-such-host.invalid", port=0, log=logs.append) == 2
    assert len(logs) == 1 and "cannot listen on host 'no-such-host.invalid'" in logs[0]


def test_cli_port_in_use(run, tmp_path):
    (tmp_path / "content" / "papers").mkdir(parents=True)  # a site folder: an empty one is refused first
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("serve", "--root", tmp_path, "--port", taken.getsockname()[1])
    assert result.code == 2
    assert result.err.count("\n") == 1 and "already in use; try --port" in result.err
