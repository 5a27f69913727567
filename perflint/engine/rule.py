"""The rule base class: metadata, detector hooks, documentation, examples and benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Optional

import libcst as cst

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext
    from perflint.measure.spec import Benchmark

FIX_SAFE = "safe"
FIX_UNSAFE = "unsafe"
FIX_SAFETIES = (FIX_SAFE, FIX_UNSAFE)


@dataclass(frozen=True)
class Family:
    """A group of rules sharing a code prefix (``PFL1``: vectorisation, …)."""

    prefix: str
    name: str
    description: str


@dataclass(frozen=True)
class Fix:
    """A replacement a rule proposes with its finding: ``target`` (the reported node when None)
    becomes ``replacement``. Carried with the finding; applying fixes is not built yet."""

    replacement: cst.CSTNode
    target: Optional[cst.CSTNode] = None


@dataclass(frozen=True)
class Invalid:
    """An example the rule must flag, once, on ``line`` (1-based, within the example)."""

    source: str
    line: int


class Rule:
    """Base class of every rule. A subclass lives alone in its module, with its benchmark.

    Detector hooks are ``visit_<Node>(node)`` and ``leave_<Node>(node)`` methods named after
    libcst node classes; the engine calls them during its single traversal, with the shared
    knowledge (imports, arrays, loops) already up to date at that point of the file.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    family: ClassVar[Family]
    summary: ClassVar[str]
    message: ClassVar[str]
    fix_title: ClassVar[str]
    fix_safety: ClassVar[str]
    autofix: ClassVar[bool] = False
    default_enabled: ClassVar[bool] = True
    # The rule can fire only in a file whose text contains one of these strings (an import of
    # the library, even aliased, names it); files without any are never given to the rule.
    required_text: ClassVar[tuple[str, ...]] = ()
    reported_at: ClassVar[str]

    what_it_does: ClassVar[str]
    why_bad: ClassVar[str]
    example: ClassVar[str]
    use_instead: ClassVar[str]
    fix_safety_note: ClassVar[str]

    VALID: ClassVar[tuple[str, ...]]
    INVALID: ClassVar[tuple[Invalid, ...]]
    benchmark: ClassVar[Optional["Benchmark"]] = None

    def __init__(self, context: "FileContext") -> None:
        self.context = context

    def report(self, node: cst.CSTNode, message: Optional[str] = None, fix: Optional[Fix] = None) -> None:
        self.context.report(self, node, message or self.message, fix)
