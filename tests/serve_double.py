"""A tiny stand-in for sitegen.build's Builder, used by the serve tests only until the real one exists.

It loads papers with the real content model (so YAML errors carry real positions) and writes one page per
paper, a home page listing them and a 404 page, rewriting only files whose bytes change.
"""

from __future__ import annotations

import html
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sitegen.config import load_config
from sitegen.errors import Report
from sitegen.model import load_site


@dataclass
class Result:
    report: Report
    failed: bool
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return f"built {len(self.written)} files in {self.seconds:.2f} s"


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<link rel='stylesheet' href='/style.css'></head><body>{body}</body></html>"
    )


class TinyBuilder:
    def __init__(self, root: Path, out_dir: Path, base_url: str):
        self.root = root
        self.out = out_dir
        self.config = load_config(root)  # raises SitegenError like the real one
        self.calls: list[set[Path] | None] = []

    def build(self, changed: set[Path] | None = None) -> Result:
        started = time.perf_counter()
        self.calls.append(changed)
        report = Report()
        site = load_site(self.root, self.config, report, drafts=True)
        files = {"404.html": _page("Not found", "<h1>Nothing here</h1>")}
        items = []
        for paper in site.papers:
            body = f"<h1>{html.escape(paper.title)}</h1><p class='abstract'>{html.escape(paper.abstract)}</p>"
            files[f"papers/{paper.slug}/index.html"] = _page(paper.title, body)
            items.append(f"<li><a href='/papers/{paper.slug}/'>{html.escape(paper.title)}</a></li>")
        files["index.html"] = _page("Home", f"<h1>Papers</h1><ul>{''.join(items)}</ul>")
        static = self.root / "static"
        for path in sorted(static.rglob("*")) if static.is_dir() else []:
            if path.is_file():
                files[path.relative_to(static).as_posix()] = path.read_bytes().decode("utf-8")
        result = Result(report, bool(report.errors))
        for rel, text in files.items():
            target = self.out / rel
            data = text.encode("utf-8")
            if target.is_file() and target.read_bytes() == data:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(target.name + ".tmp")
            temp.write_bytes(data)
            os.replace(temp, target)
            result.written.append(rel)
        for path in sorted(self.out.rglob("*")):
            rel = path.relative_to(self.out).as_posix()
            if path.is_file() and rel not in files and not rel.startswith("pagefind/"):
                path.unlink()
                result.removed.append(rel)
        result.seconds = time.perf_counter() - started
        return result
