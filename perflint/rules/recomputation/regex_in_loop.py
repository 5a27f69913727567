"""PFL403: a literal regular expression looked up again on every iteration of a loop."""

from __future__ import annotations

import re
from typing import Optional, Union

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import dotted_name
from perflint.engine.quoting import quote
from perflint.engine.rewrite import NewNames, assignment, code_of
from perflint.engine.rule import FIX_SAFE, NO_FIX, Change, Fix, Invalid, Rule
from perflint.measure.spec import Benchmark, Target
from perflint.rules.recomputation import FAMILY



class RegexInLoop(Rule):
    """``re.sub(r"\\s+", " ", line)`` in a loop, where a compiled pattern would skip the lookup."""

    code = "PFL403"
    name = "regex-in-loop"
    family = FAMILY
    summary = "Literal regular expression compiled (looked up in re's cache) on every iteration"
    message = "`re.{function}` compiles or looks up {pattern} on every iteration; compile it once at module level"
    fix_title = "Compile the pattern once (`PATTERN = re.compile(...)` at module level) and call its methods"
    fix_safety = FIX_SAFE
    autofix = True
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
        "The fix compiles the pattern once, as a module-level constant named after the "
        "pattern's words (`LAYER_WEIGHT_PATTERN = re.compile(r\"layer\\.\\d+\\.weight\")`, "
        "with the call's flags) right above the top-level statement holding the loop, and "
        "calls the compiled pattern's method with the call's other arguments "
        "(`LAYER_WEIGHT_PATTERN.fullmatch(key)`). It is safe: a compiled pattern's methods "
        "give exactly what the module functions give for the same pattern and flags (the "
        "functions compile the pattern, or take it from their cache, and call the same "
        "method). Compiling moves to import time, so the fix is offered only where that cannot "
        "be noticed: the pattern is a literal that compiles, the flags are `re` constants "
        "(not `re.DEBUG`, which prints, nor `re.LOCALE`), and `re` is imported at module level "
        "above the statement; otherwise the finding has no fix."
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
            fixed="""
            import re
            FINDALL_PATTERN = re.compile(r"\\w+")
            for line in lines:
                words = FINDALL_PATTERN.findall(line)
            """,
        ),
        Invalid(
            """
            import re
            cleaned = [re.sub("[^a-z]", "", word.lower()) for word in words]
            """,
            line=2,
            fixed="""
            import re
            SUB_PATTERN = re.compile("[^a-z]")
            cleaned = [SUB_PATTERN.sub("", word.lower()) for word in words]
            """,
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
            fixed="""
            import re as regex
            LAYER_WEIGHT_PATTERN = regex.compile(r"layer\\.\\d+\\.weight")
            while queue:
                key = queue.pop()
                if LAYER_WEIGHT_PATTERN.fullmatch(string=key):
                    pass
            """,
        ),
        # Flags go to the compiled pattern, the other arguments stay in the call; the constant
        # takes the blank lines before the function too, the function keeps its comment.
        Invalid(
            """
            import re


            # Collapse runs of blanks.
            def normalise(lines):
                return [
                    re.sub(
                        r"hello\\s+world",
                        "hello world",
                        line,
                        1,
                        re.IGNORECASE | re.MULTILINE,
                    )
                    for line in lines
                ]
            """,
            line=7,
            column=9,
            fixed="""
            import re


            HELLO_WORLD_PATTERN = re.compile(r"hello\\s+world", re.IGNORECASE | re.MULTILINE)


            # Collapse runs of blanks.
            def normalise(lines):
                return [
                    HELLO_WORLD_PATTERN.sub(
                        "hello world",
                        line,
                        1,
                    )
                    for line in lines
                ]
            """,
        ),
        # `re.compile` itself in the loop: the constant takes its place.
        Invalid(
            """
            import re
            def count(lines):
                return sum(1 for line in lines if re.compile(r"^#", flags=re.M).search(line))
            """,
            line=3,
            fixed="""
            import re
            COMPILE_PATTERN = re.compile(r"^#", re.M)
            def count(lines):
                return sum(1 for line in lines if COMPILE_PATTERN.search(line))
            """,
        ),
        # Flags held in a name: they may not be known at import time.
        Invalid(
            """
            import re
            def find(lines, flags):
                return [re.search(r"error", line, flags) for line in lines]
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # A pattern that does not compile: compiled at import, it would fail even if the loop
        # never ran.
        Invalid(
            """
            import re
            def find(lines):
                return [re.search(r"error(", line) for line in lines]
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # `re` imported inside the function: there is no `re` at module level.
        Invalid(
            """
            def find(lines):
                import re
                return [re.search(r"error", line) for line in lines]
            """,
            line=3,
            fixed=NO_FIX,
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
            self.report(node, self.message.format(function=record.function_name, pattern=quote(pattern)),
                        fix=self._compiled_once(node, record.function_name, pattern, bound.argument("flags")))

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        self._new_names = NewNames()
        # Per pattern and flags: the top-level statement its constant goes above, the first
        # to need it. Fixes of one pass that compile the same pattern then insert the same
        # text at the same place, which is made once.
        self._constant_places: dict[str, cst.BaseStatement] = {}

    def _compiled_once(self, call: cst.Call, function: str, pattern: cst.BaseExpression,
                       flags: Optional[cst.BaseExpression]) -> Optional[Fix]:
        """``NAME = re.compile(pattern, flags)`` above the top-level statement holding the
        call (or the first one holding a call with the same pattern and flags), and the call
        made a method call of ``NAME`` without the pattern and the flags.
        None when the pattern or the flags would not compile at import time exactly as they
        do in the loop: a pattern that does not compile (the error would come at import, even
        if the loop never runs), flags other than ``re`` constants, ``re.DEBUG`` (it prints),
        or an ``re`` that is not imported at module level above the statement."""
        value = _constant_pattern(pattern)
        flag_value = _constant_flags(flags, self.context.imports) if flags is not None else 0
        if value is None or flag_value is None or flag_value & (re.DEBUG | re.LOCALE):
            return None
        try:
            re.compile(value, flag_value)
        except (re.error, TypeError, ValueError, OverflowError, RecursionError):
            return None
        top = self.context.path_to(call)[1]
        held = f"{code_of(pattern)}, {code_of(flags) if flags is not None else 0}"
        place = self._constant_places.setdefault(held, top)
        compile_function = self._module_level_reference(place)
        if compile_function is None:
            return None
        name = self._new_names.name(self.context, _pattern_name(value, function), held)
        compile_arguments = [cst.Arg(pattern)]
        if flags is not None:
            compile_arguments = [cst.Arg(pattern, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                                 cst.Arg(flags)]
        constant = assignment(name, cst.Call(compile_function, compile_arguments))
        kept = [arg for arg in call.args if arg.value is not pattern and arg.value is not flags]
        if kept and kept[-1] is not call.args[-1]:
            # The last argument went: the new last one ends the call as it ended.
            last = call.args[-1]
            kept[-1] = kept[-1].with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
        method = call.with_changes(func=cst.Attribute(cst.Name(name), cst.Name(function)), args=kept)
        blank_lines = []
        for line in place.leading_lines:
            if line.comment is not None:
                break
            blank_lines.append(line)
        constant = constant.with_changes(leading_lines=blank_lines)
        replacement = cst.Name(name) if function == "compile" else method
        return Fix((Change(call, replacement),
                    Change(place, lambda updated: cst.FlattenSentinel([constant, updated]))),
                   title=f"Compile the pattern once at module level as `{name}` and call `{name}.{function}`"
                   if function != "compile" else f"Compile the pattern once at module level as `{name}`")

    def _module_level_reference(self, top: cst.BaseStatement) -> Optional[cst.BaseExpression]:
        """``re.compile`` as the module imports it (``regex.compile`` after ``import re as
        regex``) in a top-level statement above ``top``; None when no such import binds it."""
        for statement in self._module.body:
            if statement is top:
                return None
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.Import):
                    continue
                for alias in small.names:
                    if dotted_name(alias.name) == "re":
                        bound = alias.asname.name.value if alias.asname is not None else "re"
                        if self.context.imports.qualified_name(cst.Name(bound)) == "re":
                            return cst.Attribute(cst.Name(bound), cst.Name("compile"))
        return None


def _constant_pattern(pattern: cst.BaseExpression) -> Union[str, bytes, None]:
    if isinstance(pattern, cst.ConcatenatedString):
        left, right = _constant_pattern(pattern.left), _constant_pattern(pattern.right)
        return left + right if left is not None and right is not None and type(left) is type(right) else None
    value = pattern.evaluated_value if isinstance(pattern, cst.SimpleString) else None
    return value if isinstance(value, (str, bytes)) else None


def _constant_flags(flags: cst.BaseExpression, imports) -> Optional[int]:
    """The value of flags written as ``re`` constants joined by ``|`` (``re.I | re.M``), or 0."""
    if isinstance(flags, cst.BinaryOperation) and isinstance(flags.operator, cst.BitOr):
        left, right = _constant_flags(flags.left, imports), _constant_flags(flags.right, imports)
        return left | right if left is not None and right is not None else None
    if isinstance(flags, cst.Integer) and flags.evaluated_value == 0:
        return 0
    qualified = imports.qualified_name(flags)
    if qualified is None or not qualified.startswith("re."):
        return None
    value = getattr(re, qualified[len("re."):], None)
    return int(value) if isinstance(value, re.RegexFlag) else None


def _pattern_name(pattern: Union[str, bytes], function: str) -> str:
    """``LAYER_WEIGHT_PATTERN`` for ``r"layer\\.\\d+\\.weight"``: the pattern's words (escapes
    and character sets dropped), else the function's name (``FINDALL_PATTERN``)."""
    text = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
    words = re.findall(r"[A-Za-z]{2,}", re.sub(r"\[[^]]*]", " ", re.sub(r"\\.", " ", text)))[:3]
    return "_".join(words or [function]).upper() + "_PATTERN"


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
