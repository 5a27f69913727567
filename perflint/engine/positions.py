"""Source positions of the few nodes a file's findings report, without positions for all.

libcst's ``PositionProvider`` records a line and column for every node while it regenerates
the module, updating both at every token; on real files that costs nearly twice the parse
(measured on 25 timm model files: parse 1.57 s, positions 2.78 s, plain code generation
0.33 s). Only the reported nodes need a position. So the module is regenerated with libcst's
plain code-generation state, and only the reported nodes (and the child nodes their extent is
taken from) note how many tokens had been written when they began and ended; token counts
become character offsets, and offsets become lines and columns, once, at the end. The
positions are the ones ``PositionProvider`` gives: the same hooks mark the same extents.
``statement_positions`` regenerates only the top-level statements that hold a reported node,
each alone, when the caller can say on which line of the file each one begins.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from itertools import accumulate
from typing import Any

import libcst as cst
from libcst._nodes.internal import CodegenState

_UNRECORDED = nullcontext()

Position = tuple[int, int]  # 1-based line, 0-based column

# Where a line ends for Python (and flake8, and editors): ``\r\n``, ``\n``, or a lone ``\r``.
_LINE_END = re.compile(r"\r\n?|\n")


def line_starts(text: str) -> list[int]:
    """The offset of each line's first character; a file with lone ``\r`` line endings has as
    many lines as Python sees in it, not one."""
    return [0, *(match.end() for match in _LINE_END.finditer(text))]


class _Recording:
    __slots__ = ("state", "node", "start_node", "end_node")

    def __init__(self, state: _RecordingState, node: cst.CSTNode, start_node: Any, end_node: Any) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        state = self.state
        # The extent may be taken from a child's: that child must record too.
        for borrowed in (self.start_node, self.end_node):
            if borrowed is not None:
                state.wanted.add(id(borrowed))
        state.starts[id(self.node)] = (len(state.tokens), self.start_node)

    def __exit__(self, *exception: object) -> None:
        state = self.state
        state.ends[id(self.node)] = (len(state.tokens), self.end_node)


class _RecordingState(CodegenState):
    def __init__(self, module: cst.Module, wanted: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.wanted = wanted
        self.starts: dict[int, tuple[int, cst.CSTNode | None]] = {}
        self.ends: dict[int, tuple[int, cst.CSTNode | None]] = {}
        self._whole_starts: dict[int, int] = {}

    # A node that marks no syntactic extent (the module itself) spans all it generates,
    # whitespace included, as in PositionProvider.
    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self._whole_starts[id(node)] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.starts:
            self.starts[key] = (self._whole_starts[key], None)
            self.ends[key] = (len(self.tokens), None)

    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Any:
        if id(node) not in self.wanted:
            return _UNRECORDED
        return _Recording(self, node, start_node, end_node)


def node_positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, tuple[Position, Position]]:
    """Start and end (exclusive) of each node in ``nodes``, by ``id``, as PositionProvider gives them."""
    return _generated(module, nodes)[1]


def statement_positions(
    module: cst.Module,
    reported: Iterable[tuple[int, cst.CSTNode]],
    first_line: Callable[[int, str], int | None],
) -> dict[int, tuple[Position, Position]] | None:
    """``node_positions`` of nodes each given with the index of the top-level statement of
    ``module`` it lies in, from the code of those statements alone (not the whole module's).
    ``first_line(index, code)``: the line of the file the statement's ``code`` (its leading
    lines included) begins on, or None when it cannot tell, and then this returns None."""
    by_statement: dict[int, list[cst.CSTNode]] = {}
    for number, node in reported:
        by_statement.setdefault(number, []).append(node)
    found: dict[int, tuple[Position, Position]] = {}
    for number, nodes in by_statement.items():
        alone = cst.Module(
            body=[module.body[number]], default_indent=module.default_indent, default_newline=module.default_newline
        )
        code, positions = _generated(alone, nodes)
        first = first_line(number, code)
        if first is None:
            return None
        for key, ((line, column), (end_line, end_column)) in positions.items():
            found[key] = ((line + first - 1, column), (end_line + first - 1, end_column))
    return found


def _generated(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> tuple[str, dict[int, tuple[Position, Position]]]:
    """``module``'s code, and ``node_positions`` in it."""
    nodes = list(nodes)
    state = _RecordingState(module, {id(node) for node in nodes})
    module._codegen(state)
    code = "".join(state.tokens)
    offsets = [0, *accumulate(len(token) for token in state.tokens)]
    starts = line_starts(code)

    def at(offset: int) -> Position:
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1]

    def start(key: int) -> int:
        token, borrowed = state.starts[key]
        return start(id(borrowed)) if borrowed is not None else offsets[token]

    def end(key: int) -> int:
        token, borrowed = state.ends[key]
        return end(id(borrowed)) if borrowed is not None else offsets[token]

    return code, {id(node): (at(start(id(node))), at(end(id(node)))) for node in nodes}
