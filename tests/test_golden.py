"""A whole small site and the files a build must make of it, checked in side by side (as Hugo's and Pelican's
tests keep theirs): tests/golden/site is built and every output file compared byte for byte with
tests/golden/expected. A change to the templates or the renderer that changes the output shows here as a
diff to review. After a deliberate change, write the new files with

    SITEGEN_GOLDEN_UPDATE=1 python -m pytest tests/test_golden.py

and review `git diff tests/golden/expected` before committing it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
MANIFEST = ".sitegen-manifest.json"  # sitegen's record of what it wrote (mtimes): not part of the site


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def test_the_golden_site_builds_to_the_files_kept_beside_it(tmp_path, run):
    root = tmp_path / "site"
    shutil.copytree(GOLDEN / "site", root)  # (a build writes its cache into the site folder)
    result = run("build", "--root", root, "--out", tmp_path / "out", "--no-search")
    assert result.code == 0, result.err
    assert result.err == ""  # no warning either
    made = files_of(tmp_path / "out")
    expected_dir = GOLDEN / "expected"
    if os.environ.get("SITEGEN_GOLDEN_UPDATE"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(tmp_path / "out", expected_dir, ignore=shutil.ignore_patterns(MANIFEST))
    expected = files_of(expected_dir)
    assert sorted(made) == sorted(expected)
    different = [name for name in made if made[name] != expected[name]]
    assert different == [], f"differ from tests/golden/expected: {different}"
    # The draft is nowhere in a build without --drafts.
    assert not any(b"draft-idea" in data for data in made.values())
