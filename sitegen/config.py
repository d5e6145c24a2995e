"""Site settings from ROOT/sitegen.yaml, with defaults so that a folder with only content/ builds."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sitegen.content.frontmatter import FrontMatterError, decode, parse_yaml
from sitegen.errors import Diagnostic, SitegenError, did_you_mean, shown
from sitegen.store.sources import cannot_read, read_bytes

CONFIG_NAME = "sitegen.yaml"


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """Every setting of a site. Paths are relative to the site root unless absolute."""

    title: str = "Trending Papers Review"
    description: str = "A literature review built from daily trending-paper digests."
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    author: str = "sitegen"
    per_page: int = 20
    feed_limit: int = 50
    home_digests: int = 5
    allow_html: bool = False
    related_count: int = 5
    content_dir: str = "content"
    templates_dir: str = "templates"
    static_dir: str = "static"
    output_dir: str = "public"


_TYPES: dict[str, type] = {f.name: type(f.default) for f in dataclasses.fields(SiteConfig)}


def _check_value(key: str, value: Any) -> str | None:
    expected = _TYPES[key]
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"'{key}' must be a whole number, not {shown(value)}"
    if expected is int and value < 1:
        return f"'{key}' must be at least 1, not {shown(value)}"
    if expected is bool and not isinstance(value, bool):
        return f"'{key}' must be true or false, not {shown(value)}"
    if expected is str and not isinstance(value, str):
        return f"'{key}' must be a string, not {type(value).__name__}"
    if key == "base_url" and not value.startswith(("http://", "https://")):
        return f"'base_url' must start with http:// or https://, not {shown(value)}"
    return None


def normalize_base_url(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> SiteConfig:
    """Read ROOT/sitegen.yaml. Raises SitegenError (exit 2) naming the key and line of every problem."""
    path = root / CONFIG_NAME
    values: dict[str, Any] = {}
    problems: list[Diagnostic] = []
    if os.path.lexists(path):  # (a folder or a broken link in its place is reported, not passed over)
        try:
            text, _ = decode(read_bytes(path))
            data, node = parse_yaml(text)
        except OSError as exc:
            raise SitegenError(Diagnostic(str(path), cannot_read(exc))) from None
        except FrontMatterError as exc:
            # parse_yaml counts lines as if a '---' line came first; a settings file has none.
            raise SitegenError(Diagnostic(str(path), exc.message, max(exc.line - 1, 1), exc.col)) from None
        if data is None:
            data = {}
        if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode | None):
            raise SitegenError(
                Diagnostic(str(path), "settings must be a mapping of 'key: value' lines", 1, 1)
            )
        for key_node, value_node in node.value if node is not None else []:
            key = str(key_node.value)
            line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key not in _TYPES:
                hint = did_you_mean(key, _TYPES, "settings")
                problems.append(Diagnostic(str(path), f"unknown setting {shown(key)}; {hint}", line, col))
                continue
            value = data[key_node.value]
            problem = _check_value(key, value)
            if problem:
                vline, vcol = value_node.start_mark.line + 1, value_node.start_mark.column + 1
                problems.append(Diagnostic(str(path), problem, vline, vcol))
            else:
                values[key] = value
    for key, value in (overrides or {}).items():
        problem = _check_value(key, value)
        if problem:
            problems.append(Diagnostic("sitegen", problem))
        values[key] = value
    if problems:
        raise SitegenError(problems)
    if "base_url" in values:
        values["base_url"] = normalize_base_url(values["base_url"])
    return SiteConfig(**values)


def site_path(root: Path, configured: str) -> Path:
    path = Path(configured)
    return path if path.is_absolute() else root / path


def setting_position(root: Path, key: str) -> tuple[int, int]:
    """Line and column of `key`'s value in ROOT/sitegen.yaml; (0, 0) when the file does not set it (or
    cannot be read: load_config reports that)."""
    try:
        text, _ = decode(read_bytes(root / CONFIG_NAME))
        _, node = parse_yaml(text)
    except (OSError, FrontMatterError):
        return 0, 0
    for key_node, value_node in node.value if isinstance(node, yaml.MappingNode) else []:
        if key_node.value == key:
            return value_node.start_mark.line + 1, value_node.start_mark.column + 1
    return 0, 0
