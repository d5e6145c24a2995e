"""A damaged .sitegen-cache never changes the output or crashes the build, and killed writers' leftovers go.

Issue 16, item 4: one flipped bit in an items cache file printed "Reasnning" on the site, build after build;
one changed byte in a compiled template made every build die by a signal. The cache only saves time:
whatever happens to its files, `sitegen build` exits 0, prints nothing, makes the bytes a cold build of the
same content makes, and writes the damaged files again, so that the builds after it are right too.

Every build here is a separate `python -m sitegen build` process, so that a crash shows as a negative exit
code instead of taking the test run down. Each kind of damage is done to every cache file at once (one build
checks them all: each file is checked on its own when it is read, so damage to one cannot hide damage to
another), and, for the two reproductions of the issue, to the single file concerned.

Issue 16, item 12 (the cache's side): the temporary files of killed cache writers are removed by the next
build, those of writers still at work are not.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, write_site

from sitegen.build.manifest import MANIFEST

CACHE = ".sitegen-cache"
#: Papers of the repository's sample taken into the mini site: the first few of each digest, and the one whose
#: title and abstract the issue's "Reasnning" came from.
PER_DIGEST = 4
REASONING = "agent-q-advanced-reasoning-and-learning-for-autonomous-ai-agents"
#: The paper whose abstract the "next build" edits.
EDITED_WORD = (b"remarkable capabilities", b"notable capabilities")


def sample_site() -> dict[str, str]:
    """A mini site made of the sample's own papers, digests and taxonomy (real titles, abstracts, tags)."""
    files = {
        "sitegen.yaml": "title: Fault Review\nper_page: 3\nbase_url: https://example.org/review/\n",
        "content/taxonomy.yaml": (REPO / "content/taxonomy.yaml").read_text(encoding="utf-8"),
    }
    for record in sorted((REPO / "content/digests").glob("*.yaml")):
        text = record.read_text(encoding="utf-8")
        slugs = re.findall(r"^  - (\S+)$", text, re.M)
        chosen = slugs[:PER_DIGEST] + [s for s in slugs if s == REASONING]
        head = text.split("papers:", 1)[0]
        files[f"content/digests/{record.name}"] = head + "papers:\n" + "".join(f"  - {s}\n" for s in chosen)
        for slug in chosen:
            page = (REPO / "content/papers" / f"{slug}.md").read_text(encoding="utf-8")
            day = record.stem
            page = re.sub(r"^digests: .*$", f"digests: [{day}]", page, count=1, flags=re.M)
            files[f"content/papers/{slug}.md"] = page
    return files


def build(root: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitegen", "build", "--no-search", "--root", str(root), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def built(root: Path, out: Path) -> dict[str, bytes]:
    """Build (which must succeed cleanly: exit 0, nothing on stderr) and return the output tree."""
    result = build(root, out)
    assert result.returncode == 0, (result.returncode, result.stderr[-3000:])
    assert result.stderr == ""
    return tree(out)


def tree(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def same_tree(got: dict[str, bytes], expected: dict[str, bytes]) -> None:
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []


def cache_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / CACHE).rglob("*") if p.is_file())


def edit(root: Path) -> None:
    """Change a word of one abstract (a paper of the mini site whatever the sample holds)."""
    page = root / "content/papers" / f"{REASONING}.md"
    data = page.read_bytes()
    assert EDITED_WORD[0] in data
    page.write_bytes(data.replace(*EDITED_WORD))


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """What cold builds (no cache, a fresh output folder) make of the mini site, and of it after `edit`."""
    base = tmp_path_factory.mktemp("cold")
    root = write_site(base / "site", sample_site())
    original = built(root, base / "out")
    shutil.rmtree(root / CACHE)
    edit(root)
    edited = built(root, base / "out-edited")
    return {"original": original, "edited": edited}


def check_damage(tmp_path: Path, cold: dict[str, dict[str, bytes]], damage: Callable[[Path], list[Path]]):
    """Build the mini site (filling its cache), let `damage` damage cache files (it returns them), then:
    a build into a fresh folder makes the cold build's bytes; after an edit, so does the next build; the
    damaged files are written again by then; and the build after that, which reads them, is right too."""
    root = write_site(tmp_path / "site", sample_site())
    same_tree(built(root, tmp_path / "first"), cold["original"])
    damaged = {path: path.read_bytes() for path in damage(root)}
    assert damaged, "nothing was damaged"

    same_tree(built(root, tmp_path / "damaged"), cold["original"])
    edit(root)
    same_tree(built(root, tmp_path / "edited"), cold["edited"])
    still = [p.name for p, data in damaged.items() if p.is_file() and p.read_bytes() == data]
    assert still == [], "damaged cache files that were not written again"
    same_tree(built(root, tmp_path / "after"), cold["edited"])


def flip_bit(position: Callable[[int], int], bit: int = 0) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        at = position(len(data))
        return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :]

    return change


def change_byte(position: Callable[[int], int]) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        at = position(len(data))
        return data[:at] + bytes([(data[at] + 0x41) % 256]) + data[at + 1 :]

    return change


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "first byte, bit 0": flip_bit(lambda n: 0),
    "byte 20, bit 3": flip_bit(lambda n: min(20, n - 1), 3),
    "byte 60, bit 7": flip_bit(lambda n: min(60, n - 1), 7),
    "middle byte, bit 1": flip_bit(lambda n: n // 2, 1),
    "three quarters in, bit 5": flip_bit(lambda n: n * 3 // 4, 5),
    "last byte, bit 0": flip_bit(lambda n: n - 1),
    "byte 44 changed": change_byte(lambda n: min(44, n - 1)),
    "middle byte changed": change_byte(lambda n: n // 2),
    "last byte changed": change_byte(lambda n: n - 1),
    "cut in half": lambda data: data[: len(data) // 2],
    "last byte cut": lambda data: data[:-1],
    "emptied": lambda data: b"",
    "a byte added": lambda data: data + b"\0",
}


@pytest.mark.parametrize("kind", DAMAGES)
def test_every_cache_file_damaged_the_same_way(tmp_path, cold, kind):
    def damage(root: Path) -> list[Path]:
        files = cache_files(root)
        assert len(files) > 10  # loaded pages, related papers, compiled templates
        for path in files:
            path.write_bytes(DAMAGES[kind](path.read_bytes()))
        return files

    check_damage(tmp_path, cold, damage)


def files_holding(root: Path, text: bytes) -> list[Path]:
    return [p for p in cache_files(root) if text in p.read_bytes()]


# The "Reasnning": an `o` of an abstract's text, one bit away from an `n`.
ABSTRACT_TEXT = b"requiring complex reasoning, yet"


def test_a_flipped_bit_in_an_abstract_in_the_items_cache(tmp_path, cold):
    """The issue's reproduction: one bit of an abstract's text flipped in every cache file that holds it (the
    issue's was a list-item cache, which the build no longer keeps; the loaded pages hold the text too)."""

    def damage(root: Path) -> list[Path]:
        files = files_holding(root, ABSTRACT_TEXT)
        assert files
        for path in files:
            data = path.read_bytes()
            at = data.index(ABSTRACT_TEXT) + ABSTRACT_TEXT.index(b"reasoning") + 4
            assert data[at : at + 1] == b"o"
            path.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
            assert b"reasnning" in path.read_bytes()
        return files

    check_damage(tmp_path, cold, damage)


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_a_changed_byte_in_one_compiled_template(tmp_path, cold, fraction):
    """The issue's other reproduction: one byte of the compiled home page template changed."""

    def damage(root: Path) -> list[Path]:
        files = [p for p in files_holding(root, b"home.html") if b"/templates/" in p.read_bytes()]
        assert len(files) == 1, [p.name for p in files]
        data = files[0].read_bytes()
        at = int(len(data) * fraction)
        files[0].write_bytes(data[:at] + bytes([(data[at] + 1) % 256]) + data[at + 1 :])
        return files

    check_damage(tmp_path, cold, damage)


def test_every_compiled_template_with_a_changed_byte(tmp_path, cold):
    def damage(root: Path) -> list[Path]:
        files = [p for p in cache_files(root) if b"/templates/" in p.read_bytes()]
        assert len(files) > 5
        for path in files:
            data = bytearray(path.read_bytes())
            for at in range(len(data) // 7, len(data), len(data) // 7):
                data[at] = (data[at] + 1) % 256
            path.write_bytes(bytes(data))
        return files

    check_damage(tmp_path, cold, damage)


# --- leftovers of killed writers -------------------------------------------------------------------------

#: A cache writer that writes a first part, says so, then waits for a line on stdin before it goes on: it can
#: be killed, or left at work, in the middle of its write.
WRITER = """
import sys
from pathlib import Path
from sitegen.store.cache import write_file

def parts():
    yield b"x" * 1000
    print("writing", flush=True)
    sys.stdin.readline()
    yield b"y"

write_file(Path(sys.argv[1]), parts())
"""


def start_writer(target: Path) -> subprocess.Popen[str]:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
    return writer


def temps(root: Path) -> set[str]:
    return {p.name for p in (root / CACHE).iterdir() if p.name.endswith(".tmp")}


def test_killed_writers_leftovers_are_removed_and_live_writers_files_kept(tmp_path, cold):
    root = write_site(tmp_path / "site", sample_site())
    same_tree(built(root, tmp_path / "first"), cold["original"])
    folder = root / CACHE

    killed = start_writer(folder / "killed.cache")
    left = temps(root)
    assert len(left) == 1
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    live = start_writer(folder / "live.cache")
    live_temp = temps(root) - left
    assert len(live_temp) == 1
    # Names whose writer cannot be told (older versions', another program's) stay, however old.
    old, recent = folder / ".items-07.cache.1a2b3c4d.tmp", folder / "__jinja2_x.cache0q9w8e.tmp"
    old.write_bytes(b"left by a build killed long ago")
    recent.write_bytes(b"maybe being written now")
    days_ago = time.time() - 3 * 86_400
    os.utime(old, (days_ago, days_ago))

    same_tree(built(root, tmp_path / "second"), cold["original"])
    assert temps(root) == live_temp | {old.name, recent.name}

    assert live.stdin is not None
    live.stdin.write("go on\n")
    live.stdin.close()
    assert live.wait() == 0
    assert (folder / "live.cache").read_bytes() == b"x" * 1000 + b"y"
    assert temps(root) == {old.name, recent.name}


def test_a_manifest_naming_a_facet_this_version_does_not_have_makes_those_files_again(tmp_path, cold):
    """A manifest written by another version of sitegen, whose views have a facet this one's do not: the
    files that read it are made again (the build neither stops nor keeps them)."""
    root = write_site(tmp_path / "site", sample_site())
    out = tmp_path / "out"
    same_tree(built(root, out), cold["original"])
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    foreign = [n for n, key in enumerate(manifest["reads"]) if key.startswith("p:") and key.endswith("#m")]
    assert foreign
    for n in foreign:
        manifest["reads"][n] = manifest["reads"][n][:-1] + "q"
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    edit(root)
    same_tree(built(root, out), cold["edited"])


def test_the_code_fingerprint_covers_every_module_of_every_subpackage(tmp_path):
    """Caches and page keys made by other code are not used: an edit to any module (here one of the build
    engine's, in a subpackage) gives the code another fingerprint."""
    shutil.copytree(REPO / "sitegen", tmp_path / "sitegen", ignore=shutil.ignore_patterns("__pycache__"))

    def fingerprint() -> str:
        # The copy's cache.py, loaded from its own file: it hashes the package folder it sits in.
        spec = importlib.util.spec_from_file_location(
            "copied_cache", tmp_path / "sitegen" / "store" / "cache.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.code_fingerprint()

    before = fingerprint()
    views = tmp_path / "sitegen" / "build" / "views.py"
    views.write_text(views.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert before and fingerprint() != before
