"""`sitegen build`: content in, a static site out (see builder.Builder for the recipe)."""

from sitegen.build.builder import Builder, BuildOptions, BuildResult, build_site

__all__ = ["BuildOptions", "BuildResult", "Builder", "build_site"]
