"""Building blocks of fixes, shared by the rules: a library function named through the file's
own imports, a keyword argument set or removed with the call's formatting kept, statements
inserted before the one holding a node, a new name unused in the file, and a loop-invariant
expression hoisted above its loop."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import libcst as cst

from perflint.engine import catalog
from perflint.engine.quoting import quote
from perflint.engine.walker import syntax_children

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext
    from perflint.engine.rule import Fix

# The names the ecosystem imports these modules as; an added import uses them when free.
CONVENTIONAL_ALIASES = {"numpy": "np", "pandas": "pd"}


def code_of(node: cst.CSTNode) -> str:
    """The source text of ``node`` on its own (default formatting for what it does not carry);
    a message quotes code through ``perflint.engine.quoting.quote`` instead."""
    return cst.Module([]).code_for_node(node)


def reference(context: FileContext, qualified: str) -> tuple[cst.BaseExpression, tuple[str, ...]] | None:
    """An expression naming ``qualified`` (``torch.from_numpy``) as this file can, and the
    import statement it needs, if any: ``th.from_numpy`` after ``import torch as th``;
    ``np.stack`` and ``import numpy as np`` in a file that imports no NumPy. None when the
    name the import would bind is already taken by something else."""
    text = context.imports.reference(qualified)
    if text is not None:
        return cst.parse_expression(text), ()
    module, _, rest = qualified.partition(".")
    alias = CONVENTIONAL_ALIASES.get(module)
    if alias is not None and context.imports.is_free(alias) and not context.has_word(alias):
        return cst.parse_expression(f"{alias}.{rest}" if rest else alias), (f"import {module} as {alias}",)
    if context.imports.is_free(module) and not context.has_word(module):
        return cst.parse_expression(qualified), (f"import {module}",)
    return None


def keyword_value(call: cst.Call, keyword: str) -> cst.BaseExpression | None:
    for argument in call.args:
        if argument.keyword is not None and argument.keyword.value == keyword:
            return argument.value
    return None


def with_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``keyword=value``: the argument's value replaced if it is there, else a
    new last argument (before any ``*args``/``**kwargs`` it may not follow) that keeps the
    call's layout. In a call on one line it follows the last argument (``f(a, k=v)``); in a
    call split over lines it goes on a line of its own, indented as the last argument's line
    (so no line grows and none ends in a space), a trailing comma and the closing
    parenthesis's line staying as they were, and a comment staying on its argument's line."""
    arguments = list(call.args)
    for index, argument in enumerate(arguments):
        if argument.keyword is not None and argument.keyword.value == keyword:
            arguments[index] = argument.with_changes(value=value)
            return call.with_changes(args=arguments)
    new = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    if not arguments:
        return call.with_changes(args=[new])
    last = arguments[-1]
    line_start = _line_start(call, arguments)
    if isinstance(last.comma, cst.Comma):
        after_last = last.comma.whitespace_after
        if isinstance(after_last, cst.ParenthesizedWhitespace) and line_start is not None:
            # ``a,  # note`` then ``)`` on its own line: ``a,  # note``, ``k=v,``, ``)``.
            separator = last.comma.with_changes(
                whitespace_after=line_start.with_changes(first_line=after_last.first_line, empty_lines=())
            )
            closing = last.comma.with_changes(
                whitespace_after=after_last.with_changes(
                    first_line=cst.TrailingWhitespace(newline=after_last.first_line.newline)
                )
            )
        else:
            separator, closing = cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")), last.comma
        arguments[-1] = last.with_changes(comma=separator)
        arguments.append(new.with_changes(comma=closing))
        return call.with_changes(args=arguments)
    before_closing = last.whitespace_after_arg
    if line_start is None:
        arguments[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")), whitespace_after_arg=cst.SimpleWhitespace("")
        )
        arguments.append(new.with_changes(whitespace_after_arg=before_closing))
        return call.with_changes(args=arguments)
    if isinstance(before_closing, cst.ParenthesizedWhitespace):
        # ``)`` on its own line: the last argument's comment stays on its line.
        comment_line, before_closing = (
            before_closing.first_line,
            before_closing.with_changes(first_line=cst.TrailingWhitespace(newline=before_closing.first_line.newline)),
        )
    else:
        comment_line = cst.TrailingWhitespace()
    arguments[-1] = last.with_changes(
        comma=cst.Comma(whitespace_after=line_start.with_changes(first_line=comment_line, empty_lines=())),
        whitespace_after_arg=cst.SimpleWhitespace(""),
    )
    arguments.append(new.with_changes(whitespace_after_arg=before_closing))
    return call.with_changes(args=arguments)


def _space_after_comma(argument: cst.Arg) -> cst.BaseParenthesizableWhitespace | None:
    comma = argument.comma
    return comma.whitespace_after if isinstance(comma, cst.Comma) else None


def _line_start(call: cst.Call, arguments: Sequence[cst.Arg]) -> cst.ParenthesizedWhitespace | None:
    """The line break and indentation that start the line the last argument begins on; None
    when every argument is on the call's first line (the call is not split before them)."""
    for index in range(len(arguments) - 1, -1, -1):
        before = call.whitespace_before_args if index == 0 else _space_after_comma(arguments[index - 1])
        if isinstance(before, cst.ParenthesizedWhitespace):
            return before
    return None


def without_keyword(call: cst.Call, keyword: str) -> cst.Call:
    """``call`` without its ``keyword=`` argument, the separators around it kept tidy."""
    for argument in call.args:
        if argument.keyword is not None and argument.keyword.value == keyword:
            return _without(call, argument)
    return call


def without_argument(call: cst.Call, value: cst.BaseExpression) -> cst.Call | None:
    """``call`` without the argument whose expression is ``value`` (the node itself, as a
    catalogue binding gives it), by keyword or by position, the separators kept tidy. None
    when the call has no such argument, or when dropping it would move another argument to
    a different parameter: a positional one, or an unpacked ``*args``, follows it."""
    for index, argument in enumerate(call.args):
        if argument.value is value:
            if argument.keyword is None and any(
                later.keyword is None and later.star != "**" for later in call.args[index + 1 :]
            ):
                return None
            return _without(call, argument)
    return None


def _without(call: cst.Call, removed: cst.Arg) -> cst.Call:
    arguments = [argument for argument in call.args if argument is not removed]
    if not arguments:
        # The last argument gone, its line breaks go too: ``f()``.
        return call.with_changes(args=[], whitespace_before_args=cst.SimpleWhitespace(""))
    if call.args[-1] is removed:
        arguments[-1] = arguments[-1].with_changes(comma=_closing_separator(arguments[-1].comma, removed.comma))
    return call.with_changes(args=arguments)


def _closing_separator(
    kept: cst.Comma | cst.MaybeSentinel, removed: cst.Comma | cst.MaybeSentinel
) -> cst.Comma | cst.MaybeSentinel:
    """What the new last argument ends with: the removed last one's separator (a trailing
    comma and the line break before the closing parenthesis, or nothing), keeping a comment
    that ended the new last argument's line."""
    kept_space = kept.whitespace_after if isinstance(kept, cst.Comma) else None
    if not (isinstance(kept_space, cst.ParenthesizedWhitespace) and kept_space.first_line.comment is not None):
        return removed
    if isinstance(removed, cst.Comma) and isinstance(removed.whitespace_after, cst.ParenthesizedWhitespace):
        return removed.with_changes(
            whitespace_after=removed.whitespace_after.with_changes(first_line=kept_space.first_line)
        )
    return kept


class NewNames:
    """The names one rule's fixes bring into one file, and the code of what each holds. The
    fixes of a pass are applied together: two of them must never bind one new name to
    different values (two module-level ``SUB_PATTERN``s, the second replacing the first);
    two that hold the same value may share it."""

    def __init__(self) -> None:
        self._held: dict[str, str] = {}

    def name(self, context: FileContext, base: str, value: str) -> str:
        """``unused_name(context, base)``, avoiding the names given to other values."""
        name = unused_name(context, base, [taken for taken, held in self._held.items() if held != value])
        self._held[name] = value
        return name


@dataclass(frozen=True)
class InsertBefore:
    """A change that puts ``statements`` right before the statement holding ``anchor`` (the
    anchor itself when it is a statement), at its indentation; comments and blank lines
    above that statement end up above the new ones."""

    anchor: cst.CSTNode
    statements: Sequence[cst.SimpleStatementLine | cst.BaseCompoundStatement]


def assignment(name: str, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    """The statement ``name = value``."""
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], value)])


def unused_name(context: FileContext, base: str, taken: Sequence[str] = ()) -> str:
    """``base``, or ``base_2``, ``base_3``… : the first that appears nowhere in the file. A
    leading underscore (a private name) is kept."""
    private = "_" if base.startswith("_") else ""
    base = re.sub(r"\W+", "_", base).strip("_") or "value"
    if base[0].isdigit():
        base = f"value_{base}"
    base = private + base
    candidate, number = base, 1
    while context.has_word(candidate) or candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    return candidate


# Hoisting ------------------------------------------------------------------------------------

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
# What a hoisted expression may not contain: evaluating it elsewhere would bind a name, suspend
# or resume the function somewhere else.
_NOT_MOVABLE = (cst.NamedExpr, cst.Yield, cst.Await)


def paths_where(
    root: cst.CSTNode, accept: Callable[[list[cst.CSTNode]], bool], first_only: bool = False
) -> list[list[cst.CSTNode]]:
    """The paths from ``root`` (included) down to each node ``accept`` takes, given the path to
    it (the node last); nothing under a taken node is searched. Source order."""
    found = []
    stack: list[tuple[cst.CSTNode, int]] = [(root, 0)]
    path: list[cst.CSTNode] = []
    while stack:
        node, depth = stack.pop()
        del path[depth:]
        path.append(node)
        if accept(path):
            found.append(list(path))
            if first_only:
                break
            continue
        stack.extend((child, depth + 1) for child in reversed(syntax_children(node)))
    return found


def _evaluated_with(parent: cst.CSTNode, child: cst.CSTNode) -> bool:
    """``child`` is evaluated, once, every time ``parent`` is: not in a branch, behind a
    short circuit, in an exception handler, in a loop, or in a new scope."""
    if isinstance(parent, (cst.If, cst.IfExp)):
        return child is parent.test
    if isinstance(parent, cst.BooleanOperation):
        return child is parent.left
    if isinstance(parent, cst.For):
        return child is parent.iter
    if isinstance(parent, cst.With):
        return any(child is item for item in parent.items)
    if isinstance(parent, cst.Match):
        return child is parent.subject
    return not isinstance(
        parent,
        (
            cst.While,
            cst.Try,
            cst.TryStar,
            cst.ExceptHandler,
            cst.ExceptStarHandler,
            cst.MatchCase,
            cst.FunctionDef,
            cst.Lambda,
            cst.ClassDef,
            cst.CompFor,
            *_COMPREHENSIONS,
        ),
    )


def _runs_each_iteration(loop: cst.CSTNode, path: Sequence[cst.CSTNode]) -> bool:
    """``path`` (from ``loop`` down to a node) stays in the part of ``loop`` that runs on every
    iteration, outside any branch, handler, ``with`` block, nested loop or scope."""
    if len(path) < 2:
        return False
    index = 1
    if isinstance(loop, cst.For):
        if path[1] is not loop.body:
            return False
    elif isinstance(loop, cst.While):
        if path[1] is not loop.test and path[1] is not loop.body:
            return False
    else:
        # The comprehension's ``for`` clauses and their filters are part of its iteration;
        # its first iterable is evaluated once, outside.
        if isinstance(path[1], cst.CompFor) and len(path) > 2 and path[2] is path[1].iter:
            return False
        while index < len(path) and isinstance(path[index], cst.CompFor):
            index += 1
    return all(_evaluated_with(parent, child) for parent, child in zip(path[index:], path[index + 1 :]))


def _in_iteration(loop: cst.CSTNode, path: Sequence[cst.CSTNode]) -> bool:
    """``path`` (from ``loop`` down to a node) stays in the part of ``loop`` that runs on
    iterations, in its scope (a function defined there may run after the loop)."""
    if isinstance(loop, cst.For):
        repeated = path[1] is loop.body
    elif isinstance(loop, cst.While):
        repeated = True
    else:
        repeated = not (isinstance(path[1], cst.CompFor) and path[2] is path[1].iter)
    return repeated and not any(isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) for node in path)


def _derived_top(path: Sequence[cst.CSTNode]) -> int:
    """The index in ``path`` of the outermost expression that reads the last node of ``path``
    without changing it: through attributes, items and calls of methods that leave their
    receiver unchanged (``df["id"]``, ``a.T``, ``x.sum()``)."""
    index = len(path) - 1
    while index > 0:
        parent, child = path[index - 1], path[index]
        if isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is child:
            index -= 1
        elif (
            isinstance(parent, cst.Call)
            and parent.func is child
            and isinstance(child, cst.Attribute)
            and child.attr.value in catalog.NON_MUTATING_METHODS
            and not any(arg.keyword is not None and arg.keyword.value in ("out", "inplace") for arg in parent.args)
        ):
            index -= 1
        else:
            return index
    return index


def _consumed(path: Sequence[cst.CSTNode], top: int, calls_read: bool) -> bool:
    """``path[top - 1]`` only reads ``path[top]`` and computes a new value from it (arithmetic,
    a comparison; with ``calls_read``, a call of the value itself, not of a part of it)."""
    parent, child = path[top - 1], path[top]
    if calls_read and isinstance(parent, cst.Call) and parent.func is child and top == len(path) - 1:
        return True
    if isinstance(parent, cst.UnaryOperation):
        return not isinstance(parent.operator, cst.Plus)
    return isinstance(parent, (cst.BinaryOperation, cst.ComparisonTarget)) or (
        isinstance(parent, cst.Comparison) and parent.left is child
    )


def _bound_names(assign: cst.Assign) -> list[str] | None:
    """The names ``assign`` binds when its targets are plain names (``a = …``, ``u, s = …``)."""
    names: list[str] = []
    for target in assign.targets:
        elements = target.target.elements if isinstance(target.target, (cst.Tuple, cst.List)) else [target.target]
        for element in elements:
            value = element.value if isinstance(element, cst.BaseElement) else element
            if not isinstance(value, cst.Name):
                return None
            names.append(value.value)
    return names


def _name_uses(loop: cst.CSTNode, name: str) -> list[list[cst.CSTNode]]:
    """The paths from ``loop`` to each place the loop reads or binds ``name`` (not attribute
    or keyword names spelled alike, and not the plain name targets of assignments)."""

    def is_use(path: list[cst.CSTNode]) -> bool:
        node = path[-1]
        if not (isinstance(node, cst.Name) and node.value == name):
            return False
        parent = path[-2]
        return not (
            isinstance(parent, cst.Attribute)
            and parent.attr is node
            or isinstance(parent, cst.Arg)
            and parent.keyword is node
            or isinstance(parent, (cst.AssignTarget, cst.Element))
            and _in_assign_target(path)
        )

    return paths_where(loop, is_use)


def _in_assign_target(path: Sequence[cst.CSTNode]) -> bool:
    index = len(path) - 2
    while index > 0 and isinstance(path[index], (cst.Element, cst.Tuple, cst.List)):
        index -= 1
    return isinstance(path[index], cst.AssignTarget)


def only_read(context: FileContext, expression: cst.BaseExpression, loop: cst.CSTNode) -> bool:
    """The value of ``expression``, inside ``loop``, is only read there (arithmetic on it,
    comparisons, names bound to it only read so; see ``_only_read``), wherever in the loop it
    runs: one value, or a Python number equal to it, could serve every iteration."""
    path = context.path_to(expression)
    loop_index = next((index for index, node in enumerate(path) if node is loop), None)
    return loop_index is not None and _only_read(loop, path[loop_index:], calls_read=False)


def _only_read(loop: cst.CSTNode, path: Sequence[cst.CSTNode], calls_read: bool) -> bool:
    """The value of the last node of ``path`` (from ``loop`` down) is only read in the loop, so
    one value can serve every iteration: it is consumed by arithmetic or a comparison, perhaps
    through attributes, items or non-mutating methods; or assigned to plain names that the
    loop only reads so. Anything else (stored, passed to a function, changed in place, bound
    to a view that may be changed, used in a nested function) may change it or keep it."""
    top = _derived_top(path)
    if top == 0:
        return False
    parent, child = path[top - 1], path[top]
    if _consumed(path, top, calls_read):
        return True
    if not (isinstance(parent, cst.Assign) and parent.value is child and top == len(path) - 1):
        return False
    names = _bound_names(parent)
    if names is None:
        return False
    for name in names:
        for use in _name_uses(loop, name):
            if any(isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) for node in use):
                return False
            top = _derived_top(use)
            if top == 0 or not _consumed(use, top, calls_read):
                return False
    return True


def _statement_before(path: Sequence[cst.CSTNode], loop_index: int) -> cst.CSTNode | None:
    """The statement above which a hoist out of the loop at ``path[loop_index]`` goes: the
    ``for`` or ``while`` statement itself, or the statement holding a comprehension when the
    comprehension is evaluated, once, whenever that statement runs (not in a ``while`` test,
    an ``elif``, a branch, a lambda or another comprehension). None in a class body: the new
    name would become an attribute of the class (a member of an ``Enum``), and a
    comprehension there does not see the class's names."""
    loop = path[loop_index]
    if isinstance(loop, (cst.For, cst.While)):
        holder = loop_index
    else:
        holder = max(
            index for index in range(1, loop_index) if isinstance(path[index - 1], (cst.IndentedBlock, cst.Module))
        )
        if not all(
            _evaluated_with(parent, child)
            for parent, child in zip(path[holder:loop_index], path[holder + 1 : loop_index + 1])
        ):
            return None
    scope = next((node for node in reversed(path[:holder]) if isinstance(node, (cst.FunctionDef, cst.ClassDef))), None)
    return None if isinstance(scope, cst.ClassDef) else path[holder]


def name_for(context: FileContext, expression: cst.BaseExpression, most_words: int = 5) -> str:
    """A name for the value of ``expression`` made of its own words: ``inv_A`` for
    ``np.linalg.inv(A)``, ``weights_astype_float32`` for ``weights.astype(np.float32)``,
    ``read_csv_labels_csv`` for ``pd.read_csv("labels.csv")``. A library name counts by its
    last part only."""
    words: list[str] = []
    stack: list[cst.CSTNode | str] = [expression]
    while stack and len(words) < most_words:
        node = stack.pop()
        if isinstance(node, str):
            words.append(node)
        elif isinstance(node, (cst.Name, cst.Attribute)) and (qualified := context.imports.qualified_name(node)):
            words.append(qualified.rpartition(".")[2])
        elif isinstance(node, cst.Name) and node.value not in ("True", "False", "None"):
            words.append(node.value)
        elif isinstance(node, cst.Attribute):
            stack += [node.attr.value, node.value]
        elif isinstance(node, cst.Arg):
            stack.append(node.value)
        elif isinstance(node, cst.SimpleString):
            stack.extend(reversed(re.findall(r"[^\W\d]\w*", node.raw_value)))
        else:
            stack.extend(reversed(syntax_children(node)))
    return "_".join(words) or "value"


def hoist(
    context: FileContext,
    expression: cst.BaseExpression,
    loop: cst.CSTNode,
    names: NewNames,
    base_name: str,
    calls_read: bool = False,
) -> Fix | None:
    """The fix that computes ``expression`` once, as ``NAME = expression`` above ``loop`` (a
    ``for``/``while`` statement, or a comprehension: above the statement holding it), and
    reads ``NAME`` where it was, and wherever the loop computes the same expression, written
    alike (outside functions it defines: they may run after the loop). ``NAME`` is
    ``base_name`` or a variant unused in the file and by the rule's other fixes (``names``).

    The caller has established that ``expression`` gives an equal value on every iteration;
    each iteration got a new object, and now all share one: so every place that computes it
    must only read the value (``_only_read``: arithmetic on it, comparisons, names bound to it
    only read so), never change it in place, keep it or pass it on. With ``calls_read``,
    calling the value (``model(batch)``) counts as reading it: the caller's unsafe label then
    says what state such a call may keep. None (no fix) when that is
    not sure, when the expression does not run on every iteration (a branch, a short
    circuit, a ``try`` or ``with`` block, a nested loop or function) or when no statement of
    the same scope can take the assignment: a hoist never leaves the function or crosses into
    a class body. What stays the caller's to weigh (the fix is unsafe): the expression now
    runs once, and also when the loop runs no iteration.
    """
    from perflint.engine.rule import Change, Fix

    path = context.path_to(expression)
    if any(isinstance(node, _NOT_MOVABLE) for node in _subtree(expression)):
        return None
    loop_index = next((index for index, node in enumerate(path) if node is loop), None)
    if loop_index is None or not _runs_each_iteration(loop, path[loop_index:]):
        return None
    occurrences = [
        (node, node_path)
        for node, node_path in _equal_nodes(loop, expression)
        if node is expression or _in_iteration(loop, node_path)
    ]
    if not all(_only_read(loop, node_path, calls_read) for _, node_path in occurrences):
        return None
    anchor = _statement_before(path, loop_index)
    if anchor is None:
        return None
    name = names.name(context, base_name, code_of(expression))
    return Fix(
        (
            InsertBefore(anchor, [assignment(name, expression)]),
            *(Change(node, cst.Name(name)) for node, _ in occurrences),
        ),
        title=f"Compute `{quote(expression)}` once above the loop, as `{name}`",
    )


def _subtree(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node`` and every syntax node under it."""
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(syntax_children(current))
    return found


def _equal_nodes(root: cst.CSTNode, expression: cst.CSTNode) -> list[tuple[cst.CSTNode, list[cst.CSTNode]]]:
    """The nodes under ``root`` written exactly as ``expression`` is, with their paths from ``root``."""
    paths = paths_where(root, lambda path: type(path[-1]) is type(expression) and path[-1].deep_equals(expression))
    return [(path[-1], path) for path in paths]
