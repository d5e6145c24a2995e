"""Accessibility: axe-core (the npm package, see package.json) run in chromium on every kind of page of the
sample site, in light and in dark mode; no serious or critical violation may remain.

axe-core is installed by `npm ci` (.ci/run does it and sets SITEGEN_REQUIRE_AXE, so that a missing install
fails there); a checkout without node_modules skips these tests with the reason, unless SITEGEN_REQUIRE_AXE
is set.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, static_server

from sitegen.build import BuildOptions, build_site

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not any((REPO / "content/papers").glob("*.md")), reason="the sample content is not in this checkout"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
REQUIRE = "SITEGEN_REQUIRE_AXE"
TIMEOUT_MS = 20_000
SERIOUS = ("serious", "critical")
QUERY = "unlearning"  # a search with many results, so that the result list and its filters are checked too

# Page kinds and a page of each (site paths). A kind whose page the build does not make is skipped.
PAGES = {
    "home": "",
    "paper": None,  # chosen in `sample`: a paper with links, a status and a rating
    "tag": "tags/llm/",
    "tags": "tags/",
    "digest": "digests/2026-03-13/",
    "digests": "digests/",
    "search": f"search/?q={QUERY}",
    "404": "404.html",
    "reading": "reading/",
    "authors": "authors/",
}


def axe_script() -> Path:
    if AXE.is_file():
        return AXE
    if os.environ.get(REQUIRE):
        pytest.fail(f"axe-core is not installed ({AXE} is missing) and {REQUIRE} is set: run `npm ci`")
    pytest.skip(f"axe-core is not installed: run `npm ci` at the top of the repository ({REQUIRE} unset)")


@dataclass
class Sample:
    out: Path
    origin: str
    paths: dict[str, str]


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Iterator[Sample]:
    """The sample site, one paper given curator state (status, rating) and notes, built with its search
    index and served over HTTP."""
    axe_script()
    tmp = tmp_path_factory.mktemp("a11y")
    root = tmp / "site"
    shutil.copytree(REPO / "content", root / "content")
    chosen = next(
        path
        for path in sorted((root / "content/papers").glob("*.md"))
        if "links: [http" in path.read_text(encoding="utf-8")
    )
    text = chosen.read_text(encoding="utf-8").replace("\n---\n", "\nstatus: reading\nrating: 4\n---\n", 1)
    chosen.write_text(text + "\n## Notes\n\nA note with a [link](https://example.org/) and `code`.\n")
    out = tmp / "public"
    result = build_site(root, BuildOptions(out=out, base_url="https://example.org/"))
    assert not result.failed, [str(d) for d in result.report.diagnostics]
    slug = next(line for line in text.splitlines() if line.startswith("slug:")).split(":", 1)[1].strip()
    paths = dict(PAGES, paper=f"papers/{slug}/")
    with static_server(out) as origin:
        yield Sample(out, origin, paths)


def made(sample: Sample, path: str) -> bool:
    file = path.split("?", 1)[0]
    return (sample.out / (file + "index.html" if file == "" or file.endswith("/") else file)).is_file()


def describe(violations: list[dict]) -> str:
    """Each violation: its rule, impact and help, where (a few elements) and why, as axe words it."""
    lines = []
    for v in violations:
        nodes = v["nodes"]
        where = "; ".join(" ".join(map(str, node["target"])) for node in nodes[:3])
        more = f" and {len(nodes) - 3} more" if len(nodes) > 3 else ""
        why = " ".join(nodes[0].get("failureSummary", "").split()) if nodes else ""
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {where}{more}: {why}")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_axe_finds_no_serious_violation(browser, sample, kind, scheme):
    path = sample.paths[kind]
    if not made(sample, path):
        pytest.skip(f"the build makes no {kind} page ({path})")
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1366, "height": 900})
    with contextlib.closing(context):
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(sample.origin + "/" + path)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is (scheme == "dark")
        if kind == "search":
            sync_api.expect(page.locator(".pagefind-ui__result").first).to_be_visible()
        page.add_script_tag(path=str(axe_script()))
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    serious = [v for v in results["violations"] if v["impact"] in SERIOUS]
    if serious:
        pytest.fail(f"{kind} page, {scheme} mode:\n{describe(serious)}", pytrace=False)
