"""PFL403: a literal regular expression looked up again on every iteration of a loop."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Union, cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import dotted_name
from perflint.engine.literals import integer_value, string_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import NewNames, assignment, code_of
from perflint.engine.rule import FIX_SAFE, NO_FIX, Change, Fix, Invalid, Rule
from perflint.engine.sizes import trip_count
from perflint.measure.spec import Benchmark, Target
from perflint.rules.recomputation import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

# A statement of the module (one with leading lines, where a constant can go before it).
_Statement = Union[cst.SimpleStatementLine, cst.BaseCompoundStatement]


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
        "literal."
    )
    known_limitations = (
        "Off by default (opt-in): the cost is real in a loop over millions of lines and noise in a "
        "loop over a few hundred keys, and the linter cannot tell which. Left alone: a pattern held "
        "in a name or built at run time, and methods of an already compiled pattern."
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

_WHITESPACE_PATTERN = re.compile(r"\\s+")

def normalise(lines):
    return [_WHITESPACE_PATTERN.sub(" ", line) for line in lines]
"""
    fix_safety_note = (
        "The fix compiles the pattern once, as a private module-level constant named after the "
        'pattern\'s words (`_LAYER_WEIGHT_PATTERN = re.compile(r"layer\\.\\d+\\.weight")`, '
        'with the call\'s flags), or after what a pattern without words matches (`r"\\s+"`: '
        "`_WHITESPACE_PATTERN`), placed after the file's leading imports (right above the "
        "top-level statement holding the loop when `re` is imported further down), and "
        "calls the compiled pattern's method with the call's other arguments "
        "(`_LAYER_WEIGHT_PATTERN.fullmatch(key)`), their layout and comments kept; no fix is "
        "offered when the pattern's or the flags' line carries a comment, which would be lost. It is safe: a compiled pattern's methods "
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

            _WORD_PATTERN = re.compile(r"\\w+")
            for line in lines:
                words = _WORD_PATTERN.findall(line)
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

            _NON_LOWERCASE_PATTERN = re.compile("[^a-z]")
            cleaned = [_NON_LOWERCASE_PATTERN.sub("", word.lower()) for word in words]
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

            _LAYER_WEIGHT_PATTERN = regex.compile(r"layer\\.\\d+\\.weight")
            while queue:
                key = queue.pop()
                if _LAYER_WEIGHT_PATTERN.fullmatch(string=key):
                    pass
            """,
        ),
        # Flags go to the compiled pattern, the other arguments stay in the call; the constant
        # goes after the imports, the function keeps its comment.
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

            _HELLO_WORLD_PATTERN = re.compile(r"hello\\s+world", re.IGNORECASE | re.MULTILINE)


            # Collapse runs of blanks.
            def normalise(lines):
                return [
                    _HELLO_WORLD_PATTERN.sub(
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

            _COMMENT_PATTERN = re.compile(r"^#", re.M)
            def count(lines):
                return sum(1 for line in lines if _COMMENT_PATTERN.search(line))
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
        loop = self.context.innermost_loop
        if loop is None:
            return
        record = catalog.lookup(self.context.imports.qualified_name(node.func))
        if record is None or not record.has(catalog.Flag.COMPILES_PATTERN):
            return
        bound = catalog.bind(node, record)
        pattern = bound.argument("pattern") if bound is not None else None
        if (
            bound is not None
            and isinstance(pattern, (cst.SimpleString, cst.ConcatenatedString))
            and not _is_formatted(pattern)
        ):
            self.report(
                node,
                self.message.format(function=record.function_name, pattern=quote(pattern)),
                fix=self._compiled_once(node, record.function_name, pattern, bound.argument("flags")),
                size=trip_count(loop.node, self.context),
            )

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        self._new_names = NewNames()
        # Per pattern and flags: the top-level statement its constant goes above, the first
        # to need it. Fixes of one pass that compile the same pattern then insert the same
        # text at the same place, which is made once.
        self._constant_places: dict[str, _Statement] = {}

    def _compiled_once(
        self, call: cst.Call, function: str, pattern: cst.BaseExpression, flags: cst.BaseExpression | None
    ) -> Fix | None:
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
        removed = [arg for arg in call.args if arg.value is pattern or arg.value is flags]
        if function != "compile" and any(_has_comment(arg) for arg in removed):
            return None  # the comment on a removed argument's line would be lost
        top = cast(_Statement, self.context.path_to(call)[1])  # a statement of the module
        held = f"{code_of(pattern)}, {code_of(flags) if flags is not None else 0}"
        place = self._constant_places.setdefault(held, top)
        compile_function = self._module_level_reference(place)
        if compile_function is None:
            return None
        name = self._new_names.name(self.context, _pattern_name(value, function), held)
        compile_arguments = [cst.Arg(pattern)]
        if flags is not None:
            compile_arguments = [
                cst.Arg(pattern, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Arg(flags),
            ]
        constant = assignment(name, cst.Call(compile_function, compile_arguments))
        kept = [arg for arg in call.args if arg.value is not pattern and arg.value is not flags]
        if kept and kept[-1] is not call.args[-1]:
            # The last argument went: the new last one ends the call as it ended, its own
            # line's comment kept on its line.
            kept[-1] = _ending_as(kept[-1], call.args[-1])
        method = call.with_changes(func=cst.Attribute(cst.Name(name), cst.Name(function)), args=kept)
        replacement = cst.Name(name) if function == "compile" else method
        after_imports, after_constant = self._constants_place()
        if after_imports is not None and self._module_level_reference(after_imports, including=True) is not None:
            # After the imports (and the patterns compiled there), where a reader looks for
            # constants; one blank line between the imports and the first of them.
            constant = constant.with_changes(leading_lines=[] if after_constant else [cst.EmptyLine()])
            insertion = Change(after_imports, lambda updated: cst.FlattenSentinel([updated, constant]))
        else:
            blank_lines = []
            for line in place.leading_lines:
                if line.comment is not None:
                    break
                blank_lines.append(line)
            constant = constant.with_changes(leading_lines=blank_lines)
            insertion = Change(place, lambda updated: cst.FlattenSentinel([constant, updated]))
        return Fix(
            (Change(call, replacement), insertion),
            title=f"Compile the pattern once at module level as `{name}` and call `{name}.{function}`"
            if function != "compile"
            else f"Compile the pattern once at module level as `{name}`",
        )

    def _constants_place(self) -> tuple[cst.SimpleStatementLine | None, bool]:
        """The statement a new pattern constant goes after: the last of the file's leading run
        of imports (after its docstring), or of the patterns compiled right after them; and
        whether that is such a pattern (None when the file does not start with imports)."""
        last, after_constant = None, False
        for index, statement in enumerate(self._module.body):
            line = statement if isinstance(statement, cst.SimpleStatementLine) else None
            small = line.body[0] if line is not None and line.body else None
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not after_constant:
                last = line
            elif last is not None and _compiles_a_pattern(small, self.context):
                last, after_constant = line, True
            elif not (
                index == 0
                and isinstance(small, cst.Expr)
                and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))
            ):
                break
        return last, after_constant

    def _module_level_reference(self, top: cst.BaseStatement, including: bool = False) -> cst.BaseExpression | None:
        """``re.compile`` as the module imports it (``regex.compile`` after ``import re as
        regex``) in a top-level statement above ``top`` (or ``top`` itself, ``including`` it);
        None when no such import binds it."""
        for statement in self._module.body:
            if statement is top and not including:
                return None
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not isinstance(small, cst.Import):
                    continue
                for alias in small.names:
                    if dotted_name(alias.name) == "re":
                        bound = cast(cst.Name, alias.asname.name).value if alias.asname is not None else "re"
                        if self.context.imports.qualified_name(cst.Name(bound)) == "re":
                            return cst.Attribute(cst.Name(bound), cst.Name("compile"))
            if statement is top:
                return None
        return None


def _constant_pattern(pattern: cst.BaseExpression) -> str | bytes | None:
    return string_value(pattern)


def _constant_flags(flags: cst.BaseExpression, imports) -> int | None:
    """The value of flags written as ``re`` constants joined by ``|`` (``re.I | re.M``), or 0."""
    if isinstance(flags, cst.BinaryOperation) and isinstance(flags.operator, cst.BitOr):
        left, right = _constant_flags(flags.left, imports), _constant_flags(flags.right, imports)
        return left | right if left is not None and right is not None else None
    if isinstance(flags, cst.Integer) and integer_value(flags) == 0:
        return 0
    qualified = imports.qualified_name(flags)
    if qualified is None or not qualified.startswith("re."):
        return None
    value = getattr(re, qualified[len("re.") :], None)
    return int(value) if isinstance(value, re.RegexFlag) else None


# What a pattern with no words of its own matches, by its pieces: ``\\s+`` is whitespace.
_PIECE_NAMES = {
    r"\s": "WHITESPACE",
    r"\S": "NON_SPACE",
    r"\d": "DIGITS",
    r"\D": "NON_DIGITS",
    r"\w": "WORD",
    r"\W": "NON_WORD",
    "[^a-z]": "NON_LOWERCASE",
    "[^A-Z]": "NON_UPPERCASE",
    "[^a-zA-Z]": "NON_LETTER",
    "[^A-Za-z]": "NON_LETTER",
    "[a-z]": "LOWERCASE",
    "[A-Z]": "UPPERCASE",
    "[0-9]": "DIGITS",
    "[^0-9]": "NON_DIGITS",
    r"[^\w\s]": "PUNCTUATION",
    "^#": "COMMENT",
    ",": "COMMA",
    ";": "SEMICOLON",
    ":": "COLON",
    r"\.": "DOT",
    "-": "DASH",
    "_": "UNDERSCORE",
    "/": "SLASH",
    r"\|": "PIPE",
    r"\t": "TAB",
    r"\n": "NEWLINE",
    "<[^>]+>": "TAG",
}
_PIECE = re.compile("|".join(re.escape(piece) for piece in sorted(_PIECE_NAMES, key=len, reverse=True)))
_QUANTIFIERS = re.compile(r"(?<!\\)[+*?]|\{\d*,?\d*\}|^\^|\$$")


def _pattern_name(pattern: str | bytes, function: str) -> str:
    """``_LAYER_WEIGHT_PATTERN`` for ``r"layer\\.\\d+\\.weight"``: private, named from the
    pattern's words (escapes and character sets dropped); a pattern without words is named
    from what its pieces match (``r"\\s+"``: ``_WHITESPACE_PATTERN``, ``r",\\s*"``:
    ``_COMMA_WHITESPACE_PATTERN``); else from the function (``_FINDALL_PATTERN``)."""
    text = pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern
    words = re.findall(r"[A-Za-z]{2,}", re.sub(r"\[[^]]*]", " ", re.sub(r"\\.", " ", text)))[:3]
    if not words:
        rest = text if text in _PIECE_NAMES else _QUANTIFIERS.sub("", text)
        pieces: list[str] = []
        while rest:
            piece = _PIECE.match(rest)
            if piece is None:
                pieces = []
                break
            if _PIECE_NAMES[piece.group()] not in pieces[-1:]:
                pieces.append(_PIECE_NAMES[piece.group()])
            rest = rest[piece.end() :]
        words = pieces[:3]
    return "_" + "_".join(words or [function]).upper() + "_PATTERN"


def _compiles_a_pattern(small: cst.BaseSmallStatement | None, context: FileContext) -> bool:
    """``NAME = re.compile(...)``."""
    return (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.value, cst.Call)
        and context.imports.qualified_name(small.value.func) == "re.compile"
    )


def _has_comment(argument: cst.Arg) -> bool:
    """A comment on the argument's line, or on a line of its own after it."""
    spaces = [argument.whitespace_after_arg]
    if isinstance(argument.comma, cst.Comma):
        spaces.append(argument.comma.whitespace_after)
    for space in spaces:
        if isinstance(space, cst.ParenthesizedWhitespace) and (
            space.first_line.comment is not None or any(line.comment is not None for line in space.empty_lines)
        ):
            return True
    return False


def _ending_as(kept: cst.Arg, removed_last: cst.Arg) -> cst.Arg:
    """``kept``, now the call's last argument, ending the call as ``removed_last`` did, with
    the end of ``kept``'s own line (its comment) where it was."""
    own_line = kept.comma.whitespace_after if isinstance(kept.comma, cst.Comma) else None
    comma, after = removed_last.comma, removed_last.whitespace_after_arg
    if isinstance(own_line, cst.ParenthesizedWhitespace):
        if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
            comma = comma.with_changes(
                whitespace_after=comma.whitespace_after.with_changes(first_line=own_line.first_line)
            )
        elif isinstance(after, cst.ParenthesizedWhitespace):
            after = after.with_changes(first_line=own_line.first_line)
    return kept.with_changes(comma=comma, whitespace_after_arg=after)


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
    size_in_code="the loop's trip count (`range(N)`, a literal list written in the loop, a tuple constant)",
    timed=(
        "`re.sub` with a pattern string inside a loop over n short lines against a pattern compiled "
        "once before the loop."
    ),
)
