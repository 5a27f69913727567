"""Run ``perflint check --fix --unsafe-fixes`` over copies of real code and check the result.

For each folder given (an unpacked wheel, say), a copy is linted (JSON: the fixes offered, per
rule), then fixed in place with every fix, safe and unsafe. Then every changed file must still
compile, and every import it gained must be one a fix needed: a name the fixed lines use. The
diffs are written to ``--diffs FILE`` for reading by hand.

    python benchmarks/fix_corpus.py /work/corpus/timm /work/corpus/transformers /work/corpus/diffusers \\
        --select ALL --diffs benchmarks/results/fix_corpus.diff | tee benchmarks/results/fix_corpus.txt
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter


def _imports(source: str) -> set[str]:
    """The import statements of a module, normalised (``import torch``, ``import numpy as np``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.add(ast.unparse(node))
    return found


def _bound_names(statement: str) -> set[str]:
    node = ast.parse(statement).body[0]
    return {(alias.asname or alias.name).split(".")[0] for alias in node.names}


def _python_files(folder: str) -> list[str]:
    found = []
    for root, folders, names in os.walk(folder):
        folders.sort()
        found.extend(os.path.join(root, name) for name in sorted(names) if name.endswith(".py"))
    return found


def _perflint(arguments: list[str], cwd: str) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "perflint",
            "check",
            "--no-cache",
            "--exit-zero",
            "--output-format",
            "json",
            *arguments,
            ".",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"perflint failed ({result.returncode}): {result.stderr.strip()}")
    return json.loads(result.stdout)


def check_folder(folder: str, selection: list[str], diffs: list[str]) -> bool:
    name = os.path.basename(os.path.normpath(folder))
    with tempfile.TemporaryDirectory(prefix=f"fix-{name}-") as scratch:
        copy = os.path.join(scratch, name)
        shutil.copytree(folder, copy)
        before = _perflint(selection, copy)
        offered = Counter(finding["code"] for finding in before["findings"] if finding["fix"] is not None)
        unsafe = sum(
            1 for finding in before["findings"] if finding["fix"] and finding["fix"]["applicability"] == "unsafe"
        )
        started = time.perf_counter()
        after = _perflint([*selection, "--fix", "--unsafe-fixes"], copy)
        seconds = time.perf_counter() - started
        changed = compile_errors = 0
        problems = []
        new_imports: Counter = Counter()
        for path in _python_files(folder):
            relative = os.path.relpath(path, folder)
            with open(path, encoding="utf-8", errors="surrogateescape") as stream:
                old = stream.read()
            with open(os.path.join(copy, relative), encoding="utf-8", errors="surrogateescape") as stream:
                new = stream.read()
            if old == new:
                continue
            changed += 1
            try:
                compile(new, relative, "exec")
            except SyntaxError as error:
                compile_errors += 1
                problems.append(f"{name}/{relative}: does not compile after fixing: {error}")
                continue
            added_lines = [
                line[1:]
                for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="")
                if line.startswith("+") and not line.startswith("+++")
            ]
            for statement in sorted(_imports(new) - _imports(old)):
                new_imports[statement] += 1
                used = any(
                    name in line
                    for name in _bound_names(statement)
                    for line in added_lines
                    if not line.lstrip().startswith(("import ", "from "))
                )
                if not used:
                    problems.append(f"{name}/{relative}: gained `{statement}`, which no fixed line uses")
            diffs.extend(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    f"{name}/{relative}",
                    f"{name}/{relative}",
                )
            )
        print(f"== {name}: {len(_python_files(folder))} files")
        print(
            f"fixes offered: {sum(offered.values())} ({unsafe} unsafe): "
            + ", ".join(f"{code} {count}" for code, count in sorted(offered.items()))
        )
        print(
            f"fixes applied: {after['fixed']} in {changed} files, {seconds:.1f} s; findings before "
            f"{len(before['findings'])}, after {len(after['findings'])}"
        )
        print(f"fixed files that do not compile: {compile_errors}")
        print(
            "imports added: "
            + (", ".join(f"`{statement}` x{count}" for statement, count in sorted(new_imports.items())) or "none")
        )
        for problem in problems:
            print(f"PROBLEM: {problem}")
        return not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--select", default="ALL", help="codes to select (default: ALL)")
    parser.add_argument("--diffs", default=None, metavar="FILE", help="write every diff here")
    args = parser.parse_args()
    diffs: list[str] = []
    results = [check_folder(folder, ["--select", args.select], diffs) for folder in args.folders]
    if args.diffs:
        with open(args.diffs, "w", encoding="utf-8") as stream:
            stream.writelines(diffs)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
