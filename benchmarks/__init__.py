"""Side-by-side performance harness; see ``harness.py`` and ``python -m benchmarks --help``."""
