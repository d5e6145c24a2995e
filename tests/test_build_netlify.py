"""netlify.toml: builds and publishes what `sitegen build` writes, with safe headers and caching."""

from __future__ import annotations

import tomllib

from conftest import REPO

from sitegen.config import SiteConfig


def load() -> dict:
    return tomllib.loads((REPO / "netlify.toml").read_text(encoding="utf-8"))


def headers_for(config: dict, path: str) -> dict[str, str]:
    return next(h["values"] for h in config["headers"] if h["for"] == path)


def test_build_command_installs_and_builds_into_the_published_folder():
    config = load()
    command = config["build"]["command"]
    assert command.startswith("pip install . && sitegen build")
    assert config["build"]["publish"] == SiteConfig().output_dir
    assert config["build"]["environment"]["PYTHON_VERSION"].startswith("3.")


def test_security_headers_allow_pagefind_but_no_inline_script():
    values = headers_for(load(), "/*")
    csp = {d.split()[0]: d.split()[1:] for d in values["Content-Security-Policy"].split("; ")}
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert values["X-Content-Type-Options"] == "nosniff"
    assert values["Referrer-Policy"]


def test_long_lived_caching_only_for_fingerprinted_files():
    config = load()
    immutable = sorted(
        h["for"] for h in config["headers"] if "immutable" in h["values"].get("Cache-Control", "")
    )
    assert immutable == ["/assets/*", "/pagefind/filter/*", "/pagefind/fragment/*", "/pagefind/index/*"]
    assert "Cache-Control" not in headers_for(config, "/*")


def test_unknown_paths_get_the_404_page():
    [rule] = load()["redirects"]
    assert rule == {"from": "/*", "to": "/404.html", "status": 404}
