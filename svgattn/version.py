"""svgattn's version: the one source (hatchling reads it at build time; the cache keys by it)."""

__version__ = "0.2.0"
