"""`sitegen build`: content in, a static site out (see builder.Builder for the recipe).

The names below are imported on first use, so that `check`, which needs only the templates
(sitegen.build.templates), does not import the whole build.
"""

from typing import Any

__all__ = ["BuildOptions", "BuildResult", "Builder", "Superseded", "build_site"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sitegen.build import builder

        return getattr(builder, name)
    raise AttributeError(name)
