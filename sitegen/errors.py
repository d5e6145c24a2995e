"""Diagnostics: every user-facing problem is one line, `path:line:col: message`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


def display_path(path: Path | str) -> str:
    """The path as a user would type it: relative to the working folder when below it."""
    text = os.fspath(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return text if rel.startswith("..") else rel


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem with one input. `line` and `col` are 1-based; 0 means unknown."""

    path: str
    message: str
    line: int = 0
    col: int = 0
    severity: Severity = "error"

    def __str__(self) -> str:
        where = display_path(self.path)
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{self.message}"


@dataclass(slots=True)
class Report:
    """Collects every diagnostic of a run so that all of them are shown, not only the first."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, path: Path | str, message: str, line: int = 0, col: int = 0) -> None:
        self.diagnostics.append(Diagnostic(os.fspath(path), message, line, col, "error"))

    def warning(self, path: Path | str, message: str, line: int = 0, col: int = 0) -> None:
        self.diagnostics.append(Diagnostic(os.fspath(path), message, line, col, "warning"))

    def extend(self, other: Report) -> None:
        self.diagnostics.extend(other.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def has_errors(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))


class SitegenError(Exception):
    """A problem that stops a command; the CLI prints its diagnostics and exits with `exit_code`.

    exit_code 1: the content has errors. exit_code 2: usage error or input refused as a whole.
    """

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str, exit_code: int = 2):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic("sitegen", diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = diagnostics
        self.exit_code = exit_code
        super().__init__("\n".join(str(d) for d in diagnostics))
