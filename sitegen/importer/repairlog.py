"""The repair report of one digest, `content/digests/<digest file name>.repairs.md`: what the import repaired
in each paper's text and what it left alone because it still looks like damage, with the digest's line
numbers, so that the curator can check both against the original kept beside it.

The report depends on the digest alone (never on the pages already in the site), so importing the same digest
again writes the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sitegen.errors import Diagnostic

SUFFIX = ".repairs.md"

# What each repair of sitegen.text.clean means, for a reader.
_MEANING = {
    "url-debris": "debris around a link removed ({this https URL}, \\href{...})",
    "dead-url": "'this https URL' removed: the link itself was lost by the scraper",
    "math": "math kept as LaTeX, rendered on the site",
    "latex-remnant": "LaTeX command without its backslash repaired (64times64 -> 64×64, rightarrow -> →)",
    "sentence-space": "space added after a full stop (images.In -> images. In)",
    "latex-command": "LaTeX formatting command removed, its text kept",
    "latex-macro": "LaTeX symbol or name replaced by its character",
    "latex-accent": "LaTeX accent replaced by the accented letter",
    "entity": "HTML entity replaced by its character",
    "latex-script": "LaTeX superscript or subscript written out (x^{2} -> x²)",
    "latex-escape": "LaTeX escape removed (\\% -> %)",
    "latex-quotes": "LaTeX quotes made typographic (``x'' -> “x”)",
    "latex-dash": "LaTeX dash made typographic (-- -> –)",
    "latex-tilde": "LaTeX non-breaking space (~) made a space",
    "latex-braces": "LaTeX grouping braces removed",
    "latex-math": "LaTeX math written out as text",
    "latex-space": "LaTeX spacing command removed",
    "latex-symbol": "LaTeX symbol replaced by its character",
    "latex-linebreak": "LaTeX line break removed",
    "latex-reference": "LaTeX citation or reference removed",
    "html": "HTML tags removed, their text kept",
    "invisible": "invisible characters removed",
    "space": "unusual spaces made plain spaces",
    "control": "control characters removed",
    "ligature": "typographic ligatures spelled out",
}


@dataclass(slots=True)
class RepairLog:
    source: str  # the digest's file name in content/digests/
    day: date
    repaired: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (line, title, repair names)
    anomalies: list[Diagnostic] = field(default_factory=list)


def report_path(digests_dir: Path, source: str) -> Path:
    return digests_dir / (source + SUFFIX)


def report_text(log: RepairLog) -> str:
    lines = [
        f"# Repairs of {log.source} (digest of {log.day.isoformat()})",
        "",
        "Written by `sitegen import` each time it reads this digest; the original text is in "
        f"`{log.source}`, line numbers refer to it.",
        "",
        f"## Left as it is ({len(log.anomalies)})",
        "",
    ]
    lines += [f"- {log.source}:{d.line}: {d.message}" for d in log.anomalies] or ["Nothing."]
    lines += ["", f"## Repaired ({len(log.repaired)} papers)", ""]
    for line, title, repairs in log.repaired:
        lines.append(f"- {log.source}:{line}: {title}")
        lines += [f"  - {_MEANING.get(name, name)}" for name in repairs]
    if not log.repaired:
        lines.append("Nothing.")
    return "\n".join(lines) + "\n"
