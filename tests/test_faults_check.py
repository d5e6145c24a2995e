"""`check` refuses what `build` cannot write (issue 16, items 1 and 5): a slug or tag too long for a file
name, and a missing content/papers folder. Each is one line at the value's position, exit 1, as in `build`."""

from __future__ import annotations

import pytest
from conftest import paper

LONGEST = 238  # NAME_MAX (255) less what the importer adds around a slug: `.<slug>.md.XXXXXXXX.tmp`


def slug_of(length: int) -> str:
    return ("abcdefghi-" * 30)[: length - 1] + "z"


def test_a_slug_too_long_for_a_file_name_is_an_error_at_its_position(site, run):
    root = site({"content/papers/x.md": paper("a" * 300)})
    result = run("check", "--root", root)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{root}/content/papers/x.md:3:7: slug is 300 characters long; at most {LONGEST} fit in a file name"
    ]
    assert "checked 0 papers: 1 error, 0 warnings" in result.out


def test_a_tag_too_long_for_a_file_name_is_an_error_at_its_position(site, run):
    root = site({"content/papers/x.md": paper("x", tags=f"[ok, {'t' * 256}]")})
    result = run("check", "--root", root)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{root}/content/papers/x.md:4:12: tag is 256 characters long; at most {LONGEST} fit in a file name"
    ]


@pytest.mark.parametrize(("length", "code"), [(LONGEST, 0), (LONGEST + 1, 1)])
def test_the_longest_slug_that_fits(site, run, length, code):
    root = site({"content/papers/x.md": paper(slug_of(length))})
    result = run("check", "--root", root)
    assert len(slug_of(length)) == length
    assert result.code == code, result.err
    assert (result.err == "") == (code == 0)


def test_a_site_without_a_papers_folder_is_an_error_with_a_hint(site, run):
    root = site({"content/taxonomy.yaml": "tags: []\n"})
    for command in ("check", "build"):
        result = run(command, "--root", root)
        assert result.code == 1, command
        assert result.err.splitlines() == [
            f"{root}/content/papers: no such folder; import a digest with `sitegen import FILE` or create it"
        ]
    assert not (root / "public").exists()


def test_a_papers_file_instead_of_a_folder_is_an_error(site, run):
    root = site({"content/papers": "a file"})
    result = run("check", "--root", root)
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{root}/content/papers: not a folder: the paper pages go in a folder of that name"
    ]
