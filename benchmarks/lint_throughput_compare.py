"""lint_throughput.py's measurement for two trees of perflint in ONE process, so that a before
and an after are timed under the same load: each round runs lint_throughput's ``time_round``
of each tree (the project index's pre-pass, then each file's bare ``libcst.parse_module`` and
lint back to back), with the default rules and with ``--select ALL``; CPU time of this process;
the order of the trees alternates between rounds.

    python benchmarks/lint_throughput_compare.py BEFORE_TREE AFTER_TREE PATH [--rounds N]

BEFORE_TREE and AFTER_TREE are checkouts of perflint (``git archive`` of the two commits).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from types import ModuleType


def _own_modules() -> dict[str, ModuleType]:
    return {
        name: module for name, module in sys.modules.items() if name.split(".")[0] in ("perflint", "lint_throughput")
    }


def use(modules: dict[str, ModuleType]) -> None:
    """Put one tree's modules in ``sys.modules``, so that what it imports while it runs (a
    function-level import) is its own."""
    for name in _own_modules():
        del sys.modules[name]
    sys.modules.update(modules)


def load(tree: str) -> tuple[ModuleType, list, list, dict[str, ModuleType]]:
    """``tree``'s lint_throughput module, its default and ``--select ALL`` rules, and its
    modules, imported afresh (a lint of one file imports what the lint imports lazily)."""
    use({})
    sys.path[:0] = [tree, os.path.join(tree, "benchmarks")]
    try:
        import lint_throughput

        from perflint.rules import select_rules

        default, every = select_rules(), select_rules(select=["ALL"])
        lint_throughput.time_round(lint_throughput.read_sources([os.path.join(tree, "perflint", "engine")]), every, 1)
    finally:
        del sys.path[:2]
    return lint_throughput, default, every, _own_modules()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("path")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    trees = {"before": load(arguments.before), "after": load(arguments.after)}
    reader = trees["before"][0]
    sources = reader.read_sources([arguments.path])
    lines = sum(source.count("\n") for _, source in sources)
    print(
        f"{len(sources)} files, {lines} lines; default rules: {len(trees['before'][1])} before, "
        f"{len(trees['after'][1])} after; --select ALL: {len(trees['before'][2])} before, {len(trees['after'][2])} after"
    )
    runs = [("before", 1, "default"), ("after", 1, "default"), ("before", 2, "ALL"), ("after", 2, "ALL")]
    ratios: dict[tuple[str, str], list[float]] = {}
    for round_number in range(1, arguments.rounds + 1):
        load_average = os.getloadavg()[0]
        parts = [f"round {round_number} (load average {load_average:.1f} on {os.cpu_count()} cores)"]
        order = runs if round_number % 2 else [runs[1], runs[0], runs[3], runs[2]]
        for name, selection, label in order:
            module, rules = trees[name][0], trees[name][selection]
            use(trees[name][3])
            parse_seconds, lint_seconds, findings = module.time_round(sources, rules, round_number)
            ratios.setdefault((name, label), []).append(lint_seconds / parse_seconds)
            parts.append(
                f"{name}/{label} parse {parse_seconds:.2f} s, lint {lint_seconds:.2f} s ({findings} findings) "
                f"{lint_seconds / parse_seconds:.3f}x"
            )
        print("; ".join(parts), flush=True)
    for name, _, label in runs:
        print(
            f"median lint/parse, {label} rules, {name}: {statistics.median(ratios[(name, label)]):.3f} (target <= 1.3)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
