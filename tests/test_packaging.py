"""What `pip install .` ships: every subpackage of sitegen and the files it reads at run time."""

from __future__ import annotations

import tomllib

from conftest import REPO


def test_every_subpackage_and_data_file_is_installed():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "sitegen").rglob("__init__.py")
        if "_theme" not in init.parts
    }
    assert found <= listed, f"not installed: {sorted(found - listed)}"
    data = config["package-data"]
    shipped = {f"{package}:{name}" for package, names in data.items() for name in names}
    needed = {
        ".".join(path.parent.relative_to(REPO).parts) + ":" + path.name
        for path in (REPO / "sitegen").rglob("*")
        if path.suffix in (".js", ".yaml") and "_theme" not in path.parts
    }
    assert needed <= shipped, f"data files not installed: {sorted(needed - shipped)}"
