"""PFL304: one SQL statement (or one commit) per iteration where one batched call would do."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import syntax_children
from perflint.measure.spec import Benchmark, Target
from perflint.rules.data_loading import FAMILY

EXECUTE = catalog.listed_method("execute")
EXECUTEMANY = catalog.listed_method("executemany")
COMMIT = catalog.listed_method("commit")


class ExecutePerRow(Rule):
    """``cursor.execute("INSERT …", row)`` or ``connection.commit()`` on every iteration."""

    code = "PFL304"
    name = "execute-per-row"
    family = FAMILY
    summary = "One SQL write statement, or one commit, per loop iteration"
    message = (
        "`{receiver}.execute(...)` runs one {statement} per iteration: collect the parameters "
        "and call `{receiver}.executemany(...)` once"
    )
    message_commit = "`{receiver}.commit()` ends a transaction on every iteration: commit once, after the loop"
    fix_title = "Batch the rows with `executemany` and commit once after the loop"
    fix_safety = FIX_UNSAFE
    required_text = ("execute",)
    reported_at = "the `execute(...)` or `commit()` call"

    what_it_does = (
        "Inside a loop or comprehension, on every iteration (not under a condition that depends on "
        "the loop): flags a DB-API `.execute(sql, parameters)` whose SQL is a string literal starting"
        " with `INSERT`, `UPDATE`, `DELETE` or `REPLACE`, and a `.commit()` without arguments in a "
        "loop that also executes SQL."
    )
    known_limitations = (
        "SQL built per iteration (an f-string, a variable), a statement without parameters, a "
        "`SELECT`, and a commit every N iterations are left alone."
    )
    why_bad = (
        "Every `execute` goes through the driver's statement handling and, for a server "
        "database, a network round trip; every `commit` ends a transaction, which on a "
        "durable database waits for the write-ahead log to reach the disk. `executemany` "
        "prepares the statement once and sends all the rows together (drivers batch them), "
        "and one commit pays for durability once. On an in-memory SQLite database, inserting "
        "rows one `execute` and one `commit` at a time takes several times as long as one "
        "`executemany` and one commit; against a server or a file on disk the gap is far "
        "larger."
    )
    example = """\
for user_id, score in scores:
    cursor.execute("INSERT INTO scores VALUES (?, ?)", (user_id, score))
connection.commit()
"""
    use_instead = """\
cursor.executemany("INSERT INTO scores VALUES (?, ?)", scores)
connection.commit()
"""
    fix_safety_note = (
        "Unsafe: with one commit, the rows become visible to other connections together at "
        "the end, and a failure midway rolls all of them back instead of keeping those "
        "already committed. A loop that reads what it wrote (or whose later statements depend "
        "on `cursor.lastrowid`) cannot be batched as is."
    )

    VALID = (
        # Already batched, committed once.
        """
        cursor.executemany("INSERT INTO t VALUES (?, ?)", rows)
        for table in tables:
            print(table)
        connection.commit()
        """,
        # Reading, SQL built per iteration, a statement without parameters.
        """
        for key in keys:
            cursor.execute("SELECT value FROM t WHERE key = ?", (key,))
            cursor.execute(f"INSERT INTO {key} VALUES (1)")
            cursor.execute("DELETE FROM staging")
        """,
        # Commit every N rows; a commit in a loop that runs no SQL (a git repository).
        """
        for i, key in enumerate(keys):
            cursor.execute("SELECT value FROM t WHERE key = ?", (key,))
            if i % 1000 == 0:
                connection.commit()
        for change in changes:
            repo.commit()
        """,
    )
    INVALID = (
        Invalid(
            """
            for user_id, score in scores:
                cursor.execute("INSERT INTO scores VALUES (?, ?)", (user_id, score))
            """,
            line=2,
            column=5,
        ),
        Invalid(
            """
            import sqlite3
            def mark_done(db, ids):
                for i in ids:
                    db.execute(\"\"\"
                        update jobs set done = 1 where id = ?
                    \"\"\", (i,))
            """,
            line=4,
        ),
        # The commit; the execute is not a row write.
        Invalid(
            """
            for path in paths:
                cur.execute(query_for(path), (path,))
                conn.commit()
            """,
            line=3,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        loop = self.context.innermost_loop
        func = node.func
        if loop is None or type(func) is not cst.Attribute:
            return
        method = func.attr.value
        if method == EXECUTE.name:
            statement = self._row_write(node)
            if statement is not None and self.context.runs_every_iteration():
                self.report(node, self.message.format(receiver=_render(func.value), statement=statement))
        elif method == COMMIT.name and not node.args:
            if self.context.runs_every_iteration() and _executes_sql(loop.node):
                self.report(node, self.message_commit.format(receiver=_render(func.value)))

    def _row_write(self, call: cst.Call) -> str | None:
        """``"INSERT"`` … for an ``execute`` of a literal row-writing statement with parameters."""
        arguments = catalog.bind(call, EXECUTE)
        operation = arguments.argument("operation") if arguments is not None else None
        if operation is None or arguments is None or arguments.argument("parameters") is None:
            return None
        sql = literal_value(operation)
        if not isinstance(sql, str) or not sql.split():
            return None
        first_word = sql.split()[0].upper()
        return f"`{first_word}`" if first_word in catalog.SQL_ROW_WRITES else None


def _render(node: cst.CSTNode) -> str:
    return quote(node)


def _executes_sql(loop: cst.CSTNode) -> bool:
    """The loop calls ``.execute`` or ``.executemany`` somewhere inside it."""
    stack = list(syntax_children(loop))
    while stack:
        node = stack.pop()
        if (
            type(node) is cst.Call
            and type(node.func) is cst.Attribute
            and node.func.attr.value in (EXECUTE.name, EXECUTEMANY.name)
        ):
            return True
        stack.extend(syntax_children(node))
    return False


_INSERT = "INSERT INTO scores VALUES (?, ?)"


def _setup(size: int, target: Target) -> tuple:
    return ([(index, index * 0.5) for index in range(size)],)


def _fresh_database():
    import sqlite3

    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE scores (id INTEGER, score REAL)")
    connection.commit()
    return connection


def _pattern(rows: list) -> list:
    connection = _fresh_database()
    cursor = connection.cursor()
    for row in rows:
        cursor.execute(_INSERT, row)
        connection.commit()
    result = connection.execute("SELECT count(*), sum(score) FROM scores").fetchall()
    connection.close()
    return result


def _fix(rows: list) -> list:
    connection = _fresh_database()
    cursor = connection.cursor()
    cursor.executemany(_INSERT, rows)
    connection.commit()
    result = connection.execute("SELECT count(*), sum(score) FROM scores").fetchall()
    connection.close()
    return result


ExecutePerRow.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(200, 2000, 20_000),
    check_size=10,
    size_unit="rows inserted into an in-memory SQLite table",
    timed=(
        "Inserting n rows into a fresh in-memory SQLite table: `execute` and `commit` per row against "
        "one `executemany` and one commit."
    ),
)
