"""A command line that guides (issue 21, point 5): `sitegen new`, a help that says what sitegen is, a folder
that is not a site refused with a hint, `check` and `build` agreeing, counts in the right number, a
did-you-mean for misspelt fields, a warning for a deployed build that links to localhost, and a build
summary in the manner of Hugo's."""

from __future__ import annotations

import dataclasses
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, build_table, paper, write_site

from sitegen.config import SiteConfig

DEPLOYED = ("--base-url", "https://example.org/review/")
#: A digest of one paper, in the layout of the trending-papers pages.
ONE_PAPER_DIGEST = (
    "Get trending papers in your email inbox once a day!\n"
    "Get trending papers in your email inbox!\n"
    "SubscribeSparse Training from Scratch: Regrowing Connections by Gradient\n"
    "We study how sparse networks can be trained from scratch without a dense warm-up phase.\n"
)
#: `serve` on a free port: if it served instead of refusing the folder, it would not fail for a port in use.
SERVE_ARGS = {"serve": ("--port", "0")}
#: A count with its noun in the wrong number.
WRONG_NUMBER = re.compile(r"(?<![\d.])1 (papers|errors|warnings|files|digests|anomalies|pages|tags)\b")


def sitegen(
    *args: str | Path, fsize: int | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m sitegen ARGS` in a child process; `fsize`: its file size limit, past which a write fails
    as on a full disk. A child still running after `timeout` seconds fails the test (`serve` of a folder it
    should have refused would serve until stopped)."""

    def limit() -> None:
        assert fsize is not None
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    try:
        return subprocess.run(
            [sys.executable, "-m", "sitegen", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            preexec_fn=limit if fsize is not None else None,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"sitegen {' '.join(map(str, args))} still ran after {timeout} s")


def files_below(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --- --help ----------------------------------------------------------------------------------------------


def test_help_opens_by_describing_the_tool():
    result = sitegen("--help")
    assert result.returncode == 0
    first = result.stdout.splitlines()[0]
    assert first.startswith("sitegen turns daily trending-papers digests into a static literature-review")
    assert "the only place that prints or exits" not in result.stdout  # the module's comment, shown before
    assert "sitegen new DIR" in result.stdout
    for command in ("new", "import", "build", "serve", "check"):
        assert re.search(rf"^\s+{command}\s+\S", result.stdout, re.M), command


@pytest.mark.parametrize(
    ("command", "opening"),
    [("new", "Make a site folder"), ("build", "Render the site"), ("check", "Validate the content")],
)
def test_each_commands_help_opens_with_what_it_does(run, command, opening):
    result = run(command, "--help")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith(opening)
    assert lines.index("") < min(
        i for i, line in enumerate(lines) if line.startswith(f"usage: sitegen {command}")
    )


# --- a folder that is not a site --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["build", "check", "serve"])
def test_an_empty_folder_is_refused_with_a_hint(tmp_path, command):
    folder = tmp_path / "nothing here"
    folder.mkdir()
    result = sitegen(command, "--root", folder, *SERVE_ARGS.get(command, ()), timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{folder}: not a site folder: it has neither content/ nor sitegen.yaml; start a site with "
        f"`sitegen new '{folder}'`, or give the site's folder with --root"
    ]
    assert result.stdout == ""
    assert files_below(folder) == []  # no public/, no cache


@pytest.mark.parametrize("command", ["build", "check", "serve"])
def test_a_folder_of_other_files_is_refused_with_the_general_hint(tmp_path, command):
    (tmp_path / "notes.txt").write_text("not a site")
    result = sitegen(command, "--root", tmp_path, *SERVE_ARGS.get(command, ()), timeout=60)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.endswith("start a site with `sitegen new DIR`, or give the site's folder with --root")
    assert files_below(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("marker", ["content", "sitegen.yaml"])
def test_content_or_settings_make_a_site_folder(tmp_path, run, marker):
    """Either one is enough not to be refused as a whole; what is missing then is told as usual."""
    if marker == "content":
        (tmp_path / "content").mkdir()
    else:
        (tmp_path / "sitegen.yaml").write_text("title: T\n")
    result = run("check", "--root", tmp_path)
    assert result.code == 1
    assert "not a site folder" not in result.err
    assert f"{tmp_path}/content/papers: no such folder" in result.err


# --- sitegen new -------------------------------------------------------------------------------------------


def test_a_new_site_checks_builds_and_takes_an_import(tmp_path):
    root = tmp_path / "review"
    made = sitegen("new", root)
    assert made.returncode == 0, made.stderr
    assert made.stderr == ""
    assert "README.md" in made.stdout
    assert files_below(root) == [
        ".gitignore",
        "README.md",
        "content",
        "content/digests",
        "content/digests/.keep",
        "content/papers",
        "content/papers/.keep",
        "content/taxonomy.yaml",
        "sitegen.yaml",
    ]
    assert (root / "content/taxonomy.yaml").read_bytes() == (
        REPO / "sitegen/content/default_taxonomy.yaml"
    ).read_bytes()
    readme = (root / "README.md").read_text()
    for step in ("sitegen import", "sitegen check", "sitegen serve", "sitegen build", "base_url", "public/"):
        assert step in readme, step

    checked = sitegen("check", "--root", root)
    assert (checked.returncode, checked.stderr) == (0, "")
    assert checked.stdout == "checked 0 papers: 0 errors, 0 warnings\n"
    built = sitegen("build", "--root", root, *DEPLOYED)
    assert (built.returncode, built.stderr) == (0, "")
    assert (root / "public/index.html").is_file()
    assert build_table(built.stdout)["Papers"] == 0

    (tmp_path / "digest.txt").write_text(ONE_PAPER_DIGEST)
    imported = sitegen("import", tmp_path / "digest.txt", "--root", root, "--date", "2026-03-13")
    assert (imported.returncode, imported.stderr) == (0, "")
    assert "default tags written" not in imported.stdout  # `new` wrote them
    built = sitegen("build", "--root", root, *DEPLOYED)
    assert (built.returncode, built.stderr) == (0, "")
    assert build_table(built.stdout)["Papers"] == 1
    page = root / "public/papers/sparse-training-from-scratch-regrowing-connections-by-gradient/index.html"
    assert page.is_file()


def test_the_new_settings_explain_every_setting_and_hold_the_defaults(tmp_path, run):
    assert run("new", tmp_path / "site").code == 0
    text = (tmp_path / "site/sitegen.yaml").read_text()
    lines = text.splitlines()
    for field in dataclasses.fields(SiteConfig):
        [at] = [i for i, line in enumerate(lines) if re.match(rf"(# )?{field.name}: ", line)]
        assert lines[at - 1].startswith("# ") and lines[at - 1] != "#", field.name  # its explanation
        # Commented out or not, the value shown is the default.
        assert yaml.safe_load(lines[at].removeprefix("# "))[field.name] == field.default, field.name
    assert set(yaml.safe_load(text)) == {"title", "description", "base_url", "author"}


def test_new_makes_the_missing_folders_or_uses_an_empty_one(tmp_path, run):
    assert run("new", tmp_path / "a/b/c").code == 0
    assert (tmp_path / "a/b/c/sitegen.yaml").is_file()
    (tmp_path / "empty").mkdir()
    assert run("new", tmp_path / "empty").code == 0
    assert (tmp_path / "empty/content/papers/.keep").is_file()


def test_new_refuses_a_folder_that_is_not_empty(tmp_path, run):
    (tmp_path / "mine.md").write_text("my notes")
    result = run("new", tmp_path)
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{tmp_path}: not empty: a new site goes in a new or empty folder (nothing was written)"
    ]
    assert files_below(tmp_path) == ["mine.md"]
    assert (tmp_path / "mine.md").read_text() == "my notes"


def test_new_refuses_a_file(tmp_path, run):
    (tmp_path / "file").write_text("x")
    result = run("new", tmp_path / "file")
    assert result.code == 2
    assert result.err.splitlines() == [
        f"{tmp_path}/file: not a folder: a new site goes in a new or empty folder"
    ]


def test_a_new_that_cannot_write_leaves_nothing_behind(tmp_path):
    """The default taxonomy does not fit under the file size limit: the write fails as on a full disk."""
    result = sitegen("new", tmp_path / "site", fsize=4096)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"{tmp_path}/site/content/taxonomy.yaml: File too large"]
    assert files_below(tmp_path) == []


# --- check and build agree -------------------------------------------------------------------------------


def flawed_site(root: Path) -> Path:
    write_site(
        root,
        {
            "content/papers/a.md": paper("a", staus="read", digests="[2026-03-13]"),
            "content/papers/b.md": b"\xef\xbb\xbf" + paper("b").encode(),
            "content/digests/2026-03-13.yaml": "date: 2026-03-13\npapers: [a, ghost]\n",
            "static/robots.txt": "User-agent: *\n",
            "static/papers/a/index.html": "mine",
            "static/favicon.ico": "icon",
            "static/about.html": "about",
            "static/feed.xml": "<feed/>",
        },
    )
    (root / "static/broken.png").symlink_to("nowhere")
    return root


def test_check_and_build_report_the_same_diagnostics_warnings_included(tmp_path):
    root = flawed_site(tmp_path)
    checked = sitegen("check", "--root", root)
    built = sitegen("build", "--root", root, "--no-search", *DEPLOYED)
    assert (checked.returncode, built.returncode) == (0, 0)
    assert checked.stderr.splitlines() == [
        f"{root}/content/papers/a.md:4:1: warning: unknown field 'staus'; did you mean 'status'?",
        f"{root}/content/papers/b.md:1:1: warning: UTF-8 byte-order mark ignored",
        f"{root}/content/digests/2026-03-13.yaml:2:13: warning: digest record lists 'ghost', but no paper "
        "has that slug",
        f"{root}/static/broken.png: warning: static file ignored: No such file or directory",
        f"{root}/static/feed.xml: warning: static file ignored: sitegen writes feed.xml",
        f"{root}/static/papers/a/index.html: warning: static file ignored: sitegen writes "
        "papers/a/index.html",
        f"{root}/static/robots.txt: warning: static file ignored: sitegen writes robots.txt",
    ]
    assert built.stderr == checked.stderr
    assert checked.stdout == "checked 2 papers: 0 errors, 7 warnings\n"
    assert built.stdout.endswith(": 0 errors, 7 warnings\n")
    assert (root / "public/favicon.ico").read_text() == "icon"
    assert (root / "public/about.html").read_text() == "about"
    assert (root / "public/robots.txt").read_text() != "User-agent: *\n"


# --- did you mean ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "hint"),
    [
        ("staus", "did you mean 'status'?"),
        ("Tags", "did you mean 'tags'?"),
        ("digest", "did you mean 'digests'?"),
        (
            "colour",
            "known fields: title, slug, digests, tags, links, draft, status, rating, arxiv, authors, "
            "published, doi, upvotes",
        ),
    ],
)
def test_a_misspelt_field_gets_a_did_you_mean(site, run, field, hint):
    root = site({"content/papers/x.md": paper("x", **{field: "read"})})
    checked = run("check", "--root", root)
    assert checked.code == 0
    assert checked.err.splitlines() == [
        f"{root}/content/papers/x.md:4:1: warning: unknown field '{field}'; {hint}"
    ]
    built = run("build", "--root", root, "--no-search", *DEPLOYED)
    assert built.err == checked.err


def test_a_misspelt_setting_gets_a_did_you_mean_or_the_known_settings(site, run):
    root = site({"content/papers/x.md": paper("x"), "sitegen.yaml": "titel: T\nfavourite: 3\n"})
    result = run("check", "--root", root)
    assert result.code == 2
    first, second = result.err.splitlines()
    assert first == f"{root}/sitegen.yaml:1:1: unknown setting 'titel'; did you mean 'title'?"
    assert second.startswith(f"{root}/sitegen.yaml:2:1: unknown setting 'favourite'; known settings: title, ")


# --- singular and plural ------------------------------------------------------------------------------------


def test_counts_of_one_are_singular_everywhere(tmp_path, run):
    root = write_site(
        tmp_path,
        {
            "content/papers/a.md": paper("a", colour="red"),  # 1 warning
            "content/papers/b.md": paper("b", draft="maybe"),  # 1 error
        },
    )
    checked = run("check", "--root", root)
    assert checked.out == "checked 1 paper: 1 error, 1 warning\n"
    failed = run("build", "--root", root, "--no-search", *DEPLOYED)
    assert failed.code == 1
    assert failed.out.startswith("build failed: 1 error, 1 warning; output left as it was")

    (root / "content/papers/b.md").unlink()
    built = run("build", "--root", root, "--no-search", *DEPLOYED)
    assert built.code == 0
    assert build_table(built.out)["Papers"] == 1
    assert re.search(r"^built in (\d+ ms|\d+\.\d\d s): 0 errors, 1 warning$", built.out, re.M), built.out

    (tmp_path / "digest.txt").write_text(ONE_PAPER_DIGEST)
    imported = run("import", tmp_path / "digest.txt", "--root", root, "--date", "2026-03-13")
    assert imported.out.startswith("1 digest read, 1 paper listed: 1 new, 0 updated, 0 unchanged")
    for out in (checked.out, failed.out, built.out, imported.out):
        assert not WRONG_NUMBER.search(out), out


def test_counts_of_two_are_plural(site, run):
    root = site(
        {
            "content/papers/a.md": paper("a", colour="red"),
            "content/papers/b.md": paper("b", colour="red"),
            "content/papers/c.md": paper("c", draft="maybe"),
            "content/papers/d.md": paper("d", draft="maybe"),
        }
    )
    assert run("check", "--root", root).out == "checked 2 papers: 2 errors, 2 warnings\n"


# --- a base_url of localhost -------------------------------------------------------------------------------


def localhost_warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if "warning: base_url is" in line]


@pytest.mark.parametrize("out", [None, "elsewhere"])
def test_a_build_with_the_default_localhost_base_url_warns_once_with_the_fix(site, run, tmp_path, out):
    root = site({"content/papers/x.md": paper("x")})
    where = ["--out", tmp_path / out] if out else []
    for _ in range(2):  # a build with nothing to do tells it as well, once
        result = run("build", "--root", root, "--no-search", *where)
        assert result.code == 0
        assert result.err.splitlines() == [
            f"{root}/sitegen.yaml: warning: base_url is http://localhost:8000/: the feeds, sitemap and "
            "canonical links of this build point at this computer (and BibTeX leaves out the pages' URLs); "
            "set base_url in sitegen.yaml to the site's address, or build with --base-url URL"
        ]
        assert result.out.endswith(": 0 errors, 1 warning\n")


def test_a_localhost_base_url_in_the_settings_is_warned_of_at_its_line(site, run):
    root = site(
        {"content/papers/x.md": paper("x"), "sitegen.yaml": "title: T\nbase_url: http://127.0.0.1:1313/\n"}
    )
    result = run("build", "--root", root, "--no-search")
    [line] = localhost_warnings(result.err)
    assert line.startswith(f"{root}/sitegen.yaml:2:11: warning: base_url is http://127.0.0.1:1313/: ")


@pytest.mark.parametrize(
    ("settings", "args"),
    [
        ("", DEPLOYED),
        ("base_url: https://example.org/\n", ()),
        ("base_url: http://localhost:8000/\n", DEPLOYED),
        ("base_url: http://localhost.example.org/\n", ()),
    ],
)
def test_no_localhost_warning_for_a_real_address(site, run, settings, args):
    root = site({"content/papers/x.md": paper("x"), "sitegen.yaml": f"title: T\n{settings}"})
    result = run("build", "--root", root, "--no-search", *args)
    assert (result.code, result.err) == (0, "")


def test_check_does_not_warn_of_localhost(site, run):
    """The warning is about what a build makes for deployment: `check` makes nothing."""
    root = site({"content/papers/x.md": paper("x")})
    assert run("check", "--root", root).err == ""


def test_a_failed_build_does_not_warn_of_localhost(site, run):
    root = site({"content/papers/x.md": paper("x", draft="maybe")})
    result = run("build", "--root", root, "--no-search")
    assert result.code == 1
    assert localhost_warnings(result.err) == []


# --- the build summary ----------------------------------------------------------------------------------


def test_the_build_ends_with_pages_by_kind_files_written_and_removed_and_time(site, run):
    root = site(
        {
            "content/papers/a.md": paper("a", tags="[pruning]", digests="[2026-03-13]"),
            "content/papers/b.md": paper("b", tags="[pruning, llm]", digests="[2026-03-13, 2026-03-14]"),
        }
    )
    first = run("build", "--root", root, "--no-search", *DEPLOYED)
    assert first.code == 0, first.err
    table = build_table(first.out)
    assert list(table)[:7] == [
        "Papers",
        "Tag pages",
        "Digest pages",
        "Feeds",
        "Other pages",
        "Files written",
        "Files removed",
    ]
    # Feeds: the site's, one per tag and one per reading status.
    assert (table["Papers"], table["Tag pages"], table["Digest pages"], table["Feeds"]) == (2, 2, 2, 6)
    html = len(list((root / "public").rglob("*.html")))
    assert table["Papers"] + table["Tag pages"] + table["Digest pages"] + table["Other pages"] == html
    assert table["Files written"] == len([p for p in (root / "public").rglob("*") if p.is_file()]) - 1
    assert table["Files removed"] == 0
    assert re.fullmatch(r"built in (\d+ ms|\d+\.\d\d s): 0 errors, 0 warnings", first.out.splitlines()[-1])

    (root / "content/papers/a.md").unlink()
    second = run("build", "--root", root, "--no-search", *DEPLOYED)
    table = build_table(second.out)
    assert table["Papers"] == 1
    assert table["Files removed"] >= 1 and not (root / "public/papers/a").exists()
    again = run("build", "--root", root, "--no-search", *DEPLOYED)
    assert (build_table(again.out)["Files written"], build_table(again.out)["Files removed"]) == (0, 0)


def test_the_summary_counts_the_pages_searched(site):
    root = site({"content/papers/a.md": paper("a"), "content/papers/b.md": paper("b")})
    result = sitegen("build", "--root", root, *DEPLOYED)
    assert result.returncode == 0, result.stderr
    assert build_table(result.stdout)["Pages in search"] == 2
