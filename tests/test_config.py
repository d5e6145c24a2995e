from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.config import SiteConfig, load_config
from sitegen.errors import SitegenError


def test_defaults_without_a_settings_file(tmp_path: Path):
    assert load_config(tmp_path) == SiteConfig()


def test_values_are_read_and_base_url_gets_a_slash(tmp_path: Path):
    (tmp_path / "sitegen.yaml").write_text("title: My review\nbase_url: https://x.org/review\nper_page: 7\n")
    config = load_config(tmp_path)
    assert (config.title, config.base_url, config.per_page) == ("My review", "https://x.org/review/", 7)


def test_unknown_key_names_key_and_line(tmp_path: Path):
    (tmp_path / "sitegen.yaml").write_text("title: T\nper_pgae: 3\n")
    with pytest.raises(SitegenError) as info:
        load_config(tmp_path)
    [diag] = info.value.diagnostics
    assert str(diag).endswith("sitegen.yaml:2:1: unknown setting 'per_pgae'; did you mean 'per_page'?")
    assert info.value.exit_code == 2


def test_wrong_types_are_all_reported(tmp_path: Path):
    (tmp_path / "sitegen.yaml").write_text("per_page: many\nallow_html: 1\nbase_url: x.org\n")
    with pytest.raises(SitegenError) as info:
        load_config(tmp_path)
    assert [(d.line, d.col) for d in info.value.diagnostics] == [(1, 11), (2, 13), (3, 11)]


def test_yaml_error_in_settings_has_file_line(tmp_path: Path):
    (tmp_path / "sitegen.yaml").write_text("title: T\ndescription: [a\n")
    with pytest.raises(SitegenError) as info:
        load_config(tmp_path)
    assert info.value.diagnostics[0].line == 3
