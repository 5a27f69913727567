"""perflint as a flake8 plugin: the same engine and default rules, reported the flake8 way.

flake8 does its own ``# noqa`` handling and its own ``--select`` / ``--ignore``, so the plugin
reports every finding of the default rule set and leaves both to flake8.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from typing import Iterator, Sequence

from perflint import __version__
from perflint.engine import lint_source
from perflint.rules import select_rules
from perflint.engine.rule import Rule


@lru_cache(maxsize=None)
def default_rules() -> tuple[type[Rule], ...]:
    """The rules ``perflint check`` runs without ``--select``: both front ends agree."""
    return tuple(select_rules())


class Flake8Checker:
    """A flake8 ``tree`` plugin; flake8 hands it each file's lines, so stdin works too."""

    name = "perflint"
    version = __version__

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str) -> None:
        # flake8 classifies a plugin by its parameter names: ``tree`` makes this a tree plugin.
        # The standard-library AST is of no use to a libcst engine, so it is not kept.
        self.source = "".join(lines)
        self.filename = filename

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        """Yield ``(line, column, "CODE message", type)`` with the 0-based column flake8 expects."""
        for finding in lint_source(self.source, self.filename, default_rules(), apply_noqa=False):
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
