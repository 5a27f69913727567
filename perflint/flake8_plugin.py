"""perflint as a flake8 plugin: the same engine and rules, reported the flake8 way.

flake8 does its own ``# noqa`` handling and its own ``--select`` / ``--ignore``, so the plugin
runs every rule and leaves the choice to flake8. Opt-in rules follow flake8's convention for
opt-in checks: their codes join flake8's default ignore list (``extend_default_ignore``), so
they are off until ``--extend-select PFL301`` (or an explicit ``--select`` naming them) turns
them on, and the default output is the same as ``perflint check``'s.
"""

from __future__ import annotations

import argparse
import ast
import os
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from perflint import __version__
from perflint.config import ConfigError, load_config
from perflint.engine import lint_source
from perflint.engine.findings import Finding
from perflint.engine.project import ProjectView
from perflint.engine.project_cache import IndexedFile, project_views
from perflint.engine.rule import Rule
from perflint.engine.safety import FixSafety
from perflint.rules import all_rules


@cache
def every_rule() -> tuple[type[Rule], ...]:
    return all_rules()


def opt_in_codes() -> list[str]:
    """The codes ``perflint check`` runs only when selected."""
    return [rule.code for rule in every_rule() if not rule.default_enabled]


class Flake8Checker:
    """A flake8 ``tree`` plugin; flake8 hands it each file's lines, so stdin works too."""

    name = "perflint"
    version = __version__

    def __init__(self, tree: ast.AST, lines: Sequence[str], filename: str) -> None:
        # flake8 classifies a plugin by its parameter names: ``tree`` makes this a tree plugin.
        # The standard-library AST is of no use to a libcst engine, so it is not kept.
        self.source = "".join(lines)
        self.filename = filename

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        option_manager.extend_default_ignore(opt_in_codes())

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """Nothing to read: flake8's own selection decides what is shown."""

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        """Yield ``(line, column, "CODE message", type)`` with the 0-based column flake8 expects.
        flake8 has no way to apply fixes, so a finding with one says which command does."""
        findings = lint_source(
            self.source, self.filename, every_rule(), apply_noqa=False, project=project_view(self.filename, self.source)
        )
        for finding in findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}{fix_hint(finding)}", type(self)


def project_view(filename: str, source: str) -> ProjectView | None:
    """What the project index says about ``filename``, when a ``perflint check`` of its project
    left the index in the project's cache (this file's summary is made afresh from ``source``);
    None otherwise, and the file is linted with its own knowledge only."""
    if not filename.endswith(".py"):
        return None
    absolute = os.path.abspath(filename)
    try:
        config = load_config(None, os.path.dirname(absolute), every_rule())
    except ConfigError:
        return None
    outcome = project_views(
        [IndexedFile(absolute, source.encode("utf-8", "surrogatepass"))],
        config.root,
        config.cache_directory,
        whole_project=False,
        write=False,
    )
    return outcome.views.get(absolute) if outcome.cached_files else None


def fix_hint(finding: Finding) -> str:
    if finding.fix is None:
        return ""
    if finding.fix.applicability == FixSafety.SAFE:
        return " [fixable: perflint check --fix]"
    return " [unsafe fix: perflint check --fix --unsafe-fixes]"
