"""PFL303: the same file opened for writing on every iteration of a loop."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_SAFE, Invalid, Rule
from perflint.measure.spec import Benchmark, Target
from perflint.rules.data_loading import FAMILY

OPEN = catalog.listed("builtins.open")


class OpenInLoop(Rule):
    """``open(path, "a")`` or ``open(path, "w")`` inside a loop, ``path`` the same every time."""

    code = "PFL303"
    name = "open-in-loop"
    family = FAMILY
    summary = "The same file opened for appending or writing on every iteration of a loop"
    message = "`{call}` opens and closes `{path}` on every iteration: open it once, around the loop"
    message_truncates = (
        "`{call}` truncates `{path}` on every iteration, so only the last iteration's writes "
        "survive; if all of them should, open it once around the loop"
    )
    fix_title = "Open the file once, before the loop, and write to it inside"
    fix_safety = FIX_SAFE
    # Opt-in: none of its 3 findings worth fixing on code it was not tuned on
    # (benchmarks/results/precision/round7/dev_set_round7.md; its known limitations say why).
    default_enabled = False
    required_text = ("open(",)
    reported_at = "the `open(...)` call"

    what_it_does = (
        "Flags a call of the builtin `open` inside a loop or comprehension with a literal mode that "
        'appends (`"a"`, `"ab"`, `"a+"`…) or writes (`"w"`, `"wb"`…), when the path is the same on '
        "every iteration (nothing in it is a loop variable or changed by the loop) and the call runs "
        "on every iteration (not under a condition that depends on the loop, such as `if step % 100 "
        "== 0:`)."
    )
    known_limitations = (
        "A path that changes per iteration, a mode that only reads, a non-literal mode, and a retry "
        "loop (one that ends when a `try` around the work gets through: `while not ok: try: …; ok = "
        "True; except IOError: …`) are left alone."
        " Opt-in since round 7 of the precision review: over every review of code it had not been tuned "
        "on (`benchmarks/results/precision/round5/track_record.md`, "
        "`benchmarks/results/precision/round7/dev_set_round7.md`), none of its 3 findings was worth "
        "fixing. Each appended a line per iteration of a loop whose iterations are far heavier: once "
        "per notebook cell in a one-off export (tsai), once per training split after a validation "
        "pass and a checkpoint (flair's language-model trainer), and once per watched weight in a "
        "debugging option that runs ten times an epoch (flair's `WeightExtractor`). Worth it where a "
        "line is appended per sample or per step of a fast loop."
    )
    why_bad = (
        "Each `open` is a system call to look the path up and create a file descriptor, each "
        "close flushes the buffer with a `write` system call, and appending seeks to the end "
        "first: a few microseconds to tens of microseconds per iteration on a local disk, "
        "much more on a network file system, against well under a microsecond for a buffered "
        '`write` to a file that stays open. In write mode (`"w"`) it is usually a bug as '
        "well: the file is truncated on every iteration and keeps only the last one's lines."
    )
    example = """\
for step, loss in enumerate(losses):
    with open(log_path, "a") as log:
        log.write(f"{step},{loss}\\n")
"""
    use_instead = """\
with open(log_path, "a") as log:
    for step, loss in enumerate(losses):
        log.write(f"{step},{loss}\\n")
"""
    fix_safety_note = (
        "Safe for append mode: the file ends with the same content. What changes is when "
        "the bytes reach the disk: written in buffered blocks and at the end of the loop "
        "rather than at the end of every iteration, so a reader watching the file (or a "
        "crash in the middle) sees fewer lines; call `log.flush()` where that matters. For "
        "write mode the fix keeps every iteration's output instead of the last one's."
    )

    VALID = (
        # A different file on every iteration.
        """
        for i, chunk in enumerate(chunks):
            with open(f"part-{i}.txt", "w") as out:
                out.write(chunk)
        for name in names:
            open(name, "a").close()
        """,
        # Only reading, or a mode decided elsewhere.
        """
        for line in lines:
            with open(vocabulary_path) as vocabulary:
                words = vocabulary.read().split()
            with open(log_path, mode) as log:
                log.write(line)
        """,
        # Periodic, not per iteration; and opened once around the loop.
        """
        with open(log_path, "a") as log:
            for step, loss in enumerate(losses):
                log.write(f"{loss}\\n")
                if step % 100 == 0:
                    with open(summary_path, "a") as summary:
                        summary.write(f"{step}\\n")
        """,
        # Not the builtin.
        """
        from storage import open
        for record in records:
            with open(bucket, "a") as out:
                out.write(record)
        """,
        # A retry loop around an `except`: the file is opened again only after a failure.
        """
        import time
        def save(state, path):
            saved = False
            while not saved:
                try:
                    with open(path, "w") as out:
                        out.write(state)
                    saved = True
                except IOError:
                    time.sleep(1)
            for attempt in range(3):
                try:
                    with open(path, "a") as log:
                        log.write("saved\\n")
                    break
                except OSError:
                    time.sleep(1)
        """,
        # A retry bounded by a count: `and`-ed with the flag, it still ends when the write succeeds.
        """
        import time
        def print_to_log_file(self, *args):
            successful = False
            attempts = 0
            while not successful and attempts < 5:
                try:
                    with open(self.log_file, "a+") as f:
                        for a in args:
                            f.write(str(a))
                    successful = True
                except IOError:
                    time.sleep(0.5)
                    attempts += 1
        """,
    )
    INVALID = (
        Invalid(
            """
            for step, loss in enumerate(losses):
                with open(log_path, "a") as log:
                    log.write(f"{step},{loss}\\n")
            """,
            line=2,
            column=10,
        ),
        Invalid(
            """
            def save(results, path):
                for result in results:
                    f = open(path, mode="ab")
                    f.write(result)
                    f.close()
            """,
            line=3,
        ),
        # Write mode in a loop: the file is truncated each time.
        Invalid(
            """
            while not done:
                done, state = step(state)
                with open("state.json", "w") as out:
                    out.write(state)
            """,
            line=3,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.innermost_loop is None:
            return
        if not self.context.imports.is_builtin(node.func, OPEN.function_name):
            return
        arguments = catalog.bind(node, OPEN)
        if arguments is None or not arguments.is_known("mode"):
            return
        path, mode = arguments.argument("file"), arguments.argument("mode")
        mode_text = literal_value(mode) if mode is not None else None
        if path is None or not isinstance(mode_text, str) or not ("a" in mode_text or "w" in mode_text):
            return
        if not self.context.runs_every_iteration() or not self.context.is_invariant(path):
            return
        if self.context.innermost_loop.is_retry:
            # ``while not ok: try: …; ok = True; except IOError: sleep()``: it opens again only
            # after a failure, not once per item.
            return
        template = self.message if "a" in mode_text else self.message_truncates
        self.report(node, template.format(call=quote(node), path=quote(path)))


_LINE = "step,loss,accuracy\n"


def _setup(size: int, target: Target) -> tuple:
    import atexit
    import os
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="perflint-pfl303-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return os.path.join(folder, "log.csv"), [_LINE] * size


def _pattern(path: str, lines: list) -> str:
    open(path, "w").close()
    for line in lines:
        with open(path, "a") as log:
            log.write(line)
    with open(path) as log:
        return log.read()


def _fix(path: str, lines: list) -> str:
    with open(path, "w") as log:
        for line in lines:
            log.write(line)
    with open(path) as log:
        return log.read()


OpenInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(100, 1000, 10_000),
    check_size=10,
    size_unit="lines appended to a file in a temporary folder",
    timed=(
        "Appending n short lines to a file: opening the file for every line against opening it once; "
        "the file is then read back on both sides."
    ),
)
