"""What a sharded index costs the reader: requests, bytes and time of a search in headless chromium.

    python benchmarks/search_latency.py SITE [SITE...] [--query transformer] [--tag "Large Language Models"]

Each SITE is an output folder with a `pagefind/` bundle (one index or shards listed in shards.json). Serves it
over local HTTP, loads Pagefind's JS API in Debian's chromium, merges the shards as the search page does, then
runs a first search, a second search and a filtered search, and prints for each the time, the number of
requests and the bytes fetched. Local HTTP hides network latency: on a real connection the request counts
matter more than the times shown here.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"

SCRIPT = """
async ([bundle, query, filter]) => {
  const t0 = performance.now();
  const pagefind = await import(bundle + "pagefind.js");
  const manifest = await (await fetch(bundle + "shards.json")).json();
  await Promise.all(manifest.bundles.map((b) => pagefind.mergeIndex(bundle + b)));
  const t1 = performance.now();
  const first = await pagefind.search(query);
  await Promise.all(first.results.slice(0, 5).map((r) => r.data()));
  const t2 = performance.now();
  const second = await pagefind.search("diffusion");
  await Promise.all(second.results.slice(0, 5).map((r) => r.data()));
  const t3 = performance.now();
  const filtered = await pagefind.search(query, { filters: filter });
  await Promise.all(filtered.results.slice(0, 5).map((r) => r.data()));
  const t4 = performance.now();
  return {
    shards: manifest.bundles.length + 1,
    results: first.results.length,
    filtered: filtered.results.length,
    times: [t1 - t0, t2 - t1, t3 - t2, t4 - t3],
  };
}
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def measure_site(site: Path, query: str, tag: str) -> None:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    fetched: list[int] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page()

            def record(response) -> None:
                if "/pagefind/" in response.url:
                    fetched.append(int(response.headers.get("content-length") or 0))

            page.goto(origin + "/")
            page.on("response", record)
            stats = page.evaluate(SCRIPT, ["/pagefind/", query, {"tag": tag}])
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    times = ", ".join(f"{t:.0f}" for t in stats["times"])
    print(
        f"{site}: {stats['shards']} bundle(s); {stats['results']} results, "
        f"{stats['filtered']} with the filter; "
        f"ms (load+merge, first search, second, filtered): {times}; "
        f"{len(fetched)} requests, {sum(fetched) / 2**20:.1f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sites", type=Path, nargs="+")
    parser.add_argument("--query", default="transformer")
    parser.add_argument("--tag", default="Large Language Models")
    args = parser.parse_args(argv)
    for site in args.sites:
        if not (site / "pagefind" / "pagefind-entry.json").is_file():
            print(f"{site}: no pagefind bundle")
            continue
        if not (site / "pagefind" / "shards.json").is_file():  # a bundle made by pagefind itself
            (site / "pagefind" / "shards.json").write_text(json.dumps({"bundles": []}))
        measure_site(site, args.query, args.tag)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
