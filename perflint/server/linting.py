"""An editor buffer linted as ``perflint check - --stdin-filename PATH`` lints standard input.

The buffer's text, not the file on disk, is linted, under the configuration of the project
that owns the file's path (the nearest ``pyproject.toml`` with ``[tool.perflint]``, its
selection and per-file ignores), through the same task the command line builds for standard
input and the runner's ``lint_file``. So the editor shows what ``perflint check`` would report
for the saved buffer, and a bad file or configuration is a PFL000 diagnostic, never a crash.
A file the configuration excludes is not linted, as with ``--force-exclude``.

Linting happens in the server's process, not a worker process: a worker would cost its
start-up and the engine's import on every keystroke. The per-file time limit applies as on the
command line (``per-file-timeout``, scaled with the file's size, in CPU time): a file over it is
one PFL000 diagnostic. The server's lint thread is not the main one, so the runner's limit
reads that thread's CPU clock instead of taking a signal; like the command line's timer, it
cannot stop a long call into native code. What a worker process guards against besides, a
native stack overflow in libcst's parser on an expression nested thousands deep, would end
the server; the editor then restarts it.

Diagnostics are linted without turning the fixes into text edits (a quarter of the lint of a
file dense with findings): the edits are computed, by linting the same text again with them,
only when a code action or a hover needs a finding's fix.

After an edit, diagnostics are linted incrementally from the document's previous lint
(``lint_buffer``, ``perflint.engine.incremental``): the top-level statements the edit touches
are parsed again and linted with the functions that mention what they define or bind and the
functions that call into those, the rest keeps its findings; the result is the whole lint's.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from perflint.cli.check import _Plan
from perflint.config import Config, ConfigError, ConfigResolver
from perflint.engine.findings import Finding, unlintable
from perflint.files import SourceFile, decode_source
from perflint.runner import SAFE_FIXES, LintTask, lint_buffer, lint_file

if TYPE_CHECKING:
    from perflint.engine.incremental import LintedModule

# The server has no command-line selection of its own: the project's configuration decides.
_NO_COMMAND_LINE = argparse.Namespace(
    select=None, ignore=None, extend_select=None, per_file_timeout=None, no_cache=True, cache_dir=None
)


@dataclass(frozen=True)
class NotebookCell:
    """One cell of a notebook open in the editor: its text and whether it is Python code."""

    text: str
    is_code: bool


class ProjectLinter:
    """Lints buffers under their projects' configurations, read once per project and read
    afresh after ``forget_configuration`` (a ``pyproject.toml`` was saved)."""

    def __init__(self, working_directory: str, config_file: str | None = None) -> None:
        self.working_directory = working_directory
        self.config_file = config_file
        self._resolver: ConfigResolver | None = None
        self._plan: _Plan | None = None

    def forget_configuration(self) -> None:
        self._resolver = None
        self._plan = None

    def _resolved(self) -> tuple[ConfigResolver, _Plan]:
        if self._resolver is None or self._plan is None:
            from perflint.rules import all_rules

            rules = all_rules()
            resolver = ConfigResolver(self.config_file, self.working_directory)
            resolver.use_rules(rules)
            self._resolver, self._plan = resolver, _Plan(_NO_COMMAND_LINE, rules)
        return self._resolver, self._plan

    def config_for(self, path: str) -> Config:
        """The configuration governing ``path``. Raises ``ConfigError``."""
        resolver, _ = self._resolved()
        return resolver.for_file(os.path.abspath(path))

    def task(self, path: str, data: bytes) -> LintTask | None:
        """The lint task of ``data`` as the file at ``path``; None when the configuration
        excludes it. Raises ``ConfigError``."""
        absolute = os.path.abspath(path)
        resolver, plan = self._resolved()
        config = resolver.for_file(absolute)
        if config.excluded().matches_within(absolute):
            return None
        return plan.task(SourceFile(path, absolute), config, data)

    def lint(self, path: str, text: str, fix_edits: bool = False) -> list[Finding]:
        """The findings of ``text`` as the contents of ``path``; their fixes as text edits only
        with ``fix_edits``."""
        try:
            task = self.task(path, text.encode("utf-8"))
        except ConfigError as error:
            return [unlintable(path, f"configuration: {error}")]
        if task is None:
            return []
        return lint_file(task, None, fix_edits=fix_edits).findings

    def lint_incrementally(
        self, path: str, text: str, previous: LintedModule | None
    ) -> tuple[list[Finding], LintedModule | None]:
        """``lint``'s findings (no fix edits), from the document's previous lint where the
        change allows it, and what its next lint starts from."""
        try:
            task = self.task(path, text.encode("utf-8"))
        except ConfigError as error:
            return [unlintable(path, f"configuration: {error}")], None
        if task is None:
            return [], None
        return lint_buffer(task, previous)

    def lint_notebook(self, path: str, cells: Sequence[NotebookCell]) -> list[Finding]:
        """The findings of a notebook's cells, each placed in its cell (``Finding.cell``,
        1-based over every cell) by the notebook linter, as for an ``.ipynb`` file."""
        document = {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": "code" if cell.is_code else "markdown", "source": cell.text, "metadata": {}}
                for cell in cells
            ],
        }
        notebook_path = path if path.endswith(".ipynb") else path + ".ipynb"
        try:
            task = self.task(notebook_path, json.dumps(document).encode("utf-8"))
        except ConfigError as error:
            return [unlintable(path, f"configuration: {error}")]
        if task is None:
            return []
        return lint_file(task, None, fix_edits=False).findings

    def fix_all(self, path: str, text: str) -> str | None:
        """``text`` with every safe fix ``perflint check --fix`` would apply (passes, refusals,
        time limit and all); None when there is nothing to fix or the file is excluded."""
        try:
            task = self.task(path, text.encode("utf-8"))
        except ConfigError:
            return None
        if task is None:
            return None
        result = lint_file(replace(task, fixes=SAFE_FIXES), None)
        return decode_source(result.fixed_data) if result.fixed and result.fixed_data is not None else None
