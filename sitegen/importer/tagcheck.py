"""`sitegen check`: tags that pages use but the taxonomy does not list.

A tag missing from content/taxonomy.yaml still works (it gets a page named after its slug), so a misspelt
one (`difusion`) would silently make a new tag page beside the real one. Each is a warning at its place in the
page, with the closest tag the taxonomy lists. A site without a taxonomy file uses free-form tags: no
warnings then.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from sitegen.content.frontmatter import FrontMatterError, read
from sitegen.content.model import Site
from sitegen.errors import Report


def check_tags(site: Site, report: Report) -> None:
    known = sorted(site.tags)
    if not known:
        return
    for paper in site.papers:
        unknown = [tag for tag in paper.tags if tag not in site.tags]
        if not unknown:
            continue
        try:
            doc, _ = read(Path(paper.source))
        except (OSError, FrontMatterError):
            continue  # the loader reported it
        listed = doc.fields.get("tags")
        items = [str(t) for t in listed] if isinstance(listed, list) else []
        for tag in unknown:
            line, col = doc.position("tags", items.index(tag) if tag in items else None)
            close = difflib.get_close_matches(tag, known, n=1, cutoff=0.7)
            hint = (
                f"; did you mean '{close[0]}'?"
                if close
                else "; add it to the taxonomy to name and describe it"
            )
            report.warning(paper.source, f"tag '{tag}' is not in the taxonomy{hint}", line, col)
