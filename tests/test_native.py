"""sitegen.native stands in for the built-in paper.html and partials/paper_item.html: its pages must be the
templates' pages byte for byte, and it must step aside whenever the site overrides a template they use.

The reference is a site that overrides both templates with ones that only extend or include the theme's
own: sitegen then renders them with Jinja, and the output must not differ in a single byte."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import REPO, paper, write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sitegen.build import BuildOptions, build_site
from sitegen.frontmatter import dump

# Templates of the site's own that render exactly what the theme's do, through Jinja.
JINJA_REFERENCE = {
    "templates/paper.html": '{% extends "theme/paper.html" %}',
    "templates/partials/paper_item.html": '{% include "theme/partials/paper_item.html" %}',
}


def build_both(root: Path, tmp: Path, drafts: bool = False) -> tuple[Path, Path]:
    """Build `root` as it is (the native path) and, from a copy with JINJA_REFERENCE, with Jinja."""
    reference = tmp / "reference"
    shutil.copytree(root, reference, ignore=shutil.ignore_patterns(".sitegen-cache", "public"))
    write_site(reference, dict(JINJA_REFERENCE))
    outs = []
    for site, name in ((root, "native"), (reference, "jinja")):
        out = tmp / f"out-{name}"
        result = build_site(site, BuildOptions(out=out, search=False, drafts=drafts))
        assert not result.failed, [str(d) for d in result.report.diagnostics]
        outs.append(out)
    return outs[0], outs[1]


def assert_same_pages(native: Path, jinja: Path) -> int:
    """Every HTML file of the two outputs is byte-identical; returns how many paper pages were compared."""
    names = sorted(p.relative_to(native).as_posix() for p in native.rglob("*.html"))
    assert names == sorted(p.relative_to(jinja).as_posix() for p in jinja.rglob("*.html"))
    for name in names:
        a, b = (native / name).read_text(encoding="utf-8"), (jinja / name).read_text(encoding="utf-8")
        if a != b:
            at = next(i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)
            around = slice(max(at - 60, 0), at + 60)
            pytest.fail(f"{name} differs at {at}: native {a[around]!r}, jinja {b[around]!r}")
    return sum(1 for name in names if name.startswith("papers/"))


def test_sample_site_pages_equal_the_templates(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    shutil.copytree(REPO / "content", root / "content")
    papers = assert_same_pages(*build_both(root, tmp_path))
    assert papers > 100


EDGE_CASES = {
    "sitegen.yaml": "title: Edge <&> \"Cases\" 'here'\nbase_url: https://example.org/sub/\nper_page: 2\n",
    "content/taxonomy.yaml": "tags:\n- slug: a-b\n  name: A & <B>\n  description: \"Tag 'quoted'\"\n",
    "content/papers/full.md": paper(
        "full",
        "Full <b>paper</b> & \\\"quotes\\\" 'single'",
        "An abstract with *emphasis*, `code` and a link https://github.com/o/r.\n\n"
        "## Notes\n\nA note with <script>x</script>.",
        digests="[2026-01-02, 2026-01-05, 2026-02-01]",
        tags="[a-b, second-tag, llm]",
        links="[https://github.com/o/r, https://huggingface.co/datasets/o/d, "
        "https://huggingface.co/spaces/o/s, https://arxiv.org/abs/2401.00001, https://o.github.io/project/, "
        "https://example.com/x?a=1&b=2]",
        arxiv='"2401.00001v2"',
        status="reading",
        rating="5",
    ),
    "content/papers/bare.md": paper("bare", "Bare", ""),
    "content/papers/draft.md": paper(
        "draft", "A draft paper", "Draft abstract about pruning.", draft="true", rating="1", status="unread"
    ),
    "content/papers/one.md": paper(
        "one",
        "One digest, one tag",
        "Pruning abstract about sparse pruning.",
        digests="[2026-01-05]",
        tags="[llm]",
        links="[https://example.com/only]",
    ),
    "content/papers/two.md": paper(
        "two", "Sparse pruning again", "Pruning abstract about sparse pruning methods.", tags="[llm]"
    ),
}


@pytest.mark.parametrize("drafts", [False, True])
def test_every_branch_of_the_templates_renders_the_same(tmp_path, drafts):
    root = write_site(tmp_path / "site", dict(EDGE_CASES))
    native, jinja = build_both(root, tmp_path, drafts=drafts)
    assert assert_same_pages(native, jinja) == (5 if drafts else 4)
    full = (native / "papers/full/index.html").read_text(encoding="utf-8")
    assert "Full &lt;b&gt;paper&lt;/b&gt; &amp; &#34;quotes&#34; &#39;single&#39;" in full
    assert 'data-kind="code"' in full and "Related papers" in full


_TEXT = st.text(alphabet=st.sampled_from("ab <&>\"'é★·\\*_`[]()#:/.-0123456789"), min_size=1, max_size=40)
_WORDS = st.lists(st.sampled_from(["sparse", "pruning", "llm", "agents", "vision", "graph"]), max_size=12)
_LINKS = st.lists(
    st.sampled_from(
        [
            "https://github.com/a/b",
            "https://gitlab.com/a/b",
            "https://huggingface.co/datasets/a/b",
            "https://huggingface.co/spaces/a/b",
            "https://arxiv.org/abs/2401.01234",
            "https://a.github.io/p/",
            "https://example.com/?q=1&r='x'",
        ]
    ),
    max_size=4,
    unique=True,
)


@st.composite
def generated_paper(draw, number: int) -> tuple[str, str]:
    slug = f"p{number}"
    fields: dict[str, object] = {"title": draw(_TEXT).strip() or "t", "slug": slug}
    start = date(2026, 1, 1)
    days = draw(st.lists(st.integers(0, 40), max_size=3, unique=True))
    if days:
        fields["digests"] = sorted(start + timedelta(days=d) for d in days)
    tags = draw(st.lists(st.sampled_from(["llm", "a-b", "vision-x"]), max_size=3, unique=True))
    if tags:
        fields["tags"] = tags
    links = draw(_LINKS)
    if links:
        fields["links"] = links
    if draw(st.booleans()):
        fields["draft"] = True
    status = draw(st.sampled_from([None, "unread", "reading", "read"]))
    if status:
        fields["status"] = status
    rating = draw(st.sampled_from([None, 1, 3, 5]))
    if rating:
        fields["rating"] = rating
    if draw(st.booleans()):
        fields["arxiv"] = draw(st.sampled_from(["2401.01234", "2401.01234v3"]))
    body = " ".join(draw(_WORDS)) + draw(st.sampled_from(["", " & <x>", " *em*", " see https://x.org/a."]))
    if draw(st.booleans()):
        body += "\n\n## Notes\n\n" + draw(_TEXT)
    return f"content/papers/{slug}.md", dump(fields, body)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.integers(), min_size=1, max_size=6).flatmap(
        lambda ns: st.tuples(*[generated_paper(i) for i in range(len(ns))])
    )
)
def test_generated_papers_render_the_same(tmp_path_factory, files):
    tmp = tmp_path_factory.mktemp("generated")
    site = {"sitegen.yaml": "title: Generated\n", **dict(files)}
    root = write_site(tmp / "site", site)
    assert_same_pages(*build_both(root, tmp, drafts=True))


MARK = '<meta name="x-own-template" content="1">'
DATE_LINK = "{% macro date_link(day) -%}\n"
MACROS = (REPO / "templates/partials/macros.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "template", "page"),
    [
        (
            "templates/base.html",
            '{% extends "theme/base.html" %}{% block scripts %}' + MARK + "{% endblock %}",
            "papers/one/index.html",
        ),
        (
            "templates/partials/macros.html",
            MACROS.replace(DATE_LINK, DATE_LINK + MARK),
            "papers/one/index.html",
        ),
        (
            "templates/paper.html",
            '{% extends "theme/paper.html" %}{% block head %}' + MARK + "{% endblock %}",
            "papers/one/index.html",
        ),
        ("templates/partials/paper_item.html", "<li>" + MARK + "</li>", "tags/llm/index.html"),
    ],
)
def test_a_site_template_in_the_way_turns_the_native_path_off(tmp_path, name, template, page):
    """The site's own base.html, macros, paper page or list item show up on the pages they make."""
    root = write_site(tmp_path / "site", {**EDGE_CASES, name: template})
    out = tmp_path / "out"
    result = build_site(root, BuildOptions(out=out, search=False))
    assert not result.failed, [str(d) for d in result.report.diagnostics]
    assert MARK in (out / page).read_text(encoding="utf-8")
