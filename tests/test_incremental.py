"""Fast paths give a cold build's output, byte for byte.

Each step edits a small site, then builds it three ways and compares the trees: a fresh Builder (as a new
`sitegen build` run: it only has what .sitegen-cache and the output manifest hold), a Builder kept across the
steps and told which files changed (as `serve`), and a cold build of a copy of the site without any cache
into an empty folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import paper, write_site

from sitegen.build import Builder, BuildOptions
from sitegen.build.manifest import MANIFEST
from sitegen.store.cache import CACHE_DIR

TAXONOMY = """\
tags:
- slug: llm
  name: Large Language Models
  description: Papers about LLMs.
- slug: vision
  name: Vision
- slug: rl
  name: Reinforcement Learning
"""

WORDS = [
    *("model", "training", "language", "vision", "reward", "policy", "sparse", "attention", "token"),
    *("image", "agent", "reasoning", "data", "scaling", "robust", "fast", "memory", "graph", "diffusion"),
]


def corpus(n: int = 24, seed: int = 3) -> dict[str, str]:
    rng = random.Random(seed)
    files = {
        "sitegen.yaml": "title: Incremental Review\nper_page: 3\nbase_url: https://example.org/review/\n",
        "content/taxonomy.yaml": TAXONOMY,
        "content/digests/2026-03-12.yaml": "date: 2026-03-12\nsources: [a.txt]\npapers: [p3, p1, p2]\n",
    }
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 30))]
        body = " ".join(words).capitalize() + f" (method M{i})."
        if i % 5 == 0:
            body += f" Code at https://github.com/o/r{i}."
        if i % 4 == 0:
            body += f"\n\n## Notes\n\nA note on *paper {i}*."
        tags = rng.sample(["llm", "vision", "rl", "misc-topic"], rng.randint(0, 2))
        fields = {"digests": f"[2026-03-{12 + i % 3}]", "tags": "[" + ", ".join(tags) + "]"}
        if i % 6 == 0:
            fields["arxiv"] = f'"2403.{10000 + i}"'
        if i == 7:
            fields["draft"] = "true"
        title = " ".join(rng.choice(WORDS) for _ in range(4)).title() + f" {i}"
        files[f"content/papers/p{i}.md"] = paper(f"p{i}", title, body, **fields)
    return files


def tree(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


class Sites:
    """The site under test, and the three ways of building it."""

    def __init__(self, tmp: Path, files: dict[str, str], drafts: bool = False):
        self.tmp = tmp
        self.root = write_site(tmp / "site", files)
        self.drafts = drafts
        self.live = Builder(self.root, self.options(tmp / "live"))
        self.live.write_guard = (
            contextlib.nullcontext
        )  # (serve's session sets its lock: a builder that stays)
        self.steps = 0

    def options(self, out: Path) -> BuildOptions:
        return BuildOptions(out=out, search=False, drafts=self.drafts)

    def check(self, changed: set[Path] | None = None) -> dict[str, bytes]:
        """Build three ways; assert equal trees and return the tree."""
        self.steps += 1
        fresh = self.last_fresh = Builder(self.root, self.options(self.tmp / "fresh")).build()
        assert not fresh.failed, fresh.report.diagnostics
        live = self.live.build(changed=changed)
        assert not live.failed, live.report.diagnostics
        cold_root = self.tmp / f"cold-site-{self.steps}"
        shutil.copytree(self.root, cold_root, ignore=shutil.ignore_patterns(CACHE_DIR))
        cold = Builder(cold_root, self.options(self.tmp / f"cold-{self.steps}")).build()
        assert not cold.failed, cold.report.diagnostics
        expected = tree(self.tmp / f"cold-{self.steps}")
        got_fresh, got_live = tree(self.tmp / "fresh"), tree(self.tmp / "live")
        assert sorted(got_fresh) == sorted(expected)
        assert [k for k in expected if got_fresh[k] != expected[k]] == []
        assert sorted(got_live) == sorted(expected)
        assert [k for k in expected if got_live[k] != expected[k]] == []
        shutil.rmtree(cold_root)
        shutil.rmtree(self.tmp / f"cold-{self.steps}")
        return expected

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def edit(self, rel: str, change: Callable[[str], str]) -> Path:
        path = self.root / rel
        return self.write(rel, change(path.read_text(encoding="utf-8")))


def age(root: Path, seconds: int = 60) -> None:
    """Make every file look `seconds` old: a file changed just now is never trusted by its identity alone."""
    past = time.time_ns() - seconds * 10**9
    for path in root.rglob("*"):
        os.utime(path, ns=(past, past))


def test_no_change_renders_and_writes_nothing(tmp_path):
    sites = Sites(tmp_path, corpus())
    sites.check()
    builder = Builder(sites.root, sites.options(tmp_path / "fresh"))
    result = builder.build()
    assert result.written == [] and result.removed == []
    assert result.rendered == 0
    # With files old enough to be trusted by their identity, a build with nothing changed does not even load.
    age(sites.root)
    first = Builder(sites.root, sites.options(tmp_path / "fresh")).build()
    again = Builder(sites.root, sites.options(tmp_path / "fresh")).build()
    assert again.rendered == 0 and again.written == [] and not again.failed
    assert again.summary().split(";")[:2] == first.summary().split(";")[:2]


def test_files_changed_just_now_are_vouched_for_by_their_bytes(tmp_path):
    """A build right after an edit notes a hash of the edited file's bytes (its identity alone may not show
    a change made within the same clock tick): the next build finds nothing to do, unless the bytes differ."""
    sites = Sites(tmp_path, corpus(8))
    out = tmp_path / "out"
    age(sites.root)
    path = sites.root / "content/papers/p2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("(method M2)", "(method X2)"), encoding="utf-8")
    first = Builder(sites.root, sites.options(out)).build()
    again = Builder(sites.root, sites.options(out)).build()
    assert again.timings.keys() == {"load"} and again.counts == first.counts

    # The same identity with other bytes (a change within the clock tick of the last one): looked at again.
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    since, vouched = manifest["build"]["racy"]
    manifest["build"]["racy"] = [since, "0" * len(vouched)]
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    looked = Builder(sites.root, sites.options(out)).build()
    assert looked.timings.keys() != {"load"} and looked.rendered == 0 and looked.written == []
    assert Builder(sites.root, sites.options(out)).build().timings.keys() == {"load"}

    # Once no file is recent, identities alone vouch for the files again.
    age(sites.root)
    assert Builder(sites.root, sites.options(out)).build().timings.keys() != {"load"}  # (age changed them)
    assert Builder(sites.root, sites.options(out)).build().timings.keys() == {"load"}


def test_nothing_to_do_still_reports_the_warnings(tmp_path):
    files = corpus(6)
    files["content/papers/p1.md"] = files["content/papers/p1.md"].replace("---\n", "---\nflavour: odd\n", 1)
    sites = Sites(tmp_path, files)
    age(sites.root)
    first = Builder(sites.root, sites.options(tmp_path / "out")).build()
    again = Builder(sites.root, sites.options(tmp_path / "out")).build()
    assert again.rendered == 0 and again.counts == first.counts
    assert [str(d) for d in again.report.diagnostics] == [str(d) for d in first.report.diagnostics]
    assert "unknown field 'flavour'" in str(again.report.diagnostics[0])
    strict = Builder(sites.root, BuildOptions(out=tmp_path / "out", search=False, strict=True)).build()
    assert strict.failed  # another option: built (and refused) again
    (tmp_path / "out" / "index.html").write_text("edited by hand")
    result = Builder(sites.root, sites.options(tmp_path / "out")).build()
    assert result.written == ["index.html"]


def test_a_paper_added_or_removed_makes_again_the_pages_that_show_it_not_the_whole_site(tmp_path):
    """The built-in theme shows nothing of the whole collection on every page (a count of papers in each
    page's footer would make every page again whenever a paper comes or goes, as on every day's import)."""
    sites = Sites(tmp_path, corpus(40))
    before = sites.check()
    pages = len([k for k in before if k.endswith(".html")])
    added = sites.write(
        "content/papers/p99.md", paper("p99", "Added Paper 99", "Hello world.", digests="[2026-03-12]")
    )
    after = sites.check({added})
    assert "papers/p99/index.html" in after
    assert sites.last_fresh.rendered < pages // 3
    added.unlink()
    after = sites.check({added})
    assert "papers/p99/index.html" not in after
    assert sites.last_fresh.rendered < pages // 3


@pytest.mark.parametrize("drafts", [False, True])
def test_edits_of_every_kind_give_a_cold_build_s_output(tmp_path, drafts):
    sites = Sites(tmp_path, corpus(), drafts=drafts)
    before = sites.check()
    root = sites.root

    # The abstract of one paper: its page, the lists that show it, and the related lists it may enter.
    changed = {
        sites.edit("content/papers/p4.md", lambda t: t.replace("(method M4).", "(method M4, revised)."))
    }
    after = sites.check(changed)
    assert after["papers/p4/index.html"] != before["papers/p4/index.html"]
    assert sites.last_fresh.rendered < len([k for k in after if k.endswith(".html")]) // 2

    # A title: every list and related-papers list that shows it.
    changed = {sites.edit("content/papers/p5.md", lambda t: t.replace('title: "', 'title: "Renamed '))}
    sites.check(changed)

    # Tags moved: the paper leaves one tag's pages and joins another's; pagination shifts.
    changed = {sites.edit("content/papers/p6.md", lambda t: t.replace("tags: [", "tags: [vision, rl, "))}
    sites.check(changed)

    # A new digest date, a draft made public, a paper deleted, a paper added.
    changed = {
        sites.edit("content/papers/p8.md", lambda t: t.replace("digests: [", "digests: [2026-03-20, "))
    }
    sites.check(changed)
    changed = {sites.edit("content/papers/p7.md", lambda t: t.replace("draft: true", "draft: false"))}
    sites.check(changed)
    (root / "content/papers/p9.md").unlink()
    sites.check({root / "content/papers/p9.md"})
    changed = {
        sites.write("content/papers/new.md", paper("new", "A New Paper", "Fresh.", digests="[2026-03-14]"))
    }
    sites.check(changed)

    # Notes only; status and rating; links.
    changed = {sites.edit("content/papers/p0.md", lambda t: t + "\nOne more note line.\n")}
    sites.check(changed)
    changed = {
        sites.edit("content/papers/p1.md", lambda t: t.replace("slug: p1\n", "slug: p1\nstatus: read\n"))
    }
    sites.check(changed)

    # The digest's own order, the taxonomy's names, the settings.
    changed = {sites.write("content/digests/2026-03-12.yaml", "date: 2026-03-12\npapers: [p2, p3, p1]\n")}
    sites.check(changed)
    changed = {
        sites.edit(
            "content/taxonomy.yaml",
            lambda t: t.replace("name: Vision", "name: Computer Vision").replace("about LLMs", "on LLMs"),
        )
    }
    sites.check(changed)
    changed = {sites.edit("sitegen.yaml", lambda t: t.replace("per_page: 3", "per_page: 4"))}
    sites.check(None)

    # The site's own templates and static files.
    sites.write("static/style.css", "body { color: teal }\n")
    sites.check(None)
    sites.write(
        "templates/partials/paper_item.html",
        "<li class='mine'>{{ paper.title }} · {{ paper.related|length }} related</li>",
    )
    sites.check(None)
    changed = {sites.edit("content/papers/p10.md", lambda t: t.replace('title: "', 'title: "Retitled '))}
    sites.check(changed)  # shown by the site's list item template, in every list
    sites.write(
        "templates/tag.html",
        "{% extends 'theme/tag.html' %}{% block head %}<meta name='first' "
        "content='{{ papers[0].related[0].title if papers and papers[0].related else '' }}'>{% endblock %}",
    )
    sites.check(None)
    changed = {
        sites.edit("content/papers/p11.md", lambda t: t.replace("(method M11).", "(method M11, new)."))
    }
    sites.check(changed)
    (root / "templates/tag.html").unlink()
    (root / "templates/partials/paper_item.html").unlink()
    sites.check(None)


def test_touched_and_racy_files_are_read_again(tmp_path):
    sites = Sites(tmp_path, corpus(8))
    sites.check()
    path = sites.root / "content/papers/p2.md"
    # Same size, same mtime, new bytes: only the racy-file check (the file changed just now) can see it.
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    swapped = text.replace("(method M2)", "(method X2)")
    assert len(swapped) == len(text)
    path.write_text(swapped, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    out = sites.check({path})
    assert b"method X2" in out["papers/p2/index.html"]
    # A touch alone changes nothing in the output.
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    assert sites.check({path}) == out


def test_output_files_touched_by_hand_are_made_again(tmp_path):
    sites = Sites(tmp_path, corpus(8))
    expected = sites.check()
    fresh = tmp_path / "fresh"
    (fresh / "papers/p1/index.html").write_text("edited by hand")
    (fresh / "tags/llm/index.html").unlink()
    result = Builder(sites.root, sites.options(fresh)).build()
    assert sorted(result.written) == ["papers/p1/index.html", "tags/llm/index.html"]
    assert tree(fresh) == expected


def test_damaged_or_foreign_caches_are_ignored(tmp_path):
    sites = Sites(tmp_path, corpus(8))
    expected = sites.check()
    for file in (sites.root / CACHE_DIR).rglob("*"):
        if file.is_file():
            file.write_bytes(b"garbage" + file.read_bytes()[:50])
    (tmp_path / "fresh" / MANIFEST).write_text('{"files": {"index.html": ["x", 1, 2, "y"]}}')
    result = Builder(sites.root, sites.options(tmp_path / "fresh")).build()
    assert not result.failed
    assert tree(tmp_path / "fresh") == expected
    shutil.rmtree(sites.root / CACHE_DIR)
    result = Builder(sites.root, sites.options(tmp_path / "fresh")).build()
    assert not result.failed and result.written == []


def test_random_edits(tmp_path):
    """Twelve random edits of random kinds, each followed by the three builds."""
    rng = random.Random(7)
    sites = Sites(tmp_path, corpus(20, seed=11))
    sites.check()
    papers = sorted((sites.root / "content/papers").glob("*.md"))
    for step in range(12):
        path = rng.choice(papers)
        text = path.read_text(encoding="utf-8")
        kind = rng.choice(["abstract", "title", "tags", "digests", "notes"])
        if kind == "abstract":
            text = text.replace(").", f") step {step}.", 1)
        elif kind == "title":
            text = text.replace('title: "', f'title: "Step {step} ', 1)
        elif kind == "tags":
            text = text.replace("tags: [", f"tags: [{rng.choice(['llm', 'vision', 'rl', 'new-tag'])}, ", 1)
            text = text.replace("tags: [llm, llm", "tags: [llm")
        elif kind == "digests":
            text = text.replace("digests: [", f"digests: [2026-03-{20 + step}, ", 1)
        else:
            text += f"\nNote of step {step}.\n"
        path.write_text(text, encoding="utf-8")
        sites.check({path})


def test_a_failed_rebuild_leaves_the_folder_as_it_was(tmp_path):
    sites = Sites(tmp_path, corpus(8))
    sites.check()
    out = tmp_path / "fresh"

    def state() -> dict[str, bytes | None]:
        return {
            p.relative_to(out).as_posix(): p.read_bytes() if p.is_file() else None for p in out.rglob("*")
        }

    before = state()
    sites.write(
        "content/papers/zz.md", paper("zz", "A New Paper", "New.", digests="[2026-03-20]", tags="[llm]")
    )
    sites.write(
        "templates/tag.html", "{% extends 'base.html' %}{% block content %}{{ nope.x }}{% endblock %}"
    )
    result = Builder(sites.root, sites.options(out)).build()
    assert result.failed and any("tag.html" in str(d) for d in result.report.errors)
    assert state() == before  # no new page, folder or manifest entry


def test_library_versions_are_what_importlib_metadata_reports():
    import importlib.metadata

    from sitegen.store.cache import LIBRARIES, library_versions

    expected = ""
    for name in LIBRARIES:
        try:
            expected += f"{name}={importlib.metadata.version(name)};"
        except importlib.metadata.PackageNotFoundError:
            expected += f"{name}=?;"
    assert library_versions() == expected


def test_a_feed_reads_the_papers_it_shows_and_follows_their_drafts(tmp_path):
    """A feed shows the first `feed_limit` papers of its list that are not drafts, and reads those alone (and
    the list): a paper further down is not its input. Making a shown paper a draft brings in the next one;
    making it a paper again takes that one out."""
    files = corpus()
    files["sitegen.yaml"] += "feed_limit: 3\n"
    sites = Sites(tmp_path, files)
    sites.check()
    manifest = json.loads((tmp_path / "live" / MANIFEST).read_text(encoding="utf-8"))
    names = manifest["reads"]
    read = [names[n] for n in manifest["files"]["feed.xml"][4]]
    drafts_read = {key for key in read if key.startswith("p:") and key.endswith("#m")}
    shown = re.findall(
        r"<id>[^<]*/papers/(p\d+)/</id>", (tmp_path / "live/feed.xml").read_text(encoding="utf-8")
    )
    assert len(shown) == 3 and {f"p:{slug}#m" for slug in shown} <= drafts_read and len(drafts_read) <= 4
    for _ in range(2):
        sites.edit(
            f"content/papers/{shown[0]}.md",
            lambda t: (
                t.replace("draft: true\n", "")
                if "draft: true" in t
                else t.replace("\n---\n", "\ndraft: true\n---\n", 1)
            ),
        )
        feed = sites.check()["feed.xml"].decode("utf-8")
        assert (f"/papers/{shown[0]}/" in feed) == (
            "draft: true" not in (sites.root / f"content/papers/{shown[0]}.md").read_text()
        )
