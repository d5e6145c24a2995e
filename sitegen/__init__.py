"""sitegen: daily trending-paper digests into a static literature-review website."""

__version__ = "0.1.0"
