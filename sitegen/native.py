"""The built-in theme's paper page and list item, written in Python.

`paper.html` and `partials/paper_item.html` are rendered once per paper: ten thousand times each in a cold
build of a large site, where Jinja's cost per printed value (context lookups, escaping through Python calls,
macro calls, loop objects) made them the largest share of the build. These functions produce the same bytes
as the templates (tests render both, over the sample site and generated papers, and compare them) at a
fraction of the cost.

They stand in for the templates only while the site uses the built-in ones: a site that overrides either
template, or one it extends or imports (base.html, partials/macros.html), gets Jinja as always (see
`Builder` in sitegen.build). The templates stay the reference; a change to one of them must be made here
too, which the tests enforce.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import escape

from sitegen.pages import human_date
from sitegen.search import filter_value
from sitegen.urls import FEED, digest_path

_CODE_SVG = (
    '<svg viewBox="0 0 24 24" width="13" height="13" aria-hidden="true" focusable="false">'
    '<path d="m8 7-5 5 5 5M16 7l5 5-5 5" fill="none" stroke="currentColor" stroke-width="2.2" '
    'stroke-linecap="round" stroke-linejoin="round"/></svg>'
)


def _e(value: Any) -> str:
    """What `{{ value }}` prints with autoescaping on (a plain string without special characters, most of
    them, is returned as it is without a call into markupsafe)."""
    if (
        type(value) is str
        and "&" not in value
        and "<" not in value
        and ">" not in value
        and '"' not in value
        and "'" not in value
    ):
        return value
    return str(escape(value))


class NativeTemplate:
    """A template-like object (`render(context)` or `render(**context)`) backed by a function of the
    context and the environment's globals."""

    def __init__(self, fn: Callable[[Mapping[str, Any], Mapping[str, Any]], str], globals_: Any):
        self._fn = fn
        self._globals = globals_

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self._fn(dict(*args, **kwargs), self._globals)


def paper_item(context: Mapping[str, Any], g: Mapping[str, Any]) -> str:
    """partials/paper_item.html"""
    paper = context["paper"]
    url = g["url"]
    out = [
        '<li class="paper-item">\n  <h2 class="paper-item-title"><a href="',
        _e(url(paper.path)),
        '">',
        _e(paper.title),
        '</a></h2>\n  <div class="paper-item-meta">\n',
    ]
    if paper.draft:
        out.append('<span class="badge badge-draft">Draft</span>')
    latest = paper.latest
    if latest:
        href = _e(url(digest_path(latest)))
        out.append(
            f'<a class="meta-date" href="{href}"><time datetime="{latest.isoformat()}">'
            f"{human_date(latest)}</time></a>"
        )
    if paper.code_links:
        out.append(f'<span class="badge badge-code" title="Has a code repository">{_CODE_SVG}Code</span>')
    if paper.tags:
        out.append('    <ul class="chips">\n')
        for tag in paper.tags:
            out.append(f'      <li><a class="chip" href="{_e(url(tag.path))}">{_e(tag.name)}</a></li>\n')
        out.append("    </ul>\n")
    out.append("  </div>\n")
    summary = paper.summary
    if summary:
        out.append(f'  <p class="paper-item-summary">{_e(summary)}</p>\n')
    out.append("</li>")
    return "".join(out)


def _base(context: Mapping[str, Any], g: Mapping[str, Any], head: str, content: str) -> str:
    """base.html around a page's `head` and `content` blocks (the parts a paper page uses)."""
    page, config = context["page"], g["config"]
    url, abs_url = g["url"], g["abs_url"]
    site_title = _e(config.title)
    description = _e(page.description)
    title = site_title if page.kind == "home" else f"{_e(page.title)} · {site_title}"
    out = [
        f'<!doctype html>\n<html lang="{_e(config.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        f'<meta name="description" content="{description}">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="theme-color" content="#fbfaf7" media="(prefers-color-scheme: light)">\n'
        '<meta name="theme-color" content="#15171c" media="(prefers-color-scheme: dark)">\n'
        f'<meta name="generator" content="{_e(g["generator"])}">\n'
    ]
    if page.noindex:
        out.append('<meta name="robots" content="noindex">\n')
    else:
        out.append(f'<link rel="canonical" href="{_e(abs_url(page.path))}">\n')
    out.append(
        f'<meta property="og:site_name" content="{site_title}">\n'
        f'<meta property="og:type" content="{_e(page.og_type)}">\n'
        f'<meta property="og:title" content="{_e(page.title)}">\n'
        f'<meta property="og:description" content="{description}">\n'
        f'<meta property="og:url" content="{_e(abs_url(page.path))}">\n'
    )
    if page.prev:
        out.append(f'<link rel="prev" href="{_e(url(page.prev))}">\n')
    if page.next:
        out.append(f'<link rel="next" href="{_e(url(page.next))}">\n')
    out.append(_e(g["head_assets"]))
    out.append("\n")
    if page.feed and page.feed != FEED:
        out.append(
            f'<link rel="alternate" type="application/atom+xml" title="{_e(page.feed_title)}" '
            f'href="{_e(url(page.feed))}">\n'
        )
    out.append(head)
    out.append(
        f'</head>\n<body class="page-{_e(page.kind)}">\n'
        '<a class="skip-link" href="#main">Skip to content</a>\n'
    )
    out.append(_e(g["site_header"](page)))
    out.append('\n<main id="main" tabindex="-1">\n')
    out.append(content)
    out.append("</main>\n")
    out.append(_e(g["site_footer"]))
    out.append("\n</body>\n</html>")
    return "".join(out)


def _date_link(day: Any, url: Callable[[str], str], attrs: str = "") -> str:
    href = _e(url(digest_path(day)))
    return f'<a href="{href}"><time datetime="{day.isoformat()}"{attrs}>{human_date(day)}</time></a>'


def paper_page(context: Mapping[str, Any], g: Mapping[str, Any]) -> str:
    """paper.html"""
    paper = context["paper"]
    url = g["url"]
    title = _e(paper.title)
    first = paper.first

    head = [f'<meta name="citation_title" content="{title}">\n']
    if first:
        head.append(f'<meta name="citation_online_date" content="{_e(first.strftime("%Y/%m/%d"))}">\n')
    if paper.arxiv:
        arxiv = _e(paper.arxiv)
        head.append(
            f'<meta name="citation_arxiv_id" content="{arxiv}">\n'
            f'<meta name="citation_pdf_url" content="https://arxiv.org/pdf/{arxiv}">\n'
        )

    out = [
        '<div class="wrap paper-layout">\n  <article class="paper" data-pagefind-body>\n'
        '    <header class="paper-header">\n      <p class="eyebrow">\n'
    ]
    if paper.draft:
        out.append('<span class="badge badge-draft" data-pagefind-ignore>Draft</span>')
    out.append("        <span data-pagefind-ignore>Paper</span>\n")
    if first:
        out.append(f"<span data-pagefind-ignore>· first seen {_date_link(first, url)}</span>")
    out.append(f'      </p>\n      <h1 data-pagefind-meta="title">{title}</h1>\n')
    latest = paper.latest
    if latest:
        iso = latest.isoformat()
        out.append(
            f'      <span hidden data-pagefind-meta="date:{iso}" data-pagefind-sort="date:{iso}"></span>\n'
        )
    out.append('      <dl class="facts" data-pagefind-ignore>\n')
    digests = paper.digests
    if digests:
        out.append(
            '        <div class="fact">\n'
            f"          <dt>{'Digest' if len(digests) == 1 else 'Digests'}</dt>\n"
            '          <dd>\n            <ul class="inline-list">\n'
        )
        for day in digests:
            link = _date_link(day, url, ' data-pagefind-filter="digest[datetime]"')
            out.append(f"              <li>{link}</li>\n")
        out.append("            </ul>\n          </dd>\n        </div>\n")
    tags = paper.tags
    if tags:
        out.append(
            '        <div class="fact">\n'
            f"          <dt>{'Tag' if len(tags) == 1 else 'Tags'}</dt>\n"
            '          <dd><ul class="chips">\n'
        )
        for tag in tags:
            out.append(
                f'<li><a class="chip" href="{_e(url(tag.path))}" '
                f'data-pagefind-filter="tag:{_e(filter_value(tag.name))}">'
                f"{_e(tag.name)}</a></li>\n"
            )
        out.append("</ul>\n</dd>\n        </div>\n")
    status = paper.status
    if status:
        status = _e(status)
        out.append(
            '        <div class="fact">\n          <dt>Status</dt>\n'
            f'          <dd><span class="status status-{status}" data-pagefind-filter="status">{status}'
            "</span></dd>\n        </div>\n"
        )
    rating = paper.rating
    if rating:
        out.append(
            '        <div class="fact">\n          <dt>Rating</dt>\n'
            f'          <dd><span class="rating" data-pagefind-filter="rating:{_e(rating)}">'
            f'<span aria-hidden="true">{_e("★" * rating)}<span class="rating-off">'
            f'{_e("★" * (5 - rating))}</span></span><span class="visually-hidden">{_e(rating)} out of 5'
            "</span></span></dd>\n        </div>\n"
        )
    out.append(
        "      </dl>\n    </header>\n\n"
        '    <section class="paper-section" aria-labelledby="abstract-heading">\n'
        '      <h2 id="abstract-heading" data-pagefind-ignore>Abstract</h2>\n'
        '      <div class="prose abstract">\n'
    )
    abstract = paper.abstract_html
    out.append(_e(abstract) if abstract else '<p class="empty">No abstract.</p>')
    out.append("      </div>\n    </section>\n\n")
    notes = paper.notes_html
    if notes:
        out.append(
            '    <section class="paper-section notes" aria-labelledby="notes-heading">\n'
            '      <h2 id="notes-heading">Notes</h2>\n'
            f'      <div class="prose">{_e(notes)}</div>\n    </section>\n'
        )
    out.append("  </article>\n\n")
    out.append('  <aside class="paper-aside" aria-label="Links and citation">\n')
    arxiv_links, links = context["arxiv_links"], paper.links
    if links or arxiv_links:
        out.append(
            '    <section class="aside-section" aria-labelledby="links-heading">\n'
            '      <h2 id="links-heading">Links</h2>\n      <ul class="link-list">\n'
        )
        for label, href in arxiv_links:
            out.append(f'        <li class="link link-paper"><a href="{_e(href)}">{_e(label)}</a></li>\n')
        for link in links:
            is_code = link.is_code
            kind_attr = ' data-kind="code"' if is_code else ""
            out.append(
                f'        <li class="link link-{_e(link.kind)}"{kind_attr}>\n'
                f'          <a href="{_e(link.url)}">{_e(link.label)}</a>\n'
            )
            if link.kind != "link":
                out.append(
                    f'<span class="badge{" badge-code" if is_code else ""}">'
                    f"{_CODE_SVG if is_code else ''}{_e(link.badge)}</span>"
                )
            out.append("        </li>\n")
        out.append("      </ul>\n    </section>\n")
    out.append(
        "\n"
        '    <section class="aside-section" aria-labelledby="find-heading">\n'
        '      <h2 id="find-heading">Find this paper</h2>\n      <ul class="link-list">\n'
    )
    for label, href in context["find_links"]:
        out.append(f'        <li class="link"><a href="{_e(href)}">Search {_e(label)} by title</a></li>\n')
    out.append("      </ul>\n    </section>\n\n")
    bibtex = context["bibtex"]
    if bibtex:
        out.append(
            '    <section class="aside-section cite" aria-labelledby="cite-heading">\n'
            '      <div class="cite-head">\n        <h2 id="cite-heading">Cite</h2>\n'
            '        <button type="button" class="copy-button" data-copy-target="bibtex" hidden>'
            "Copy BibTeX</button>\n      </div>\n"
            f'      <pre class="bibtex" id="bibtex" tabindex="0"><code>{_e(bibtex)}</code></pre>\n'
            "    </section>\n"
        )
    out.append(
        "  </aside>\n\n"
        '  <section id="related" class="related" aria-labelledby="related-heading">\n'
        '    <h2 id="related-heading">Related papers</h2>\n'
    )
    related = paper.related
    if related:
        out.append('    <ul class="related-list">\n')
        for other in related:
            out.append(f'      <li>\n        <a href="{_e(url(other.path))}">{_e(other.title)}</a>\n')
            out.append('        <span class="related-meta">')
            day = other.latest
            if day:
                out.append(f'<time datetime="{day.isoformat()}">{human_date(day)}</time>')
            if other.tag_names:
                out.append(f" · {_e(other.tag_names)}")
            out.append("</span>\n      </li>\n")
        out.append("    </ul>\n")
    else:
        out.append('    <p class="empty">No related papers found yet.</p>\n')
    out.append("  </section>\n</div>\n")
    return _base(context, g, "".join(head), "".join(out))


#: The templates this module can stand in for.
FUNCTIONS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], str]] = {
    "paper.html": paper_page,
    "partials/paper_item.html": paper_item,
}
