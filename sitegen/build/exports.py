"""Exports of what a reader filters: a BibTeX and a CSL-JSON file of the papers of each tag, each digest and
the reading queue, beside the list's page (tags/<tag>/papers.bib, digests/<date>/papers.json,
reading/papers.bib).

The files are made from tracked views, as the feeds are: the builder stages each with stage_derived, which
makes it again only when something it read changed (a paper of the list, the list itself). Drafts never
appear in them, even in a build with drafts, as in the feeds.
"""

from __future__ import annotations

from typing import Any

from sitegen.build import bibtex, csljson
from sitegen.build.deps import Derived, recording
from sitegen.build.views import SiteView
from sitegen.text import urls


def plan_exports(site: SiteView) -> list[Derived]:
    """The export files of every tag, every digest and the reading queue."""
    lists: list[tuple[str, Any, str]] = [(tag.path, tag, "papers") for tag in site.tags]
    lists += [(digest.path, digest, "papers") for digest in site.digests]
    lists.append((urls.READING, site, "queue_papers"))
    exports = []
    for folder, source, attribute in lists:
        for name, write in ((urls.EXPORT_BIB, _bibtex), (urls.EXPORT_JSON, _csl_json)):

            def make(reads: set[str], source=source, attribute=attribute, write=write) -> bytes:
                papers = [p for p in getattr(recording(source, reads), attribute) if not p.draft]
                return write(papers)

            exports.append(Derived(folder + name, name, make, len(getattr(source, attribute))))
    return exports


def _bibtex(papers: list[Any]) -> bytes:
    return bibtex.bibtex_file([(p.citation, p.bibtex) for p in papers]).encode("utf-8")


def _csl_json(papers: list[Any]) -> bytes:
    return csljson.csl_file([(p.citation, p.tag_names) for p in papers])
