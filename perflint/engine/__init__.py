"""The engine: one libcst parse per file, one batched traversal, shared knowledge for every rule.

``lint_source`` is imported on first use: importing ``perflint.engine.findings`` (as the cache
and the outputs do) must not import libcst.
"""

from typing import Any

from perflint.engine.findings import Finding

__all__ = ["Finding", "lint_source"]


def __getattr__(name: str) -> Any:
    if name == "lint_source":
        from perflint.engine.linter import lint_source

        return lint_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
