"""perflint: a static linter for performance anti-patterns in Python ML and numerical code."""

__version__ = "0.1.0"
