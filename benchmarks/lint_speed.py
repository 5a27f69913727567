"""perflint's own speed goals, measured in one run, with the peers timed on the same files.

Sections (each prints its numbers next to its target):

1. cold, one process, ``--select ALL``: lint time (the project index's ``ast`` pre-pass
   included) / bare ``libcst.parse_module`` time of the same sources in memory, CPU time of this process, alternating rounds, median ratio; on timm
   and on a subset of transformers' ``models/`` of about timm's size (target <= 1.3x).
2. per-rule share: the time spent in each rule's hooks, from one instrumented pass.
3. pre-filter: the files on which no selected rule's ``required_text`` occurs, and the parse
   time they cost, which skipping their parse would save.
4. warm: ``perflint check`` re-run over unchanged files / the cold run that filled the cache
   (wall time, fresh cache folder; target <= 10%).
5. start-up: ``perflint FILE`` on a file of about 300 lines, wall time including the
   interpreter (median of 5, no cache; target < 0.5 s).
6. all cores: ``--jobs 1`` / ``--jobs N`` on a folder of >= 50 files (target >= 1.7x on 2 cores).
7. flake8 plugin: the plugin's ``run()`` / a bare parse, per file, in process (target <= 1.3x).
8. peers (Ruff, Fixit, TorchFix, pylint with the PyPI ``perflint`` plugin) on timm, wall time,
   each only when installed; a peer that is not says *skipped* and why.

Today's rule set is what ``--select ALL`` selects when this runs; the header names it.

    python benchmarks/lint_speed.py [--corpus /work/corpus] [--rounds 3] [--pylint PATH] [--only N …]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import importlib.metadata
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import libcst

import perflint
from perflint.engine import lint_source
from perflint.engine.linter import enabled_for_source
from perflint.engine.project_cache import IndexedFile, project_views
from perflint.flake8_plugin import Flake8Checker
from perflint.rules import select_rules

Source = tuple[str, str]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu unknown"


def read_sources(roots: list[Path]) -> list[Source]:
    sources = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            sources.append((str(path), path.read_text(encoding="utf-8")))
    return sources


def transformers_subset(models: Path, lines_wanted: int) -> list[Path]:
    """Model folders of transformers in name order until they hold ``lines_wanted`` lines."""
    chosen, lines = [], 0
    for folder in sorted(path for path in models.iterdir() if path.is_dir()):
        chosen.append(folder)
        lines += sum(path.read_text(encoding="utf-8").count("\n") for path in folder.rglob("*.py"))
        if lines >= lines_wanted:
            break
    return chosen


def cpu(function, *args) -> float:
    start = time.process_time()
    function(*args)
    return time.process_time() - start


def parse_all(sources: list[Source]) -> None:
    for _, source in sources:
        libcst.parse_module(source)


def lint_all(sources: list[Source], rules) -> None:
    """The project index's pre-pass (``ast``, no cache), then every file with its view."""
    root = os.path.commonpath([path for path, _ in sources])
    views = project_views(
        [IndexedFile(os.path.abspath(path), source.encode()) for path, source in sources],
        root,
        None,
        whole_project=True,
    ).views
    for path, source in sources:
        lint_source(source, path, rules, project=views.get(os.path.abspath(path)))


def section_cold(name: str, sources: list[Source], rules, rounds: int) -> None:
    lines = sum(source.count("\n") for _, source in sources)
    print(f"\n[1] cold, one process, --select ALL: {name}, {len(sources)} files, {lines} lines")
    ratios = []
    for round_number in range(1, rounds + 1):
        if round_number % 2:
            parse_seconds, lint_seconds = cpu(parse_all, sources), cpu(lint_all, sources, rules)
        else:
            lint_seconds, parse_seconds = cpu(lint_all, sources, rules), cpu(parse_all, sources)
        ratios.append(lint_seconds / parse_seconds)
        print(f"  round {round_number}: parse {parse_seconds:.2f} s, lint {lint_seconds:.2f} s, ratio {ratios[-1]:.3f}")
    print(f"  median lint/parse: {statistics.median(ratios):.3f} (target <= 1.3)")


def timed_rule(rule_class, spent: dict[str, float]):
    """A subclass of ``rule_class`` whose every hook adds its time to ``spent[code]``."""
    namespace = {}
    for attribute in dir(rule_class):
        if attribute.startswith(("visit_", "leave_")):
            original = getattr(rule_class, attribute)

            def hook(self, node, _original=original):
                start = time.perf_counter()
                try:
                    return _original(self, node)
                finally:
                    spent[rule_class.code] += time.perf_counter() - start

            namespace[attribute] = hook
    return type(rule_class.__name__, (rule_class,), namespace)


def section_rule_share(sources: list[Source], rules) -> None:
    spent: dict[str, float] = defaultdict(float)
    timed = [timed_rule(rule, spent) for rule in rules]
    total = cpu(lint_all, sources, timed)
    parse_seconds = cpu(parse_all, sources)
    print(f"\n[2] per-rule share of the lint (sum of each rule's hooks; instrumented pass, total {total:.2f} s CPU)")
    for rule in rules:
        print(f"  {rule.code} {rule.name}: {spent[rule.code]:.3f} s ({100 * spent[rule.code] / total:.1f}%)")
    rest = total - parse_seconds - sum(spent.values())
    print(
        f"  parse (timed apart): {parse_seconds:.2f} s ({100 * parse_seconds / total:.1f}%); the rest, the walk, "
        f"the engine's shared knowledge and positions: {rest:.2f} s ({100 * rest / total:.1f}%)"
    )


def section_prefilter(sources: list[Source], rules) -> None:
    untouched = [(path, source) for path, source in sources if not enabled_for_source(source, rules)]
    parse_total = cpu(parse_all, sources)
    parse_untouched = cpu(parse_all, untouched)
    print("\n[3] text pre-filter (required_text)")
    print(f"  files no selected rule can match: {len(untouched)} of {len(sources)}; their traversal is already skipped")
    print(
        f"  their parse: {parse_untouched:.2f} s of {parse_total:.2f} s parse CPU "
        f"({100 * parse_untouched / parse_total:.1f}%), what skipping the parse for them would save"
    )
    python_parse = cpu(lambda: [compile(source, path, "exec", ast.PyCF_ONLY_AST) for path, source in untouched])
    print(
        f"  Python's own parser on them (enough to still report a syntax error as PFL000): {python_parse:.2f} s, "
        f"so skipping libcst for them would save {parse_untouched - python_parse:.2f} s "
        f"({100 * (parse_untouched - python_parse) / parse_total:.1f}% of the parse)"
    )


def perflint_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "perflint", "check", "--exit-zero", "--select", "ALL", *arguments]


def wall(command: list[str], cwd: str | None = None, timeout: float = 900) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    return time.perf_counter() - start


def section_warm(folder: Path) -> None:
    files = len(list(folder.rglob("*.py")))
    with tempfile.TemporaryDirectory() as cache:
        cold = wall(perflint_command("--cache-dir", cache, str(folder)))
        warm = [wall(perflint_command("--cache-dir", cache, str(folder))) for _ in range(3)]
    print(f"\n[4] warm re-run, {folder} ({files} files), wall time, {load()}")
    print(
        f"  cold (filling the cache): {cold:.2f} s; warm: median {statistics.median(warm):.3f} s "
        f"= {100 * statistics.median(warm) / cold:.1f}% of cold (target <= 10%)"
    )


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def section_startup(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    times, cpu_times = [], []
    for _ in range(5):
        before = children_cpu()
        times.append(wall(perflint_command("--no-cache", str(path))))
        cpu_times.append(children_cpu() - before)
    print(f"\n[5] start-up: perflint {path} ({lines} lines), including the interpreter and the worker process")
    print(
        f"  wall: median {statistics.median(times):.3f} s, min {min(times):.3f} s (target < 0.5 s); "
        f"CPU (user + system): median {statistics.median(cpu_times):.3f} s; {load()}"
    )


def section_cores(folder: Path) -> None:
    files = len(list(folder.rglob("*.py")))
    jobs = os.cpu_count() or 1
    one = wall(perflint_command("--no-cache", "--jobs", "1", str(folder)))
    many = wall(perflint_command("--no-cache", "--jobs", str(jobs), str(folder)))
    print(f"\n[6] all cores: {folder} ({files} files), wall time, {load()}")
    print(
        f"  --jobs 1: {one:.2f} s; --jobs {jobs}: {many:.2f} s; speed-up {one / many:.2f}x (target >= 1.7x on 2 cores)"
    )


def section_flake8(sources: list[Source]) -> None:
    prepared = [(path, source, source.splitlines(keepends=True), ast.parse(source)) for path, source in sources]

    def plugin() -> None:
        for path, _, lines, tree in prepared:
            list(Flake8Checker(tree, lines, path).run())

    parse_seconds, plugin_seconds = cpu(parse_all, sources), cpu(plugin)
    print("\n[7] flake8 plugin, per file in process: the plugin's run() against a bare parse")
    print(
        f"  parse {parse_seconds:.2f} s, plugin {plugin_seconds:.2f} s, ratio {plugin_seconds / parse_seconds:.3f} "
        "(target <= 1.3)"
    )


def section_peers(folder: Path, perflint_seconds: float, pylint: str | None) -> None:
    print(f"\n[8] peers on {folder}, wall time, each with its own defaults for parallelism and no cache, {load()}")
    print(f"  perflint check --select ALL --no-cache: {perflint_seconds:.2f} s (1.00x)")
    peers = [
        (
            "ruff check --select ALL",
            shutil.which("ruff"),
            lambda exe: [exe, "check", "--no-cache", "--select", "ALL", "--exit-zero", "--quiet", str(folder)],
        ),
        ("fixit lint (default rules)", shutil.which("fixit"), lambda exe: [exe, "lint", str(folder)]),
        ("torchfix", shutil.which("torchfix"), lambda exe: [exe, str(folder)]),
        (
            "pylint --load-plugins=perflint (PyPI's perflint plugin)",
            pylint,
            lambda exe: [exe, "--load-plugins=perflint", "--exit-zero", "--jobs", "0", str(folder)],
        ),
    ]
    for name, executable, command in peers:
        if executable is None:
            print(f"  {name}: skipped: not installed")
            continue
        try:
            seconds = wall(command(executable), timeout=900)
        except subprocess.TimeoutExpired:
            print(f"  {name}: skipped: did not finish within 900 s")
            continue
        print(f"  {name}: {seconds:.2f} s ({seconds / perflint_seconds:.2f}x perflint)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="/work/corpus", help="folder holding timm/ and transformers/")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", type=int, action="append", metavar="SECTION", help="run only this section (1-8; repeatable)"
    )
    parser.add_argument(
        "--pylint",
        default=shutil.which("pylint"),
        help="a pylint whose environment has PyPI's perflint plugin (its module is also "
        "called perflint, so it needs an environment of its own)",
    )
    arguments = parser.parse_args()
    corpus = Path(arguments.corpus)
    timm = corpus / "timm" / "timm"
    rules = select_rules(select=["ALL"])
    print(
        f"perflint {perflint.__version__}, libcst {importlib.metadata.version('libcst')}, "
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"{cpu_model()}, {datetime.date.today()}"
    )
    print(f"--select ALL is {len(rules)} rules today: {', '.join(rule.code for rule in rules)}")

    timm_sources = read_sources([timm])
    timm_lines = sum(source.count("\n") for _, source in timm_sources)
    subset = transformers_subset(corpus / "transformers" / "transformers" / "models", timm_lines)
    print(f"transformers subset: models/{{{','.join(folder.name for folder in subset)}}}")
    transformers_sources = read_sources(subset)
    wanted = set(arguments.only or range(1, 9))
    if 1 in wanted:
        section_cold("timm", timm_sources, rules, arguments.rounds)
        section_cold("transformers models subset", transformers_sources, rules, arguments.rounds)
    if 2 in wanted:
        section_rule_share(timm_sources + transformers_sources, rules)
    if 3 in wanted:
        section_prefilter(timm_sources + transformers_sources, rules)
    if 4 in wanted:
        section_warm(timm)
    if 5 in wanted:
        startup_file = min(
            (Path(path) for path, source in timm_sources),
            key=lambda path: abs(path.read_text(encoding="utf-8").count("\n") - 300),
        )
        section_startup(startup_file)
    if 6 in wanted:
        # A folder of small files, where starting the workers weighs most, and one of model files.
        section_cores(timm / "layers")
        section_cores(timm / "models")
    if 7 in wanted:
        section_flake8(timm_sources)
    if 8 in wanted:
        perflint_seconds = wall(perflint_command("--no-cache", str(timm)))
        section_peers(timm, perflint_seconds, arguments.pylint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
