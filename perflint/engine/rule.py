"""The rule base class: metadata, detector hooks, documentation, examples and benchmark."""

from __future__ import annotations

import string
import textwrap
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Callable, ClassVar, Union

import libcst as cst

from perflint.engine.roles import Frequency

# Rules import the safeties from here, with the rest of what a rule module needs.
from perflint.engine.safety import FIX_SAFE, FIX_SAFETIES, FIX_UNSAFE, FixSafety  # noqa: F401

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext
    from perflint.engine.rewrite import InsertBefore
    from perflint.measure.spec import Benchmark


@dataclass(frozen=True)
class Family:
    """A group of rules sharing a code prefix (``PFL1``: vectorisation, …)."""

    prefix: str
    name: str
    description: str


class MessageTemplateError(TypeError):
    """A rule's message template is malformed, or a finding was reported with it unformatted."""


@cache
def message_fields(template: str) -> tuple[str, ...]:
    """The named fields of a rule's message template (``"`{call}` converts `{array}`"`` has
    ``call`` and ``array``), in order of first use. A positional or empty field (``{}``,
    ``{0}``), or a template ``str.format`` cannot read, raises ``MessageTemplateError``."""
    fields: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise MessageTemplateError(f"unreadable message template {template!r}: {error}") from None
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if not field.isidentifier():
            raise MessageTemplateError(f"message template {template!r}: field {{{field}}} must be a plain name")
        if field not in fields:
            fields.append(field)
    return tuple(fields)


def example_code(text: str) -> str:
    '''The code of a VALID or INVALID example, as written in a rule module.

    Examples are triple-quoted and indented with the code around them, as Fixit's and
    TorchFix's fixtures are::

        VALID = (
            """
            import torch
            x = torch.zeros(3, device=device)
            """,
        )

    The text is dedented (``textwrap.dedent``: the common leading whitespace of its non-blank
    lines goes), and the line break right after the opening quotes is dropped, so **line 1
    is the first line after the opening quotes**, here ``import torch``. Columns count from
    1 at the dedented left margin. Text without that opening line break (a plain one-line
    string) starts at line 1 as written.
    '''
    code = textwrap.dedent(text)
    return code[1:] if code.startswith("\n") else code


# What a changed node becomes: a node; several statements (``cst.FlattenSentinel``) or none
# (``cst.RemovalSentinel.REMOVE``) in place of one statement; or a function of the node as the
# fix's other changes left it (to wrap a loop whose body another change edits).
Replacement = Union[
    cst.CSTNode,
    cst.FlattenSentinel,
    cst.RemovalSentinel,
    Callable[[cst.CSTNode], Union[cst.CSTNode, cst.FlattenSentinel, cst.RemovalSentinel]],
]


@dataclass(frozen=True)
class Change:
    """One node of the parsed file and what it becomes."""

    target: cst.CSTNode
    replacement: Replacement


@dataclass(frozen=True)
class Fix:
    """What a rule proposes with a finding, as changes to nodes of the file it was given
    (``Change``, or ``rewrite.InsertBefore`` to add statements before the one holding a node).

    ``imports`` are statements the changed code needs that the file lacks (``"import torch"``);
    they are added after the file's leading imports, and nothing else in the import block
    moves. ``safety`` and ``title`` override the rule's ``fix_safety`` and ``fix_title`` for
    this one fix (PFL201's fix is safe for ``torch.zeros`` and unsafe for ``torch.randn``).
    The engine turns a fix into text edits (``perflint.engine.fixes``): formatting and
    comments outside the changed nodes are kept as they are.
    """

    changes: tuple[Change | InsertBefore, ...]
    imports: tuple[str, ...] = ()
    safety: FixSafety | None = None
    title: str | None = None

    def __post_init__(self) -> None:
        if not self.changes:
            raise ValueError("a fix changes at least one node")
        if self.safety is not None and self.safety not in FIX_SAFETIES:
            raise ValueError(f"fix safety must be one of {FIX_SAFETIES}, not {self.safety!r}")

    @classmethod
    def replace(
        cls,
        target: cst.CSTNode,
        replacement: Replacement,
        *,
        imports: tuple[str, ...] = (),
        safety: FixSafety | None = None,
        title: str | None = None,
    ) -> Fix:
        """The fix that changes one node."""
        return cls((Change(target, replacement),), imports, safety, title)


# ``Invalid(..., fixed=NO_FIX)``: this finding of a rule with an autofix carries no fix.
NO_FIX = "<no fix>"


@dataclass(frozen=True)
class Invalid:
    """An example the rule must flag, exactly once, at ``line`` (and ``column`` if given).

    ``source`` is written like any example and read through ``example_code``, which says
    which line is line 1. ``column`` is 1-based, like a finding's. ``fixed`` is the source
    the example becomes under ``--fix --unsafe-fixes`` (read through ``example_code`` too);
    every INVALID example of a rule with an autofix declares it, and one whose finding
    carries no fix says so with ``fixed=NO_FIX``.
    """

    source: str
    line: int
    column: int | None = None
    fixed: str | None = None

    @property
    def code(self) -> str:
        return example_code(self.source)

    @property
    def fixed_code(self) -> str | None:
        return None if self.fixed is None or self.fixed == NO_FIX else example_code(self.fixed)


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
    fix_safety: ClassVar[FixSafety]
    # The safeties of the fixes the rule offers when they differ from one fix to another
    # (PFL201's is safe for ``torch.zeros`` and unsafe for ``torch.randn``); empty: all are
    # ``fix_safety``. The examples test says the INVALID examples show each.
    fix_safeties: ClassVar[tuple[FixSafety, ...]] = ()
    autofix: ClassVar[bool] = False
    default_enabled: ClassVar[bool] = True
    # The rule can fire only in a file whose text contains one of these strings (an import of
    # the library, even aliased, names it); files without any are never given to the rule.
    required_text: ClassVar[tuple[str, ...]] = ()
    # The cost the rule reports is paid each time the code runs: the rule stays silent in cold
    # code (set-up, data preparation, plotting, entry points; see ``FileContext.frequency``),
    # and its findings carry the evidence that the code repeats.
    paid_per_execution: ClassVar[bool] = False
    # The cost the rule reports is the interpreter's (a Python loop's iterations, a Python call
    # per element): code a JIT compiler compiles, or a CUDA graph captures, does not pay it, and
    # the rule stays silent there (see ``FileContext.in_compiled_code``).
    paid_in_the_interpreter: ClassVar[bool] = False
    reported_at: ClassVar[str]

    what_it_does: ClassVar[str]
    # Where the rule's judgement stops: what it leaves alone on purpose, what it cannot see, and
    # for an opt-in rule why it is off by default (Ruff's "Known problems").
    known_limitations: ClassVar[str]
    why_bad: ClassVar[str]
    example: ClassVar[str]
    use_instead: ClassVar[str]
    fix_safety_note: ClassVar[str]

    # Examples, each read through ``example_code``: VALID ones the rule leaves alone, INVALID
    # ones it flags once. Each must contain the rule's ``required_text``, so that the detector
    # itself, not the text pre-filter, decides.
    VALID: ClassVar[tuple[str, ...]]
    INVALID: ClassVar[tuple[Invalid, ...]]
    benchmark: ClassVar[Benchmark | None] = None

    def __init__(self, context: FileContext) -> None:
        self.context = context

    @classmethod
    def fix_safety_label(cls) -> str:
        """``safe``, ``unsafe``, or ``safe or unsafe`` for a rule whose fixes differ."""
        return " or ".join(cls.fix_safeties or (cls.fix_safety,))

    def report(
        self, node: cst.CSTNode, message: str | None = None, fix: Fix | None = None, size: int | None = None
    ) -> None:
        """Report ``node``. ``message`` is the rule's template with its fields filled in
        (``self.message.format(...)``); only a rule whose template has no fields may leave it out.
        ``size`` is what the code states of the benchmark's size (in its ``size_unit``: a loop's
        trip count, a matrix's order; read through ``engine.sizes``), so that ``--measure`` reads
        the time saved nearest it; None where it is unknown.
        A rule ``paid_in_the_interpreter`` reports nothing in compiled code.
        Nothing is reported in code that never runs (``Frequency.NEVER``: ``if 11 < 3:``, after a
        ``raise``), whatever the rule: it costs nothing.
        Reporting the template itself unformatted raises ``MessageTemplateError``, which the
        engine turns into an internal-error finding, so no user ever reads ``{braces}``."""
        if (message is None or message == self.message) and message_fields(self.message):
            raise MessageTemplateError(
                f"{self.code} reported its message template unformatted; its fields are "
                + ", ".join(message_fields(self.message))
            )
        if self.paid_in_the_interpreter and self.context.in_compiled_code():
            return
        estimate = self.context.frequency()
        if estimate.frequency is Frequency.NEVER:
            return
        evidence = None
        if self.paid_per_execution:
            if estimate.frequency is Frequency.COLD:
                return
            evidence = estimate.evidence if estimate.repeats else None
        self.context.report(self, node, message or self.message, fix, evidence, size)
