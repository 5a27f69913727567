"""The engine: one libcst parse per file, one batched traversal, shared knowledge for every rule."""

from perflint.engine.findings import Finding
from perflint.engine.linter import lint_source

__all__ = ["Finding", "lint_source"]
