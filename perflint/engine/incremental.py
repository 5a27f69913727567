"""Incremental linting, for the language server: after an edit inside one function or class,
lint what the edit can change and keep the rest of the previous findings.

A file is cut into its top-level statements (*chunks*, found with the standard library's
``ast``): a function, a class, or any other statement (several on one line make one chunk).
After a change, the lines before and after it that did not change are matched; when what
changed lies inside one function or class, only that chunk's text is parsed again, and its new
statement replaces the old one in the previous syntax tree, so the tree is the one a parse of
the whole new text gives. Then one walk of that tree runs every knowledge module everywhere (so
what the engine knows about imports, names, classes and the file's other functions is what a
whole lint knows) and the rules everywhere but in the bodies of functions that cannot have
changed findings. Those keep their previous findings, moved by the number of lines the edit
added or removed.

Which function bodies can have changed findings: the edited chunk's, and every chunk that calls
into it, the way the engine looks a call up in the file (``f`` for a module-level function,
``self.f`` for a method of any class of the file): a chunk that writes one of the names the
edited chunk defines, then one that writes a name that chunk defines, and so on (a function's
summary follows the functions it calls). Code outside any function body (module level, class
bodies, decorators and default values) is walked by the rules in every chunk: some rules look at
the whole module from there (does a loop anywhere move the batches of this loader to a GPU).

The whole file is linted instead (``lint_change`` returns None) whenever the edit touches what
the rest of the file reads from the outside of a body or cannot be told apart that way: a
statement that is not a function or class (imports, module-level assignments), a decorator, a
class's bases or a function's or class's name, the names of a class's methods, the start or
end of a chunk (a statement added, removed or merged), a file whose code calls a compiler or
reads one as an attribute (a function wrapped by ``numba.njit(f)`` elsewhere is compiled), a
change of the rules the file's text enables or of the project index's view of the file, a file
with lone ``\\r`` line ends, text that does not parse, and any internal error.
``tests/engine/test_incremental.py`` checks, over real files, that the result is the whole
lint's.

Known limit: some of the engine's knowledge is worked out when a rule first asks for it and kept
for the rest of the walk (a same-file function's summary resolves its names through the imports
in force where it is first asked). An incremental walk asks from fewer places, so a function
summarised first from a skipped body in a whole lint is summarised from a later place here; the
two agree unless the imports in force differ between them (an import in the middle of the file
that rebinds a name the function uses, or one inside the asking function).
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

import libcst as cst

from perflint.engine import catalog
from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding
from perflint.engine.linter import Positions, enabled_for_source, lint_module, parse, walk_module
from perflint.engine.noqa import noqa_lines, suppressed
from perflint.engine.positions import statement_positions
from perflint.engine.project import ProjectView
from perflint.engine.rule import Rule

_WORD = re.compile(r"[^\W\d]\w*")
# ``self.f``, as the engine spells a call of a method of the file (``functions.FunctionKnowledge``).
_SELF_ATTRIBUTE = re.compile(r"\bself\s*\.\s*([^\W\d]\w*)")
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# The last word of each compiler's name (``njit``, ``compile``, ``graph`` of ``torch.cuda.graph``):
# a call of one can wrap a function of another chunk (``fast = numba.njit(f)``).
_COMPILER_WORDS = frozenset(name.rpartition(".")[2] for name in (*catalog.JIT_COMPILERS, *catalog.CUDA_GRAPH_CAPTURES))
DEF, CLASS, OTHER = "def", "class", "other"
TopLevel = cst.SimpleStatementLine | cst.BaseCompoundStatement  # what a module's body holds


@dataclass(frozen=True)
class Chunk:
    """One top-level statement: its first line (its first decorator's) and last line;
    ``kind``: ``DEF``, ``CLASS`` or ``OTHER``; for a function or class, ``header`` (its
    decorators, name and, for a class, bases, as ``ast.dump`` writes them), ``names`` (the names
    the engine finds it by: ``f``, or ``C`` and ``self.m`` for each method ``m``) and ``bodies``
    (where each body of a function that is not nested in another starts and ends, line and
    column as findings count them); ``words``: the names and ``self.`` attributes its text
    mentions, its own name where it is defined left out."""

    first: int
    last: int
    kind: str
    header: str
    names: frozenset[str]
    bodies: tuple[tuple[tuple[int, int], tuple[int, int]], ...]
    words: frozenset[str]

    def moved(self, delta: int) -> Chunk:
        if not delta:
            return self
        return replace(
            self,
            first=self.first + delta,
            last=self.last + delta,
            bodies=tuple(((start + delta, a), (end + delta, b)) for (start, a), (end, b) in self.bodies),
        )


@dataclass(frozen=True)
class LintedModule:
    """What an incremental lint starts from: a text, its syntax tree and chunks, the rules it
    was linted with and its findings."""

    source: str
    lines: list[str]
    path: str
    active: tuple[type[Rule], ...]
    project_digest: str | None
    module: cst.Module
    chunks: list[Chunk]
    findings: list[Finding]
    # A call of a compiler, or a compiler read as an attribute, in this file's words
    # (``_COMPILER_WORDS`` and the file's aliases of them).
    compiler_use: re.Pattern[str]
    # ``FileContext.parents`` of each top-level statement, kept from one lint to the next.
    parents: dict[int, tuple[cst.CSTNode, dict[int, cst.CSTNode]]]


def lint_whole(
    source: str, path: str, rule_classes: Sequence[type[Rule]], project: ProjectView | None = None
) -> tuple[list[Finding], LintedModule | None]:
    """``lint_source(..., fix_edits=False)``, and what a later ``lint_change`` starts from
    (None when the file cannot be linted incrementally)."""
    module = parse(source, path)
    if isinstance(module, Finding):
        return [module], None
    findings = lint_module(module, source, path, rule_classes, project=project, fix_edits=False)
    if _lone_carriage_return(source) or any(finding.code == INTERNAL_ERROR_CODE for finding in findings):
        return findings, None
    tree = _parsed(source)
    chunks = _chunks(tree, source, 0) if tree is not None else None
    if tree is None or chunks is None or len(chunks) != len(module.body):
        return findings, None
    active = tuple(enabled_for_source(source, rule_classes, project))
    digest = project.digest if project is not None else None
    aliases = {
        alias.asname
        for statement in tree.body
        if isinstance(statement, ast.ImportFrom)
        for alias in statement.names
        if alias.asname and alias.name in _COMPILER_WORDS
    }
    words = "|".join(sorted(_COMPILER_WORDS | aliases))
    compiler_use = re.compile(rf"\.\s*(?:{words})\b|\b(?:{words})\s*\(")
    if compiler_use.search(source):
        return findings, None
    lines = source.split("\n")
    return findings, LintedModule(source, lines, path, active, digest, module, chunks, findings, compiler_use, {})


def lint_change(
    previous: LintedModule,
    source: str,
    path: str,
    rule_classes: Sequence[type[Rule]],
    project: ProjectView | None = None,
) -> tuple[list[Finding], LintedModule] | None:
    """The findings of ``source``, the same as ``lint_whole``'s, linting only what changed
    since ``previous``; None when the whole file must be linted (see the module docstring)."""
    if path != previous.path or _lone_carriage_return(source):
        return None
    if (project.digest if project is not None else None) != previous.project_digest:
        return None
    active = tuple(enabled_for_source(source, rule_classes, project))
    if active != previous.active:
        return None  # the rules changed with the text or the configuration
    if source == previous.source:
        return previous.findings, previous
    lines = source.split("\n")
    edit = _edited_chunk(previous, lines)
    if edit is None:
        return None
    index, statement, chunk = edit
    try:
        return _relint(previous, source, lines, index, statement, chunk, project)
    except KeyError:  # a report whose node is not where the walk was: lint the whole file
        return None


def _edited_chunk(previous: LintedModule, lines: list[str]) -> tuple[int, TopLevel, Chunk] | None:
    """The index of the one function or class the change lies in, its new statement and chunk;
    None when the change is anything else."""
    old = previous.lines
    common = min(len(old), len(lines))
    prefix = 0
    while prefix < common and old[prefix] == lines[prefix]:
        prefix += 1
    suffix = 0
    while suffix < common - prefix and old[-1 - suffix] == lines[-1 - suffix]:
        suffix += 1
    delta = len(lines) - len(old)
    # The old lines the change replaces, 1-based; none for a pure insertion after line ``prefix``.
    first_changed, last_changed = prefix + 1, len(old) - suffix
    touched = (first_changed, last_changed) if last_changed >= first_changed else (prefix, prefix)
    chunks = previous.chunks
    index = bisect_right([chunk.first for chunk in chunks], touched[0]) - 1
    if index < 0 or touched[1] > chunks[index].last or chunks[index].kind == OTHER:
        return None
    old_chunk = chunks[index]
    first, last = old_chunk.first, old_chunk.last + delta
    if last < first:
        return None
    text = "\n".join(lines[first - 1 : last]) + "\n"
    tree = _parsed(text)
    new_chunks = _chunks(tree, text, first - 1) if tree is not None else None
    if new_chunks is None or len(new_chunks) != 1:
        return None
    (chunk,) = new_chunks
    if previous.compiler_use.search(text):
        return None
    if (chunk.first, chunk.kind, chunk.header, chunk.names) != (
        first,
        old_chunk.kind,
        old_chunk.header,
        old_chunk.names,
    ):
        return None
    module = parse(text, previous.path)
    if isinstance(module, Finding) or len(module.body) != 1:
        return None
    if (module.default_indent, module.default_newline) != (
        previous.module.default_indent,
        previous.module.default_newline,
    ):
        return None
    return index, module.body[0], chunk


def _relint(
    previous: LintedModule,
    source: str,
    lines: list[str],
    index: int,
    statement: TopLevel,
    chunk: Chunk,
    project: ProjectView | None,
) -> tuple[list[Finding], LintedModule] | None:
    """The findings of ``source``: ``previous``'s tree with ``statement`` in place of the
    top-level statement at ``index`` walked with quiet bodies (``FileContext.run``), its findings
    kept outside them and ``previous``'s, moved, inside them; None on an internal error."""
    delta = len(lines) - len(previous.lines)
    old_chunk = previous.chunks[index]
    chunks = [*previous.chunks[:index], chunk, *(later.moved(delta) for later in previous.chunks[index + 1 :])]
    body = list(previous.module.body)
    body[index] = statement
    module = previous.module.with_changes(body=body)
    parents = {id(top): previous.parents[id(top)] for top in body if id(top) in previous.parents}
    selected = _callers(chunks, index)
    quiet = frozenset(
        id(function.body)
        for number, top in enumerate(body)
        if number not in selected
        for function in _outer_functions(top)
    )

    def positions(reported: list[tuple[int, cst.CSTNode]]) -> Positions | None:
        """Each reported node's position, from the code of its top-level statement alone."""
        if any(number < 0 for number, _ in reported):
            raise KeyError("a report outside the top-level statements")
        return statement_positions(
            module, reported, lambda number, _code: chunks[number].first - len(body[number].leading_lines)
        )

    fresh = walk_module(
        module,
        source,
        previous.path,
        previous.active,
        project,
        fix_edits=False,
        quiet=quiet,
        positions=lambda context: positions(context.reported),
        statement_parents=parents,
    )
    if any(finding.code == INTERNAL_ERROR_CODE for finding in fresh):
        return None
    firsts = [later.first for later in chunks]

    def in_quiet_body(finding: Finding) -> bool:
        number = bisect_right(firsts, finding.line) - 1
        if number < 0 or number in selected:
            return False
        start = (finding.line, finding.column)
        return any(begin <= start <= end for begin, end in chunks[number].bodies)

    noqa: dict[int, list[str]] = {}

    def kept(finding: Finding) -> bool:
        number = bisect_right(firsts, finding.line) - 1
        if number < 0:
            return True
        where = chunks[number]
        if number not in noqa:
            noqa[number] = noqa_lines("\n".join(lines[where.first - 1 : where.last]) + "\n")
        return not suppressed(replace(finding, line=finding.line - where.first + 1), noqa[number])

    moved = [
        finding
        if finding.line < old_chunk.first
        else replace(finding, line=finding.line + delta, end_line=finding.end_line + delta)
        for finding in previous.findings
        if not old_chunk.first <= finding.line <= old_chunk.last
    ]
    findings = [finding for finding in fresh if not in_quiet_body(finding) and kept(finding)]
    findings += [finding for finding in moved if in_quiet_body(finding)]
    findings.sort(key=lambda finding: finding.sort_key)
    state = replace(
        previous, source=source, lines=lines, module=module, chunks=chunks, findings=findings, parents=parents
    )
    return findings, state


def _callers(chunks: Sequence[Chunk], index: int) -> set[int]:
    """The edited chunk and every function or class chunk that calls into it, however many
    calls away (see the module docstring)."""
    selected = {index}
    names = set(chunks[index].names)
    while names:
        reached = [
            number
            for number, chunk in enumerate(chunks)
            if number not in selected and chunk.kind != OTHER and not names.isdisjoint(chunk.words)
        ]
        selected.update(reached)
        names = {name for number in reached for name in chunks[number].names}
    return selected


def _outer_functions(statement: cst.CSTNode) -> list[cst.FunctionDef]:
    """A top-level function, or the methods of a top-level class."""
    if type(statement) is cst.FunctionDef:
        return [statement]
    if type(statement) is cst.ClassDef and type(statement.body) is cst.IndentedBlock:
        return [member for member in statement.body.body if type(member) is cst.FunctionDef]
    return []


def _lone_carriage_return(source: str) -> bool:
    """``source`` ends a line with ``\\r`` alone, which Python counts as a line end and
    ``str.split("\\n")`` does not (``\\r\\n`` files are cut at their ``\\n``, and match)."""
    return "\r" in source and source.count("\r") != source.count("\r\n")


def _parsed(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _chunks(tree: ast.Module, source: str, offset: int) -> list[Chunk]:
    """The top-level statements of ``tree``, parsed from ``source``, their lines moved down by
    ``offset``."""
    lines = source.split("\n")
    groups: list[list[ast.stmt]] = []
    spans: list[tuple[int, int]] = []
    for statement in tree.body:
        decorators = getattr(statement, "decorator_list", ())
        first = min([statement.lineno, *(decorator.lineno for decorator in decorators)])
        last = statement.end_lineno or statement.lineno
        if spans and first <= spans[-1][1]:
            groups[-1].append(statement)
            spans[-1] = (spans[-1][0], max(last, spans[-1][1]))
        else:
            groups.append([statement])
            spans.append((first, last))
    chunks = []
    for group, (first, last) in zip(groups, spans):
        text = "\n".join(lines[first - 1 : last])
        statement = group[0]
        if len(group) == 1 and isinstance(statement, _DEFINITIONS):
            # Its own name where it is defined is no call (the same name defined again elsewhere
            # in the file is reached through a call of it, which is one).
            text = re.sub(rf"\b(def|class)\s+{statement.name}\b", "", text, count=1)
        words = frozenset(_WORD.findall(text)) | {f"self.{name}" for name in _SELF_ATTRIBUTE.findall(text)}
        if len(group) > 1 or not isinstance(statement, _DEFINITIONS):
            chunks.append(Chunk(first + offset, last + offset, OTHER, "", frozenset(), (), words))
            continue
        if isinstance(statement, ast.ClassDef):
            functions = [member for member in statement.body if isinstance(member, _FUNCTIONS)]
            names = frozenset({statement.name, *(f"self.{function.name}" for function in functions)})
            header = _dumped("class", statement.name, *statement.bases, *statement.keywords, *statement.decorator_list)
            kind = CLASS
        else:
            functions = [statement]
            names = frozenset({statement.name})
            header = _dumped(type(statement).__name__, statement.name, *statement.decorator_list)
            kind = DEF
        bodies = tuple(_body_span(function, lines, offset) for function in functions)
        chunks.append(Chunk(first + offset, last + offset, kind, header, names, bodies, words))
    return chunks


def _dumped(kind: str, name: str, *nodes: ast.AST) -> str:
    return "\n".join([kind, name, *(ast.dump(node) for node in nodes)])


def _body_span(
    function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], offset: int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where a function's body starts and ends, as findings count lines and columns (1-based,
    in characters; ``ast`` counts columns in UTF-8 bytes)."""
    first, last = function.body[0], function.body[-1]

    def column(line: int, byte_offset: int) -> int:
        return len(lines[line - 1].encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1

    end_line = last.end_lineno or last.lineno
    end_column = last.end_col_offset if last.end_col_offset is not None else len(lines[end_line - 1])
    return (
        (first.lineno + offset, column(first.lineno, first.col_offset)),
        (end_line + offset, column(end_line, end_column)),
    )
