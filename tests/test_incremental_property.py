"""Incremental builds equal cold builds, as a property over random edits of every kind.

The site has templates of its own, written to read widely: a tags index that loops over every paper, a home
page that shows tag descriptions and every author, a list item that shows related papers and the terms they
share. Its papers name authors, some shared, one under two spellings, one with no ASCII form.
Each example applies a random sequence of edits; after each, the output of a new `sitegen build` run, of
the live builder `serve` keeps, and of a cold build of a copy of the site must be the same bytes (see
test_incremental.Sites).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
from pathlib import Path
from unittest import mock

import pytest
from conftest import paper, write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_incremental import Sites, corpus, tree

from sitegen.build import Builder, BuildOptions, builder
from sitegen.build.builder import Superseded
from sitegen.store import parallel
from sitegen.store.cache import CACHE_DIR

OWN_TEMPLATES = {
    # Every paper of the site, with its curator state: a page that reads all the content.
    "templates/tags.html": (
        "{% extends 'theme/tags.html' %}{% block content %}{{ super() }}<ul class='all'>"
        "{% for p in site.papers %}<li>{{ p.title }} {{ p.status or '' }} {{ p.rating or '' }}"
        " {{ p.tags|map(attribute='name')|join('/') }}</li>{% endfor %}</ul>{% endblock %}"
    ),
    # Tag descriptions on the home page (the built-in theme shows only names and counts).
    "templates/home.html": (
        "{% extends 'theme/home.html' %}{% block content %}{{ super() }}<dl>{% for t in site.tags %}"
        "<dt>{{ t.name }}</dt><dd>{{ t.description }}</dd>{% endfor %}</dl>"
        "<p>{% for a in site.authors %}{{ a.name }}: {{ a.count }}; {% endfor %}</p>{% endblock %}"
    ),
    "templates/partials/paper_item.html": (
        "<li>{{ paper.title }} {{ paper.summary }} · "
        "{{ paper.related|map(attribute='title')|join('; ') }} · "
        "{% for e in paper.why_related %}{{ e.terms|join('/') }} {% endfor %}"
        "{{ paper.authors|map(attribute='name')|join(', ') }}</li>"
        # and the theme's own item: status and rating badges, "also in N digests", the tag filter's slugs
        "{% include 'theme/partials/paper_item.html' %}"
    ),
    # The reading queue (the theme's page, which shows items, and its tag groups) with every paper's marks.
    "templates/reading.html": (
        "{% extends 'theme/reading.html' %}{% block content %}{{ super() }}<ul class='marks'>"
        "{% for s in site.queue %}{% for p in s.papers %}<li>{{ s.label }} {{ p.title }} {{ p.rating or '' }}"
        " {{ p.also_in }}</li>{% endfor %}{% endfor %}</ul>{% endblock %}"
    ),
}

# Papers of the corpus the curator has marked from the start (the edits change and add marks).
MARKED = {
    "p1": "status: reading\nrating: 4",
    "p2": "status: unread",
    "p3": "status: read",
    "p7": "status: read",
}


def marked(files: dict[str, str]) -> dict[str, str]:
    out = dict(files)
    for slug, fields in MARKED.items():
        rel = f"content/papers/{slug}.md"
        out[rel] = out[rel].replace("---\n", f"---\n{fields}\n", 1)
    return out


# Authors of paper i: names shared among papers, one under two spellings, one with no ASCII form.
NAMES = ["Ada Lovelace", "José García", "Jose Garcia", "Grace Hopper", "张伟", "Alan Turing", "Emmy Noether"]


def with_authors(files: dict[str, str]) -> dict[str, str]:
    """The corpus with an `authors:` list in most of its papers."""
    out = dict(files)
    for rel, text in files.items():
        if rel.startswith("content/papers/p") and (i := int(rel.removeprefix("content/papers/p")[:-3])) % 5:
            names = [NAMES[i % len(NAMES)], NAMES[(i * 3 + 1) % len(NAMES)]]
            authors = "authors: [" + ", ".join(f'"{n}"' for n in names) + "]"
            out[rel] = text.replace("\n---\n", f"\n{authors}\n---\n", 1)
    return out


def edit_authors(text: str, step: int) -> str:
    """Add a new author or a known one, change a spelling, or remove the list."""
    if "authors: [" not in text:
        return text.replace("\n---\n", '\nauthors: ["Ada Lovelace"]\n---\n', 1)
    how = step % 4
    if how == 0:
        return text.replace("authors: [", f'authors: ["New Author {step}", ', 1)
    if how == 1:
        swapped = (
            text.replace("José García", "\0")
            .replace("Jose Garcia", "José García")
            .replace("\0", "Jose Garcia")
        )
        return swapped if swapped != text else text.replace("authors: [", 'authors: ["Jose Garcia", ', 1)
    if how == 2:
        return text.replace("authors: [", 'authors: ["Emmy Noether", ', 1)
    return "\n".join(line for line in text.split("\n") if not line.startswith("authors:"))


EDITS = [
    "abstract",
    "note",
    "title",
    "tags",
    "status",
    "rating",
    "digest",
    "draft",
    "delete",
    "new",
    "taxonomy",
    "record",
    "template",
    "setting",
    "authors",
]


def apply(sites: Sites, kind: str, pick: int, step: int) -> set[Path] | None:
    """Make one edit of `kind`; returns the files it changed (None: tell the builder nothing)."""
    root = sites.root
    papers = sorted((root / "content/papers").glob("*.md"))
    path = papers[pick % len(papers)]
    rel = path.relative_to(root).as_posix()
    if kind == "abstract":
        sites.edit(
            rel,
            lambda t: t.replace("---\n", f"---\nStep {step} ", 2).replace(
                f"---\nStep {step} title", "---\ntitle", 1
            ),
        )
    elif kind == "note":
        sites.edit(rel, lambda t: t + f"\nA note of step {step}.\n")
    elif kind == "title":
        sites.edit(rel, lambda t: t.replace('title: "', f'title: "Step {step} ', 1))
    elif kind == "tags":
        new = ["llm", "vision", "rl", "fresh-topic"][step % 4]
        sites.edit(
            rel, lambda t: t.replace("tags: [", f"tags: [{new}, ", 1).replace(f"[{new}, {new}", f"[{new}")
        )
    elif kind == "status":
        status = ["unread", "reading", "read"][step % 3]
        sites.edit(
            rel,
            lambda t: (
                t.replace("\n---\n", f"\nstatus: {status}\n---\n", 1)
                if "status:" not in t
                else re.sub(r"^status: .*$", f"status: {status}", t, count=1, flags=re.M)
            ),
        )
    elif kind == "rating":
        sites.edit(
            rel,
            lambda t: (
                t.replace("\n---\n", f"\nrating: {1 + step % 5}\n---\n", 1) if "rating:" not in t else t
            ),
        )
    elif kind == "digest":
        sites.edit(rel, lambda t: t.replace("digests: [", f"digests: [2026-04-{1 + step % 9:02d}, ", 1))
    elif kind == "draft":
        sites.edit(
            rel,
            lambda t: (
                t.replace("draft: true", "draft: false")
                if "draft: true" in t
                else t.replace("\n---\n", "\ndraft: true\n---\n", 1)
            ),
        )
    elif kind == "delete" and len(papers) > 3:
        path.unlink()
    elif kind == "new":
        path = sites.write(
            f"content/papers/n{step}.md",
            paper(
                f"n{step}",
                f"New Paper {step} On Vision",
                "A fresh vision model.",
                digests="[2026-03-13]",
                tags="[vision]",
            ),
        )
    elif kind == "taxonomy":
        path = sites.edit(
            "content/taxonomy.yaml",
            lambda t: t.replace(
                "description: Papers about LLMs.", f"description: LLM papers, step {step}."
            ).replace("description: LLM papers, step", f"description: LLM papers {step}, step", 1),
        )
    elif kind == "record":
        order = ["p1", "p2", "p3"]
        path = sites.write(
            "content/digests/2026-03-12.yaml",
            "date: 2026-03-12\npapers: [" + ", ".join(order[step % 3 :] + order[: step % 3]) + "]\n",
        )
    elif kind == "authors":
        sites.edit(rel, lambda t: edit_authors(t, step))
    elif kind == "template":
        sites.edit("templates/home.html", lambda t: t.replace("<dl>", f"<dl data-step='{step}'>", 1))
        return None
    elif kind == "setting":
        sites.edit(
            "sitegen.yaml",
            lambda t: (
                t.replace("per_page: 3", "per_page: 4")
                if "per_page: 3" in t
                else t.replace("per_page: 4", "per_page: 3")
            ),
        )
        return None
    return {path}


def give_up(sites: Sites, changed: set[Path], at: int) -> None:
    """A build of the live builder given up at its checkpoint number `at`, as `serve` gives one up when
    another edit comes: nothing of it reaches the output folder (the next build, told the same, makes it)."""
    before = tree(sites.tmp / "live")
    asked = itertools.count()
    try:
        sites.live.build(changed=changed, stop=lambda: next(asked) >= at)
    except Superseded:
        assert tree(sites.tmp / "live") == before
    else:
        raise AssertionError(f"the build went past checkpoint {at}")


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(EDITS), st.integers(0, 100), st.sampled_from([None, 0, 1, 2, 3])),
        min_size=1,
        max_size=5,
    )
)
def test_incremental_builds_equal_cold_builds_after_random_edits(tmp_path_factory, edits):
    """Also when a live build was given up half-way before (`cut`: at which checkpoint, or none). The work
    a large site's build shares among processes is shared here too (the comparison of the last build's keys
    in its own process, related papers in theirs, pages in chunks), as if the site were large."""
    tmp = tmp_path_factory.mktemp("prop")
    with mock.patch.object(parallel, "MIN_ITEMS", 4):
        sites = Sites(tmp, {**with_authors(marked(corpus(14, seed=5))), **OWN_TEMPLATES})
        sites.check()
        for step, (kind, pick, cut) in enumerate(edits):
            changed = apply(sites, kind, pick, step)
            if cut is not None and changed is not None:
                give_up(sites, changed, cut)
            sites.check(changed)


def test_one_edit_renders_only_the_pages_that_show_it(tmp_path):
    """Hugo's rebuild tests in spirit: after an abstract edit, the pages rendered are the paper's own page
    and pages that show its text (lists, feeds), not the whole site; with templates of the site's own."""
    sites = Sites(
        tmp_path, {**corpus(14, seed=5), **{k: v for k, v in OWN_TEMPLATES.items() if "item" not in k}}
    )
    sites.check()
    sites.edit("content/papers/p4.md", lambda t: t.replace("(method M4).", "(method M4, revised)."))
    sites.check({sites.root / "content/papers/p4.md"})
    rendered = sites.last_fresh.rendered
    pages = len(list((tmp_path / "fresh").rglob("*.html")))
    assert 1 <= rendered <= 8 < pages


def test_the_preview_makes_open_pages_first_and_the_build_agrees(tmp_path):
    """`serve` makes the open pages that show an edited paper before its build (Builder.preview); the build
    that follows leaves the site as a cold build makes it."""
    sites = Sites(tmp_path, {**corpus(14, seed=5), **OWN_TEMPLATES})
    sites.check()
    path = sites.edit("content/papers/p4.md", lambda t: t.replace("(method M4).", "(method M4, previewed)."))
    open_files = {"papers/p4/index.html", "papers/p5/index.html", "404.html"}
    written = sites.live.preview({path}, open_files)
    # p4's own page first; p5's page may follow (its related papers come from every abstract); the 404
    # page shows no paper.
    assert written[0] == "papers/p4/index.html" and set(written) <= open_files - {"404.html"}
    assert "previewed" in (tmp_path / "live/papers/p4/index.html").read_text(encoding="utf-8")
    sites.check({path})
    # Not previewed: a page whose slug changed (the build shows it), a page that does not parse.
    path = sites.edit("content/papers/p4.md", lambda t: t.replace("slug: p4", "slug: p4-renamed"))
    assert sites.live.preview({path}, open_files) == []
    sites.check({path})
    path = sites.edit("content/papers/p5.md", lambda t: t.replace("title:", "title: [unclosed"))
    assert sites.live.preview({path}, open_files) == []


def test_the_live_builder_shows_the_items_it_rendered_last_time_and_a_one_shot_build_keeps_none(
    tmp_path, monkeypatch
):
    """The list items of papers an edit did not reach are shown, by the builder `serve` keeps, as its last
    build rendered them (sitegen.build.itemmemo), not rendered again: after an abstract edit, the lists that
    show the paper are made again, and the one item rendered is the edited paper's. A build of the command
    line renders every item its lists show and keeps none: nothing of them goes to the cache folder."""
    root = write_site(tmp_path / "site", {**corpus(14, seed=5), **OWN_TEMPLATES})
    one_shot = Builder(root, BuildOptions(out=tmp_path / "once", search=False))
    assert not one_shot.build().failed
    assert one_shot._items is None
    assert not [p.name for p in (root / CACHE_DIR).iterdir() if p.name.startswith("items")]
    live = Builder(root, BuildOptions(out=tmp_path / "out", search=False))
    live.write_guard = contextlib.nullcontext
    assert not live.build().failed
    rendered: list[str] = []
    make = builder.item_maker

    def counting(env):
        item = make(env)

        def counted(view):
            fragment = item(view)
            original = fragment._make
            fragment._make = lambda: rendered.append(view.slug) or original()
            return fragment

        return counted

    monkeypatch.setattr(builder, "item_maker", counting)
    page = root / "content/papers/p4.md"
    page.write_text(page.read_text(encoding="utf-8").replace("(method M4).", "(method M4, revised)."))
    result = live.build(changed={page})
    assert not result.failed
    lists = [path for path in result.written if not path.startswith("papers/") and path.endswith(".html")]
    assert lists and result.rendered >= 2, result.written
    assert rendered == ["p4"]
    copy = tmp_path / "cold-site"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(CACHE_DIR))
    assert not Builder(copy, BuildOptions(out=tmp_path / "cold", search=False)).build().failed
    assert tree(tmp_path / "out") == tree(tmp_path / "cold")
