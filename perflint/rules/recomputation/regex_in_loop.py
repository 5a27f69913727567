"""PFL403: a literal regular expression looked up again on every iteration of a loop."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.rule import FIX_SAFE, Invalid, Rule
from perflint.measure.spec import Benchmark, Target
from perflint.rules.recomputation import FAMILY

_code = cst.Module([]).code_for_node


class RegexInLoop(Rule):
    """``re.sub(r"\\s+", " ", line)`` in a loop, where a compiled pattern would skip the lookup."""

    code = "PFL403"
    name = "regex-in-loop"
    family = FAMILY
    summary = "Literal regular expression compiled (looked up in re's cache) on every iteration"
    message = "`re.{function}` compiles or looks up {pattern} on every iteration; compile it once at module level"
    fix_title = "Compile the pattern once (`PATTERN = re.compile(...)` at module level) and call its methods"
    fix_safety = FIX_SAFE
    default_enabled = False
    required_text = ("import re", "from re", ", re")
    reported_at = "the `re` call"

    what_it_does = (
        "Flags, inside a loop or comprehension, a call of `re.compile`, `match`, `search`, "
        "`fullmatch`, `findall`, `finditer`, `sub`, `subn` or `split` whose pattern is a string "
        "literal. Off by default (opt-in): the cost is real in a loop over millions of lines "
        "and noise in a loop over a few hundred keys, and the linter cannot tell which. Left "
        "alone: a pattern held in a name or built at run time, and methods of an already "
        "compiled pattern."
    )
    why_bad = (
        "The `re` module functions compile their pattern on every call; a small cache makes the "
        "repeat a dictionary lookup keyed by pattern and flags, but the lookup, the type checks "
        "and the extra call still cost a few hundred nanoseconds per call, more than the "
        "compiled pattern's method takes on a short string (`perflint bench PFL403` measures "
        "both on your machine). A pattern that falls out of the cache is compiled again in full."
    )
    example = """\
import re

def normalise(lines):
    return [re.sub(r"\\s+", " ", line) for line in lines]
"""
    use_instead = """\
import re

WHITESPACE = re.compile(r"\\s+")

def normalise(lines):
    return [WHITESPACE.sub(" ", line) for line in lines]
"""
    fix_safety_note = (
        "Safe: a compiled pattern's methods behave exactly as the module functions given the "
        "same pattern and flags."
    )

    VALID = (
        # Compiled once, and the compiled pattern used in the loop.
        """
        import re
        WORD = re.compile(r"\\w+")
        counts = [len(WORD.findall(line)) for line in lines]
        """,
        # A pattern held in a name or built per iteration.
        """
        import re
        for key in keys:
            if re.match(pattern, key):
                pass
            re.search(f"^{key}", text)
        """,
        # Outside any loop.
        """
        import re
        parts = re.split(r",\\s*", header)
        """,
    )
    INVALID = (
        Invalid(
            """
            import re
            for line in lines:
                words = re.findall(r"\\w+", line)
            """,
            line=3,
            column=13,
        ),
        Invalid(
            """
            import re
            cleaned = [re.sub("[^a-z]", "", word.lower()) for word in words]
            """,
            line=2,
        ),
        Invalid(
            """
            import re as regex
            while queue:
                key = queue.pop()
                if regex.fullmatch(pattern=r"layer\\.\\d+\\.weight", string=key):
                    pass
            """,
            line=4,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.innermost_loop is None:
            return
        record = catalog.lookup(self.context.imports.qualified_name(node.func))
        if record is None or not record.has(catalog.Flag.COMPILES_PATTERN):
            return
        bound = catalog.bind(node, record)
        pattern = bound.argument("pattern") if bound is not None else None
        if isinstance(pattern, (cst.SimpleString, cst.ConcatenatedString)) and not _is_formatted(pattern):
            self.report(node, self.message.format(function=record.function_name, pattern=_code(pattern)))


def _is_formatted(string: cst.BaseExpression) -> bool:
    if isinstance(string, cst.ConcatenatedString):
        return _is_formatted(string.left) or _is_formatted(string.right)
    return not isinstance(string, cst.SimpleString)


def _setup(size: int, target: Target) -> tuple:
    lines = [f"token_{index}   value\t{index * 7}  end" for index in range(size)]
    return (lines,)


def _pattern(lines):
    import re

    return [re.sub(r"\s+", " ", line) for line in lines]


def _fix(lines):
    import re

    whitespace = re.compile(r"\s+")
    return [whitespace.sub(" ", line) for line in lines]


RegexInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(100, 1_000, 10_000),
    check_size=10,
    size_unit="short lines",
)
