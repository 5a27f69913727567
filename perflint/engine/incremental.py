"""Incremental linting, for the language server: after an edit, lint what the edit can change
and keep the rest of the previous findings.

A file is cut into its top-level statements (*chunks*, found with the standard library's
``ast``): a function, a class, or any other statement (several on one line make one chunk).
After a change, the lines before and after it that did not change are matched; the chunks the
changed lines touch (none for blank lines or comments between statements; the chunk before,
then the one after, are taken in when the changed lines do not parse alone, as a line added at
the end of a function) are replaced by the chunks of the new text of the same lines, parsed
alone and spliced into the previous syntax tree, so the tree is the one a parse of the whole
new text gives. Then one walk of that tree runs every knowledge module everywhere (so what the
engine knows about imports, names, classes and the file's other functions is what a whole lint
knows) and the rules everywhere but in the bodies of functions that cannot have changed
findings. Those keep their previous findings, moved by the number of lines the edit added or
removed. An edit of only blank lines and comments between statements moves the findings and
walks nothing (unless a rule read one of the words it adds or removes, below).

Which function bodies can have changed findings (``_relint``): those of the new chunks; those of
every function or class chunk that mentions a name the old or new chunks bind (a function's or
class's name and, for a class, ``self.m`` for each method ``m``, the way the engine looks a call
up in the file; for another statement, the names it binds, the variables whose attributes or
items it assigns and the receivers of the methods it calls as a statement, ``model.cuda()``);
and every chunk that calls into one of those, however many calls away (a function's summary
follows the functions it calls). A chunk *mentions* a name when the name is a word of its text
(strings and comments included: more than ``walker.mentions`` counts, never less). Then every
chunk whose rules read something of the whole file the edit may change, as
``FileContext.note_module_read`` noted when that chunk was last linted: the module's syntax
tree (any edit), the imports and bindings of the file (an edit that changes what the replaced
chunks bind, or an import), or a word (``FileContext.has_word``, for a new name that clashes
with nothing) that the edit adds or removes. Code outside any function body (module level, class
bodies, decorators and default values) is walked by the rules in every chunk: some rules look at
the whole module from there (does a loop anywhere move the batches of this loader to a GPU).

The whole file is linted instead (``lint_change`` returns None) when what an edit changes cannot
be told by name: a star import, a ``global`` or ``nonlocal`` statement or ``__all__`` in the
replaced or new chunks; a file whose code calls a compiler or reads one as an attribute (a
function wrapped by ``numba.njit(f)`` elsewhere is compiled); a change of the coding line, of
the rules the file's text enables, of the project index's view of the file, or of the
indentation or line ends the tree was parsed with; a file with lone ``\\r`` line ends; text
that does not parse; and any internal error. ``tests/engine/test_incremental.py`` checks, over
real files, that the result is the whole lint's, for edits inside every function and class and
around every top-level statement (a comment added above it, the statement removed, one added
after it, its name or, for another statement, its text changed).

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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import libcst as cst

from perflint.engine import catalog
from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding
from perflint.engine.linter import (
    IMPORTS_READ,
    MODULE_READ,
    WORD_READ,
    Positions,
    enabled_for_source,
    parse,
    walk_module,
)
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
DOUBT = "*"
TopLevel = cst.SimpleStatementLine | cst.BaseCompoundStatement  # what a module's body holds


@dataclass(frozen=True)
class Chunk:
    """One top-level statement: its first line (its first decorator's) and last line;
    ``kind``: ``DEF``, ``CLASS`` or ``OTHER``; for a function or class, ``names`` (the names
    the engine finds it by: ``f``, or ``C`` and ``self.m`` for each method ``m``) and ``bodies``
    (where each body of a function that is not nested in another starts and ends, line and
    column as findings count them); ``words``: the names and ``self.`` attributes its text
    mentions, its own name where it is defined left out."""

    first: int
    last: int
    kind: str
    names: frozenset[str]
    bodies: tuple[tuple[tuple[int, int], tuple[int, int]], ...]
    words: frozenset[str]
    # The names a change of it may change the meaning of elsewhere: ``names`` for a function or
    # class; for another statement, the names it binds, and the variables its assignments to
    # attributes or items and its method calls as statements change (``model.cuda()``);
    # ``DOUBT`` where that is not known (a star import, ``global``, ``__all__``).
    binds: frozenset[str]

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
    # For each chunk, what its rules read of the whole file (``FileContext.note_module_read``)
    # when it was last linted.
    reads: tuple[frozenset[str], ...]


def lint_whole(
    source: str, path: str, rule_classes: Sequence[type[Rule]], project: ProjectView | None = None
) -> tuple[list[Finding], LintedModule | None]:
    """``lint_source(..., fix_edits=False)``, and what a later ``lint_change`` starts from
    (None when the file cannot be linted incrementally)."""
    module = parse(source, path)
    if isinstance(module, Finding):
        return [module], None
    active = tuple(enabled_for_source(source, rule_classes, project))
    reads: dict[int, set[str]] = {}
    findings = []
    if active:
        walked = walk_module(
            module, source, path, active, project, fix_edits=False, quiet=frozenset(), module_reads=reads
        )
        lines = noqa_lines(source) if walked else []
        findings = sorted(
            (finding for finding in walked if not suppressed(finding, lines)), key=lambda finding: finding.sort_key
        )
    if _lone_carriage_return(source) or any(finding.code == INTERNAL_ERROR_CODE for finding in findings):
        return findings, None
    tree = _parsed(source)
    chunks = _chunks(tree, source, 0) if tree is not None else None
    if tree is None or chunks is None or len(chunks) != len(module.body):
        return findings, None
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
    chunk_reads = tuple(frozenset(reads.get(number, ())) for number in range(len(chunks)))
    return findings, LintedModule(
        source, lines, path, active, digest, module, chunks, findings, compiler_use, {}, chunk_reads
    )


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
    edit = _edit(previous, lines)
    if edit is None:
        return None
    try:
        return _relint(previous, source, lines, edit, project)
    except KeyError:  # a report whose node is not where the walk was: lint the whole file
        return None


@dataclass(frozen=True)
class _Edit:
    """The chunks ``previous.chunks[start:stop]`` replaced by ``chunks`` (``statements`` in
    the syntax tree), the old lines ``first`` to ``last`` by the new ``first`` to
    ``last + delta``, and the old and new text of those lines."""

    start: int
    stop: int
    chunks: list[Chunk]
    statements: list[TopLevel]
    first: int
    last: int
    delta: int
    old_text: str
    new_text: str


def _edit(previous: LintedModule, lines: list[str]) -> _Edit | None:
    """The top-level statements the change lies in (none for a change of blank lines or
    comments between them) and what replaces them; None when that cannot be told."""
    old = previous.lines
    common = min(len(old), len(lines))
    prefix = 0
    while prefix < common and old[prefix] == lines[prefix]:
        prefix += 1
    suffix = 0
    while suffix < common - prefix and old[-1 - suffix] == lines[-1 - suffix]:
        suffix += 1
    delta = len(lines) - len(old)
    # The old lines the change replaces, 1-based (``last`` is ``first - 1`` for a pure insertion
    # after line ``prefix``); a chunk holds the change when it holds one of those lines, or
    # both lines around an insertion.
    first_changed, last_changed = prefix + 1, len(old) - suffix
    chunks = previous.chunks
    held = [
        number for number, chunk in enumerate(chunks) if chunk.first <= last_changed and chunk.last >= first_changed
    ]
    held_start = held[0] if held else sum(1 for chunk in chunks if chunk.last < first_changed)
    held_stop = held[-1] + 1 if held else held_start
    # A line added at the end of a function parses only with the function: take in the chunk
    # before, then the one after, when the changed lines alone do not parse.
    before = max(held_start - 1, 0)
    for start, stop in ((held_start, held_stop), (before, held_stop), (before, min(held_stop + 1, len(chunks)))):
        first = min([first_changed, *(chunk.first for chunk in chunks[start:stop])])
        last = max([last_changed, *(chunk.last for chunk in chunks[start:stop])])
        edit = _replacement(previous, lines, start, stop, first, last, delta)
        if edit is not None:
            return edit
    return None


def _replacement(
    previous: LintedModule, lines: list[str], start: int, stop: int, first: int, last: int, delta: int
) -> _Edit | None:
    old_text = "\n".join(previous.lines[first - 1 : last]) + "\n"
    new_text = "\n".join(lines[first - 1 : last + delta]) + "\n"
    tree = _parsed(new_text)
    if tree is None:
        return None
    new_chunks = _chunks(tree, new_text, first - 1)
    if previous.compiler_use.search(new_text) or _imports_a_compiler(old_text + new_text):
        return None  # a compiler called, or imported under a name a call elsewhere may use
    if first <= 2 and "coding" in old_text + new_text:
        return None
    if not new_chunks:
        return _Edit(start, stop, [], [], first, last, delta, old_text, new_text)
    module = parse(new_text, previous.path)
    if isinstance(module, Finding) or len(module.body) != len(new_chunks):
        return None
    if (module.default_indent, module.default_newline) != (
        previous.module.default_indent,
        previous.module.default_newline,
    ):
        return None
    return _Edit(start, stop, new_chunks, list(module.body), first, last, delta, old_text, new_text)


def _relint(
    previous: LintedModule,
    source: str,
    lines: list[str],
    edit: _Edit,
    project: ProjectView | None,
) -> tuple[list[Finding], LintedModule] | None:
    """The findings of ``source``: ``previous``'s tree with the edit's statements in place of
    the ones they replace, walked with quiet bodies (``FileContext.run``), its findings kept
    outside them and ``previous``'s, moved, inside them; None on an internal error or when
    what the edit changes is not known."""
    delta = edit.delta
    old_chunks = previous.chunks[edit.start : edit.stop]
    chunks = [
        *previous.chunks[: edit.start],
        *edit.chunks,
        *(later.moved(delta) for later in previous.chunks[edit.stop :]),
    ]
    reads = (
        *previous.reads[: edit.start],
        *(frozenset() for _ in edit.chunks),
        *previous.reads[edit.stop :],
    )
    new_numbers = range(edit.start, edit.start + len(edit.chunks))
    changed = [*old_chunks, *edit.chunks]
    names = {name for chunk in changed for name in chunk.binds}
    if DOUBT in names:
        return None
    selected = _callers(chunks, set(new_numbers), names)
    selected.update(_readers(chunks, reads, old_chunks, edit))
    if not edit.chunks and not old_chunks and not selected:
        # Blank lines or comments between statements: every finding moves.
        moved = [_moved(finding, edit) for finding in previous.findings]
        return moved, replace(previous, source=source, lines=lines, chunks=chunks, findings=moved)
    body = [*previous.module.body[: edit.start], *edit.statements, *previous.module.body[edit.stop :]]
    module = previous.module.with_changes(body=body)
    parents = {id(top): previous.parents[id(top)] for top in body if id(top) in previous.parents}
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

    module_reads: dict[int, set[str]] = {}
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
        module_reads=module_reads,
    )
    if any(finding.code == INTERNAL_ERROR_CODE for finding in fresh):
        return None
    # A quiet body's rules read nothing this time: it keeps what they read when it was loud.
    reads = tuple(
        frozenset(module_reads.get(number, ()))
        if number in selected or not chunks[number].bodies
        else read | module_reads.get(number, set())
        for number, read in enumerate(reads)
    )
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

    moved = [_moved(finding, edit) for finding in previous.findings if not edit.first <= finding.line <= edit.last]
    findings = [finding for finding in fresh if not in_quiet_body(finding) and kept(finding)]
    findings += [finding for finding in moved if in_quiet_body(finding)]
    findings.sort(key=lambda finding: finding.sort_key)
    state = replace(
        previous,
        source=source,
        lines=lines,
        module=module,
        chunks=chunks,
        findings=findings,
        parents=parents,
        reads=reads,
    )
    return findings, state


def _moved(finding: Finding, edit: _Edit) -> Finding:
    if finding.line < edit.first or not edit.delta:
        return finding
    return replace(finding, line=finding.line + edit.delta, end_line=finding.end_line + edit.delta)


def _callers(chunks: Sequence[Chunk], selected: set[int], names: set[str]) -> set[int]:
    """``selected``, and every function or class chunk that mentions one of ``names`` or calls
    into a chunk so reached, however many calls away (see the module docstring)."""
    selected = set(selected)
    names = names | {name for number in selected for name in chunks[number].names}
    while names:
        reached = [
            number
            for number, chunk in enumerate(chunks)
            if number not in selected and chunk.kind != OTHER and not names.isdisjoint(chunk.words)
        ]
        selected.update(reached)
        names = {name for number in reached for name in chunks[number].names}
    return selected


def _readers(
    chunks: Sequence[Chunk], reads: Sequence[frozenset[str]], old_chunks: Sequence[Chunk], edit: _Edit
) -> set[int]:
    """The chunks whose rules read something of the whole file the edit may change: its syntax
    tree (any edit), its imports and bindings (an edit that changes which names are bound, or
    an import), or a word the edit adds or removes."""
    bindings_changed = [chunk.binds for chunk in old_chunks] != [chunk.binds for chunk in edit.chunks] or (
        "import" in edit.old_text + edit.new_text and _imports(edit.old_text) != _imports(edit.new_text)
    )
    words = set(_WORD.findall(edit.old_text)) ^ set(_WORD.findall(edit.new_text))
    found = set()
    for number, read in enumerate(reads):
        if not read:
            continue
        if MODULE_READ in read or (bindings_changed and IMPORTS_READ in read):
            found.add(number)
        elif words and any(f"{WORD_READ}{word}" in read for word in words):
            found.add(number)
    return found


def _imports(text: str) -> list[str] | None:
    """The import statements of ``text``, in order, wherever they are; None when it does not
    parse alone."""
    tree = _parsed(text)
    if tree is None:
        return None
    return [ast.dump(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def _outer_functions(statement: cst.CSTNode) -> list[cst.FunctionDef]:
    """A top-level function, or the methods of a top-level class."""
    if type(statement) is cst.FunctionDef:
        return [statement]
    if type(statement) is cst.ClassDef and type(statement.body) is cst.IndentedBlock:
        return [member for member in statement.body.body if type(member) is cst.FunctionDef]
    return []


def _imports_a_compiler(text: str) -> bool:
    """``from numba import njit`` (as any name) somewhere in ``text``, or text with an import
    that does not parse alone."""
    if "import" not in text:
        return False
    tree = _parsed(text)
    if tree is None:
        return True
    return any(
        isinstance(node, ast.ImportFrom) and any(alias.name in _COMPILER_WORDS for alias in node.names)
        for node in ast.walk(tree)
    )


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
        doubt = {DOUBT} if _doubtful(group, words) else set()
        if len(group) > 1 or not isinstance(statement, _DEFINITIONS):
            binds = frozenset({*doubt, *(name for part in group for name in _bound_names(part))})
            chunks.append(Chunk(first + offset, last + offset, OTHER, frozenset(), (), words, binds))
            continue
        if isinstance(statement, ast.ClassDef):
            functions = [member for member in statement.body if isinstance(member, _FUNCTIONS)]
            names = frozenset({statement.name, *(f"self.{function.name}" for function in functions)})
            kind = CLASS
        else:
            functions = [statement]
            names = frozenset({statement.name})
            kind = DEF
        bodies = tuple(_body_span(function, lines, offset) for function in functions)
        chunks.append(Chunk(first + offset, last + offset, kind, names, bodies, words, names | doubt))
    return chunks


def _doubtful(statements: list[ast.stmt], words: frozenset[str]) -> bool:
    """The statements may change names of the file without naming them where they are read:
    ``__all__``, a ``global`` or ``nonlocal`` statement anywhere in them."""
    if "__all__" in words:
        return True
    if "global" not in words and "nonlocal" not in words:
        return False
    return any(isinstance(node, (ast.Global, ast.Nonlocal)) for part in statements for node in ast.walk(part))


def _bound_names(statement: ast.stmt) -> Iterator[str]:
    """The names a statement that is not a function or class binds, or changes the value of
    (the variable of an attribute or item it assigns, the receiver of a method it calls as a
    statement); ``DOUBT`` for a star import."""
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            yield node.id
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            yield from _root(node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            yield from _root(node.value.func)
        elif isinstance(node, ast.alias):
            yield DOUBT if node.name == "*" else (node.asname or node.name.partition(".")[0])
        elif isinstance(node, (*_DEFINITIONS, ast.MatchStar, ast.MatchAs)) and node.name:
            yield node.name
        elif isinstance(node, ast.ExceptHandler) and node.name:
            yield node.name
        elif isinstance(node, ast.MatchMapping) and node.rest:
            yield node.rest


def _root(node: ast.expr) -> Iterator[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    if isinstance(node, ast.Name):
        yield node.id


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
