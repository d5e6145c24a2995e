"""The layout of the package: subpackages that mirror the pipeline, and no module that reaches back up.

Layers, lowest first; a module may import from its own layer and those below, never from above:

    store    bounded reads, the cache store, processes, the one writer and hash helper
    text     Markdown, math, links, repair of scraped text
    content  the site's model and its file formats (front matter, taxonomy, digest records), settings
    importer / build   the two pipelines, side by side: neither imports the other
    serve    the editing loop over the build
    cli      the only place that prints or exits
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "sitegen"
LAYERS = {
    "errors": 0,
    "store": 0,
    "text": 1,
    "config": 2,
    "content": 2,
    "importer": 3,
    "build": 3,
    "serve": 4,
    "cli": 5,
    "__main__": 5,
    "__init__": 0,
}
SIDE_BY_SIDE = {("importer", "build"), ("build", "importer")}
MAX_LINES = 400


def part(module: str) -> str:
    """The layer name of a module path inside sitegen ("build.views" -> "build")."""
    return module.split(".")[0]


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sitegen"):
            if node.module == "sitegen":  # a subpackage, or a name of sitegen/__init__.py (__version__)
                found.update(
                    f"sitegen.{a.name}" if (PACKAGE / a.name).is_dir() else "sitegen.__init__"
                    for a in node.names
                )
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sitegen."))
    return {name.removeprefix("sitegen.") for name in found if name != "sitegen"}


def modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(PACKAGE).with_suffix("").parts): path
        for path in PACKAGE.rglob("*.py")
        if "_theme" not in path.parts
    }


def test_every_module_belongs_to_a_layer():
    assert {part(name) for name in modules()} <= set(LAYERS)


def test_no_module_imports_from_a_layer_above_it_or_across_the_pipelines():
    wrong = []
    for name, path in modules().items():
        for target in imports_of(path):
            here, there = part(name), part(target)
            if LAYERS[there] > LAYERS[here] or (here, there) in SIDE_BY_SIDE:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_a_long_module_says_why():
    """Modules stay under 400 lines; one that does not says why in its docstring ("Size: ...")."""
    long = [
        name
        for name, path in modules().items()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
        and "Size:" not in (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")
    ]
    assert long == []


#: The modules that read, model and render: they make values and bytes, and never write the output folder
#: (only the build's writer, sitegen.build.output with the manifest, does; and the search step, whose
#: escaping of filter values the templates use).
READ_MODEL_RENDER = (
    "content.",
    "text.",
    "build.render",
    "build.plan",
    "build.views",
    "build.deps",
    "build.templates",
    "build.feeds",
    "build.bibtex",
    "build.csljson",
    "build.exports",
    "build.charts",
)
WRITERS = {"build.output", "build.manifest"}


def test_reading_modelling_and_rendering_never_write_the_output():
    chosen = {name: path for name, path in modules().items() if name.startswith(READ_MODEL_RENDER)}
    assert "build.render" in chosen and "content.model" in chosen
    wrong = [f"{name} -> {target}" for name, path in chosen.items() for target in imports_of(path) & WRITERS]
    assert wrong == []
    # Nor do they call the one file writer themselves.
    writes = [name for name, path in chosen.items() if "atomic_write" in path.read_text(encoding="utf-8")]
    assert writes == []
