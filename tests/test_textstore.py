"""Papers' rendered Markdown kept between builds (sitegen.build.textstore): a build after an edit renders the
Markdown of the edited paper only, even for the lists that show other papers, and never shows texts rendered
with other settings."""

from __future__ import annotations

from conftest import write_site
from test_incremental import corpus, tree
from test_prior import build, cold_tree

from sitegen.build import views


def count_renders(monkeypatch) -> list[str]:
    rendered: list[str] = []
    render_texts = views.render_texts

    def counting(paper, markdown):
        rendered.append(paper.slug)
        return render_texts(paper, markdown)

    monkeypatch.setattr(views, "render_texts", counting)
    return rendered


def test_a_build_after_an_edit_renders_the_markdown_of_the_edited_paper_only(tmp_path, monkeypatch):
    root = write_site(tmp_path / "site", corpus())
    assert not build(root, tmp_path / "out").failed
    rendered = count_renders(monkeypatch)
    path = root / "content/papers/p5.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more sentence, with $x^2$.\n", encoding="utf-8")
    result = build(root, tmp_path / "out")
    assert not result.failed
    assert result.rendered >= 3  # its page, and the lists that show it with other papers
    assert rendered == ["p5"]
    assert tree(tmp_path / "out") == cold_tree(tmp_path, root, "edit")


def test_texts_rendered_for_another_address_are_not_shown(tmp_path, monkeypatch):
    """Links in Markdown are rendered against the site's address: a new base path renders them again."""
    files = corpus()
    files["content/papers/p3.md"] = files["content/papers/p3.md"] + "\nSee [the other paper](/papers/p4/).\n"
    root = write_site(tmp_path / "site", files)
    assert not build(root, tmp_path / "out").failed
    rendered = count_renders(monkeypatch)
    settings = root / "sitegen.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("example.org/review/", "example.org/elsewhere/"),
        encoding="utf-8",
    )
    assert not build(root, tmp_path / "out").failed
    assert "p3" in rendered
    page = (tmp_path / "out/papers/p3/index.html").read_text(encoding="utf-8")
    assert "/elsewhere/papers/p4/" in page
    assert tree(tmp_path / "out") == cold_tree(tmp_path, root, "moved")


def test_an_edit_of_the_front_matter_alone_renders_no_markdown(tmp_path, monkeypatch):
    """The texts are kept by the body they are made of: a new title, tag or status leaves them as they are
    (and the build need not import the Markdown parser)."""
    root = write_site(tmp_path / "site", corpus())
    assert not build(root, tmp_path / "out").failed
    rendered = count_renders(monkeypatch)
    path = root / "content/papers/p5.md"
    text = path.read_text(encoding="utf-8")
    assert "\ntitle: " in text
    path.write_text(text.replace("\ntitle: ", "\ntitle: Retitled, ", 1), encoding="utf-8")
    result = build(root, tmp_path / "out")
    assert not result.failed
    assert result.rendered >= 3  # its page, and the lists that show its title
    assert rendered == []
    assert "Retitled, " in (tmp_path / "out/papers/p5/index.html").read_text(encoding="utf-8")
    assert tree(tmp_path / "out") == cold_tree(tmp_path, root, "retitled")
