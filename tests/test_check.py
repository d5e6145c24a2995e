"""`sitegen check` and the content model: every bad input gets one line with the right file and position."""

from __future__ import annotations

from conftest import paper

GOOD = paper("good-paper", digests="[2026-03-13]", tags="[llm, pruning]", links="[https://github.com/a/b]")


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_valid_site_passes(site, run):
    root = site({"content/papers/good-paper.md": GOOD})
    result = run("check", "--root", root)
    assert result.code == 0, result.err
    assert "checked 1 paper: 0 errors, 0 warnings" in result.out
    assert result.err == ""


def test_front_matter_not_closed(site, run):
    root = site({"content/papers/x.md": "---\ntitle: A\nslug: a\nbody text\n"})
    result = run("check", "--root", root)
    assert result.code == 1
    assert lines(result.err) == [
        f"{root}/content/papers/x.md:1:1: front matter is not closed: add a '---' line after the fields"
    ]


def test_yaml_syntax_error_points_at_file_line(site, run):
    root = site({"content/papers/x.md": '---\ntitle: "A\nslug: [a\n---\nbody\n'})
    result = run("check", "--root", root)
    assert result.code == 1
    [line] = lines(result.err)
    assert line.startswith(f"{root}/content/papers/x.md:")
    assert "YAML syntax error" in line
    assert int(line.split(":")[1]) in (2, 3, 4)


def test_yaml_error_line_is_file_line_not_block_line(site, run):
    root = site({"content/papers/x.md": "---\ntitle: A\nslug: a\ntags: [a, b\n---\n"})
    [line] = lines(run("check", "--root", root).err)
    assert ":5:1: YAML syntax error" in line


def test_tab_in_yaml(site, run):
    root = site({"content/papers/x.md": "---\ntitle: A\n\tslug: a\n---\nbody\n"})
    result = run("check", "--root", root)
    assert result.code == 1
    assert lines(result.err) == [
        f"{root}/content/papers/x.md:3:1: tab character in front matter: YAML indents with spaces"
    ]


def test_title_that_is_a_list(site, run):
    root = site({"content/papers/x.md": "---\ntitle: [a, b]\nslug: x\n---\nbody\n"})
    result = run("check", "--root", root)
    assert result.code == 1
    assert lines(result.err) == [f"{root}/content/papers/x.md:2:8: 'title' must be a string, not a list"]


def test_duplicate_slugs_in_two_files(site, run):
    root = site({"content/papers/a.md": paper("same"), "content/papers/b.md": paper("same", "Other")})
    result = run("check", "--root", root)
    assert result.code == 1
    assert lines(result.err) == [f"{root}/content/papers/b.md:3:7: slug 'same' is already used by a.md"]


def test_impossible_date(site, run):
    root = site({"content/papers/x.md": paper("x", digests="[2026-03-13, 2026-13-40]")})
    result = run("check", "--root", root)
    assert result.code == 1
    assert lines(result.err) == [
        f"{root}/content/papers/x.md:4:23: digest date '2026-13-40' is not a valid date (YYYY-MM-DD)"
    ]


def test_empty_file(site, run):
    root = site({"content/papers/x.md": ""})
    result = run("check", "--root", root)
    assert result.code == 1
    assert lines(result.err)[0].startswith(f"{root}/content/papers/x.md:1:1: empty file")


def test_other_encoding(site, run):
    root = site({"content/papers/x.md": '---\ntitle: "Caf\xe9"\nslug: x\n---\n'.encode("latin-1")})
    result = run("check", "--root", root)
    assert result.code == 1
    assert lines(result.err) == [
        f"{root}/content/papers/x.md:2:12: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


def test_bom_is_a_warning_and_the_page_loads(site, run):
    root = site({"content/papers/x.md": b"\xef\xbb\xbf" + paper("x").encode()})
    result = run("check", "--root", root)
    assert result.code == 0
    assert lines(result.err) == [f"{root}/content/papers/x.md:1:1: warning: UTF-8 byte-order mark ignored"]
    assert "checked 1 paper: 0 errors, 1 warning" in result.out


def test_every_error_of_a_run_is_reported(site, run):
    root = site(
        {
            "content/papers/a.md": "---\ntitle: A\nslug: Bad_Slug\ntags: [ok, Not-OK]\ndraft: maybe\n---\n",
            "content/papers/b.md": "no front matter",
            "content/papers/c.md": GOOD.replace("good-paper", "c"),
        }
    )
    result = run("check", "--root", root)
    assert result.code == 1
    errs = lines(result.err)
    assert len(errs) == 4
    assert errs[0].startswith(f"{root}/content/papers/a.md:3:7: slug 'Bad_Slug'")
    assert errs[1].startswith(f"{root}/content/papers/a.md:4:12: tag 'Not-OK'")
    assert errs[2].startswith(f"{root}/content/papers/a.md:5:8: 'draft' must be true or false")
    assert (
        errs[3] == f"{root}/content/papers/b.md:1:1: no front matter: the file must start with a '---' line"
    )
    assert "checked 1 paper: 4 errors, 0 warnings" in result.out


def test_missing_required_fields(site, run):
    root = site({"content/papers/x.md": "---\ntags: [a]\n---\nbody\n"})
    errs = lines(run("check", "--root", root).err)
    assert errs == [
        f"{root}/content/papers/x.md:3:1: missing required field 'title'",
        f"{root}/content/papers/x.md:3:1: missing required field 'slug'",
    ]


def test_unknown_field_is_a_warning(site, run):
    root = site({"content/papers/x.md": paper("x", colour="red")})
    result = run("check", "--root", root)
    assert result.code == 0
    assert lines(result.err) == [
        f"{root}/content/papers/x.md:4:1: warning: unknown field 'colour'; known fields: "
        "title, slug, digests, tags, links, draft, status, rating, arxiv, authors, published, doi, upvotes"
    ]


def test_curator_fields_are_validated(site, run):
    root = site({"content/papers/x.md": paper("x", status="done", rating="6", arxiv="abc")})
    errs = lines(run("check", "--root", root).err)
    assert [e.split(": ", 1)[0].rsplit(":", 2)[1:] for e in errs] == [["4", "9"], ["5", "9"], ["6", "8"]]
    assert "'status' must be one of unread, reading, read" in errs[0]
    assert "'rating' must be a whole number from 1 to 5" in errs[1]
    assert "'arxiv' must be an arXiv id" in errs[2]


def test_duplicate_key(site, run):
    root = site({"content/papers/x.md": "---\ntitle: A\nslug: a\ntitle: B\n---\n"})
    assert lines(run("check", "--root", root).err) == [
        f"{root}/content/papers/x.md:4:1: duplicate key 'title' in front matter"
    ]


def test_front_matter_not_a_mapping(site, run):
    root = site({"content/papers/x.md": "---\n- a\n- b\n---\n"})
    assert lines(run("check", "--root", root).err) == [
        f"{root}/content/papers/x.md:2:1: front matter must be a mapping of 'key: value' lines"
    ]


def test_missing_root_is_a_usage_error(tmp_path, run):
    result = run("check", "--root", tmp_path / "nope")
    assert result.code == 2
    assert "site folder does not exist" in result.err


def test_unquoted_arxiv_id_is_refused_not_mangled(site, run):
    root = site({"content/papers/x.md": paper("x", arxiv="2403.01230")})
    errs = lines(run("check", "--root", root).err)
    assert errs == [
        f"{root}/content/papers/x.md:4:8: write the arXiv id in quotes (YAML read it as the number 2403.0123)"
    ]


def test_quoted_arxiv_id_is_accepted(site, run):
    root = site({"content/papers/x.md": paper("x", arxiv='"2403.01230"')})
    assert run("check", "--root", root).code == 0
