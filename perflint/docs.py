"""Rule documentation generated from the rule classes, so the pages cannot drift from the code.

``docs/rules/<CODE>.md`` holds one page per rule and README.md holds a table of every rule between
two marker comments. Their "Measured" sections quote the reference run recorded in
``benchmarks/results/``. Writing them is a maintainer's job done inside perflint's own
repository (``python scripts/generate_docs.py``, ``--check`` to verify); ``plan_docs`` and
``apply_docs`` refuse any other folder, so no user project's files can be touched.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from perflint.engine.rule import Rule
from perflint.measure.results import MEASURED, MeasurementReport
from perflint.measure.spec import Benchmark
from perflint.rules import all_rules

PAGES_FOLDER = "docs/rules"
README = "README.md"
TABLE_START = "<!-- rules-table:start -->"
TABLE_END = "<!-- rules-table:end -->"
FACTS_START = "<!-- rules-facts:start -->"
FACTS_END = "<!-- rules-facts:end -->"
RULES_INDEX = "docs/rules/index.md"
CONTRIBUTING = "CONTRIBUTING.md"
QUERIES_START = "<!-- engine-queries:start -->"
QUERIES_END = "<!-- engine-queries:end -->"
REGENERATE_COMMAND = "python scripts/generate_docs.py"
# The recorded reference run the "Measured" sections quote, and the one command that redoes it.
REFERENCE_RESULTS = "benchmarks/results/reference_bench.json"
RECORD_COMMAND = "python benchmarks/record_reference.py"
PROJECT_NAME = "perflint-ml"
PAGE_SECTIONS = (
    "What it does",
    "Why is this bad?",
    "Known limitations",
    "Example",
    "Use instead",
    "Fix safety",
    "Measured",
)

_PAGE_NAME = re.compile(r"^PFL\d{3}\.md$")


def default_state(rule: type[Rule]) -> str:
    return "on" if rule.default_enabled else "opt-in"


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _code_block(source: str) -> str:
    return f"```python\n{source.rstrip()}\n```"


_BACKEND_DESCRIPTIONS = {
    "array": "array namespace: NumPy on the CPU, CuPy or torch on a CUDA GPU, torch on MPS",
    "torch": "torch",
    "numpy": "NumPy on the CPU",
}


class NotPerflintCheckout(Exception):
    """The folder is not perflint's own repository, so its files are not the docs' to write."""


def require_perflint_checkout(root: Path) -> None:
    """Raise ``NotPerflintCheckout`` unless ``root`` holds a pyproject.toml naming perflint-ml."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        with open(root / "pyproject.toml", "rb") as stream:
            name = tomllib.load(stream).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        name = None
    if name != PROJECT_NAME:
        raise NotPerflintCheckout(
            f"{root} is not perflint's repository (its pyproject.toml must name the project {PROJECT_NAME}); "
            "the rule pages are written only there"
        )


def load_reference(root: Path) -> MeasurementReport | None:
    """The recorded reference run under ``root``, or None when there is none (an installed copy)."""
    try:
        with open(root / REFERENCE_RESULTS, encoding="utf-8") as stream:
            return MeasurementReport.from_dict(json.load(stream))
    except FileNotFoundError:
        return None


def installed_reference() -> MeasurementReport | None:
    """The reference run of the checkout this perflint is imported from, if it is one."""
    root = Path(__file__).resolve().parents[1]
    try:
        require_perflint_checkout(root)
    except NotPerflintCheckout:
        return None
    return load_reference(root)


def _benchmark_source(function: object) -> str:
    """A benchmark side's source as the rule module has it, for the page to show what is timed."""
    import inspect

    try:
        return _code_block(inspect.getsource(function))  # type: ignore[arg-type]
    except (OSError, TypeError):
        return f"`{getattr(function, '__qualname__', function)}` (source not available)"


def _timed_description(benchmark: Benchmark) -> str:
    """What exactly one call of each side does: the rule's own words, then the two functions
    (checked to agree, not timed, for a benchmark that can never be timed)."""
    shown = "as checked (never timed)" if benchmark.not_timed else "as timed"
    return (
        f"**Timed:** {benchmark.timed}\n\n"
        f"Pattern, {shown}:\n\n{_benchmark_source(benchmark.pattern)}\n\n"
        f"Fix, {shown}:\n\n{_benchmark_source(benchmark.fix)}"
    )


def _measured_section(rule: type[Rule], reference: MeasurementReport | None) -> str:
    benchmark = rule.benchmark
    if benchmark is None:
        return "This rule has no micro-benchmark yet."
    if benchmark.not_timed:
        return (
            f"{_timed_description(benchmark)}\n\nThis benchmark is never timed, on any machine: "
            f"{benchmark.not_timed}. `perflint bench` lists it as skipped with this reason."
        )
    sizes = ", ".join(f"{size:,}" for size in benchmark.sizes)
    how = (
        f"Reproduce on your own hardware with `perflint bench {rule.code}` (add `--report {rule.code}.html` "
        f"for charts), or `perflint check --measure` to time every rule that fired. The benchmark times "
        f"the flagged pattern against its fix on generated inputs, not your code; both sides are "
        f"checked to compute the same result before they are timed.\n\n"
        f"- Backend: {_BACKEND_DESCRIPTIONS.get(benchmark.backend, benchmark.backend)}\n"
        f"- Sizes: {sizes} ({benchmark.size_unit})\n"
        f"- Devices: {', '.join(f'`{device}`' for device in benchmark.devices)}"
        + (
            f"\n- A finding's own size: {benchmark.size_in_code}, where the code states it with literals "
            f"or constants; `perflint check --measure` reads the time saved at the measured size closest "
            f"to the largest one among the rule's findings"
            if benchmark.size_in_code
            else ""
        )
    )
    return f"{_timed_description(benchmark)}\n\n{_reference_numbers(rule, benchmark, reference, how)}"


def _cell(format_value: Callable[[float], str], value: float | None) -> str:
    """A table cell of a measured point; a value the recorded point lacks shows as a dash."""
    return "–" if value is None else format_value(value)


def _reference_numbers(rule: type[Rule], benchmark: Benchmark, reference: MeasurementReport | None, how: str) -> str:
    from perflint.measure.harness import benchmark_fingerprint

    if reference is None:
        return (
            "Reference measurements are recorded in perflint's repository (`benchmarks/results/`); "
            f"this installation does not include them.\n\n{how}"
        )
    entries = [m for m in reference.measurements if m.code == rule.code]
    measured = [m for m in entries if m.status == MEASURED]
    if not measured:
        recorded = "; ".join(f"{m.target}: {m.reason}" for m in entries)
        return (
            f"No reference measurement is recorded for this rule"
            f"{f' (the reference run skipped it: {recorded})' if recorded else ' yet'}. "
            f"`{RECORD_COMMAND}` records every rule's on the machine it runs on.\n\n{how}"
        )
    from perflint.measure.table import machine_summary
    from perflint.measure.units import format_saved, format_seconds, format_speedup

    date = (measured[0].measured_at or "")[:10]
    if any(m.benchmark_fingerprint != benchmark_fingerprint(benchmark) for m in measured):
        # Numbers of an earlier benchmark would describe code this page no longer shows.
        return (
            f"The reference run (recorded {date}) timed an earlier version of this benchmark, so its "
            f"numbers are not quoted; `{RECORD_COMMAND}` records the current one.\n\n{how}"
        )
    lines = [f"Reference run on {machine_summary(reference.machine)}; recorded {date} by `{RECORD_COMMAND}`."]
    lines.append("")
    lines.append(f"| Target | Size ({benchmark.size_unit}) | Pattern | Fix | Saved per call | Speedup | 95% interval |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for measurement in measured:
        for point in measurement.points:
            if point.status != MEASURED:
                lines.append(f"| {measurement.target} | {point.size:,} | {point.status}: {point.reason} | | | | |")
                continue
            lines.append(
                f"| {measurement.target} | {point.size:,} | {_cell(format_seconds, point.pattern_seconds)} "
                f"| {_cell(format_seconds, point.fix_seconds)} | {_cell(format_saved, point.time_saved)} "
                f"| {_cell(format_speedup, point.speedup)} "
                f"| {_cell(format_speedup, point.speedup_low)}–{_cell(format_speedup, point.speedup_high)}"
                f"{' (noisy)' if point.noisy else ''} |"
            )
    lines.append("")
    lines.extend(f"On {m.target} the fix {m.payoff()}." for m in measured)
    flagged = _flag_kinds([flag for m in measured for point in m.measured_points for flag in point.flags])
    if flagged:
        loads = [reference.run.get(key) for key in ("load_average_start", "load_average_end")]
        seen = " → ".join(f"{load:.1f}" for load in loads if load is not None)
        lines.append(
            f"These points are flagged ({'; '.join(flagged)})"
            + (
                f"; the run's load average went {seen} on {reference.machine.get('logical_cores')} cores"
                if seen
                else ""
            )
            + ": they are this machine's numbers under that load, less sure than a quiet machine's."
        )
    if any(point.noisy for m in measured for point in m.measured_points):
        lines.append(
            "A speedup marked noisy has a 95% interval that crosses 1.0 or spans more than ±25%: "
            "too uncertain to act on."
        )
    others = [m for m in entries if m.status != MEASURED]
    if others:
        lines.append("Not run on the reference machine: " + "; ".join(f"{m.target} ({m.reason})" for m in others) + ".")
    return "\n".join(lines) + f"\n\n{how}"


def _flag_kinds(flags: list[str]) -> list[str]:
    """The kinds of the harness's flags (``perflint.measure.intervals``, ``system.overload``), in
    words without each point's own figures."""
    kinds = {
        "taken on a loaded machine": lambda flag: flag.startswith("machine loaded"),
        "a side stalled in some samples": lambda flag: "its fastest sample" in flag,
        "a side's time did not grow with size": lambda flag: "does not grow with size" in flag,
    }
    return [kind for kind, matches in kinds.items() if any(matches(flag) for flag in flags)]


def rule_page(rule: type[Rule], reference: MeasurementReport | None = None) -> str:
    """The Markdown page of ``rule``; its sections follow ``PAGE_SECTIONS``. ``reference`` is the
    recorded reference run the "Measured" section quotes (``load_reference``)."""
    metadata = (
        f"**Family:** {rule.family.name} (`{rule.family.prefix}`) · "
        f"**Default:** {default_state(rule)} · "
        f"**Fix safety:** {rule.fix_safety_label()} · "
        f"**Autofix available:** {_yes_no(rule.autofix)}"
    )
    bodies = (
        f"{rule.what_it_does}\n\nReported at: {rule.reported_at}.",
        rule.why_bad,
        rule.known_limitations,
        _code_block(rule.example),
        f"{rule.fix_title}:\n\n{_code_block(rule.use_instead)}",
        rule.fix_safety_note,
        _measured_section(rule, reference),
    )
    parts = [f"# {rule.code}: {rule.name}", metadata]
    for heading, body in zip(PAGE_SECTIONS, bodies):
        parts.append(f"## {heading}")
        parts.append(body.strip())
    return "\n\n".join(parts) + "\n"


def page_path(root: Path, rule: type[Rule]) -> Path:
    return root / PAGES_FOLDER / f"{rule.code}.md"


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme_rule_table() -> str:
    """The README's Markdown table of every rule, each code linking to its page; *Fix* is the
    safety of the rule's autofix, or empty for a rule without one."""
    rows = [
        "| Code | Name | Family | Default | Fix | Summary |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rule in all_rules():
        rows.append(
            f"| [{rule.code}]({PAGES_FOLDER}/{rule.code}.md) | `{rule.name}` | {rule.family.name} "
            f"| {default_state(rule)} | {rule.fix_safety_label() if rule.autofix else ''} | {_table_cell(rule.summary)} |"
        )
    return "\n".join(rows) + "\n"


def _codes(rules: list[type[Rule]]) -> str:
    return ", ".join(rule.code for rule in rules) if rules else "none"


def readme_rule_facts() -> str:
    """The counts and lists the README states about the rules, derived from the rule classes so
    they cannot drift: how many rules there are, which carry a fix, and where each benchmark
    can measure."""
    rules = all_rules()
    on = [rule for rule in rules if rule.default_enabled]
    fixes = [rule for rule in rules if rule.autofix]
    never_timed = [rule for rule in rules if rule.benchmark is not None and rule.benchmark.not_timed]
    timed = [
        (rule, rule.benchmark.devices) for rule in rules if rule.benchmark is not None and not rule.benchmark.not_timed
    ]
    cuda_only = [rule for rule, devices in timed if tuple(devices) == ("cuda",)]
    cpu_and_cuda = [rule for rule, devices in timed if "cpu" in devices and "cuda" in devices]
    return (
        f"{len(rules)} rules, {len(on)} on by default and {len(rules) - len(on)} opt-in; "
        f"{len(fixes)} carry a fix ({_codes(fixes)}). "
        f"Benchmarks that measure only on a CUDA device, and report *skipped: no CUDA device* "
        f"without one: {_codes(cuda_only)}. "
        f"Benchmarks that measure on the CPU and again on a CUDA device when there is one: "
        f"{_codes(cpu_and_cuda)}. "
        f"Benchmarks never timed, with the reason on their page: {_codes(never_timed)}.\n"
    )


def rules_index_page() -> str:
    """``docs/rules/index.md``: the docs site's list of every rule, linking to its page."""
    table = readme_rule_table().replace(f"]({PAGES_FOLDER}/", "](")
    return f"# Rules\n\n{readme_rule_facts()}\n{table}"


def _first_paragraph(doc: str | None) -> str:
    text = inspect.cleandoc(doc or "").split("\n\n", 1)[0]
    return " ".join(text.split())


def _public_queries(owner: type) -> list[tuple[str, str]]:
    """(signature, first paragraph of the docstring) of each documented public method and
    property that ``owner`` defines itself, in source order."""
    queries = []
    for name, member in vars(owner).items():
        if name.startswith("_") or name.startswith(("visit_", "leave_")):
            continue
        function = member.fget if isinstance(member, property) else member
        if not inspect.isfunction(function) or not function.__doc__:
            continue
        if isinstance(member, property):
            signature = name
        else:
            parameters = list(inspect.signature(function).parameters.values())[1:]
            signature = f"{name}({', '.join(parameter.name for parameter in parameters)})"
        queries.append((signature, _first_paragraph(function.__doc__)))
    return queries


# Engine modules whose public functions are queries a rule may ask (besides the file context).
ENGINE_QUERY_MODULES = (
    "perflint.engine.devices",
    "perflint.engine.host_reads",
    "perflint.engine.elementwise",
    "perflint.engine.values",
    "perflint.engine.sizes",
    "perflint.engine.literals",
    "perflint.engine.walker",
    "perflint.engine.loops",
    "perflint.engine.effects",
    "perflint.engine.invariance",
    "perflint.engine.control_flow",
)


def _module_queries(module_name: str) -> list[tuple[str, str]]:
    """(signature, first paragraph of the docstring) of each documented public function that
    ``module_name`` defines itself, in source order."""
    module = importlib.import_module(module_name)
    queries = []
    for name, member in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(member) or member.__module__ != module_name:
            continue
        if not member.__doc__:
            continue
        parameters = ", ".join(inspect.signature(member).parameters)
        queries.append((f"{name}({parameters})", _first_paragraph(member.__doc__)))
    return queries


def engine_queries() -> str:
    """The questions a rule may ask the engine, generated from the engine's own docstrings so the
    contributor guide cannot drift from the code."""
    from perflint.engine.linter import KNOWLEDGE, FileContext

    sections = [("self.context", FileContext)] + [
        (f"self.context.{attribute}", knowledge) for attribute, knowledge in KNOWLEDGE
    ]
    lines = []
    for prefix, owner in sections:
        lines.append(f"`{prefix}` ({_first_paragraph(owner.__doc__)})")
        lines.append("")
        for signature, doc in _public_queries(owner):
            lines.append(f"- `{prefix}.{signature}`" + (f": {doc}" if doc else ""))
        lines.append("")
    for module_name in ENGINE_QUERY_MODULES:
        lines.append(f"`{module_name}`")
        lines.append("")
        for signature, doc in _module_queries(module_name):
            lines.append(f"- `{signature}`: {doc}")
        lines.append("")
    return "\n".join(lines)


class ReadmeMarkersMissing(Exception):
    """README.md is absent or lacks the rule-table markers, so the table has nowhere to go."""


def _with_block(text: str, start_marker: str, end_marker: str, block: str) -> str:
    """``text`` with the block between the markers replaced by ``block``, set off by blank lines
    so that Markdown neither glues a table to a marker nor reads the end marker as a row."""
    start = text.find(start_marker)
    end = text.find(end_marker, start + len(start_marker)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise ReadmeMarkersMissing(f"{README} has no `{start_marker}` … `{end_marker}` block")
    return text[: start + len(start_marker)] + "\n\n" + block + "\n" + text[end:]


def readme_with_table(readme_text: str) -> str:
    """``readme_text`` with the rule table and the rule facts brought up to date."""
    with_table = _with_block(readme_text, TABLE_START, TABLE_END, readme_rule_table())
    return _with_block(with_table, FACTS_START, FACTS_END, readme_rule_facts())


@dataclass
class DocsPlan:
    """What ``scripts/generate_docs.py`` would change under perflint's repository root."""

    writes: dict[Path, str] = field(default_factory=dict)
    deletions: list[Path] = field(default_factory=list)
    readme_problem: str | None = None

    @property
    def stale(self) -> list[Path]:
        return sorted([*self.writes, *self.deletions])


def _read(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def plan_docs(root: Path) -> DocsPlan:
    """Compare the pages and the README table under ``root`` with what the rules generate.

    Raises ``NotPerflintCheckout`` for any folder but perflint's own repository.
    """
    require_perflint_checkout(root)
    plan = DocsPlan()
    rules = all_rules()
    reference = load_reference(root)
    for rule in rules:
        path = page_path(root, rule)
        page = rule_page(rule, reference)
        if _read(path) != page:
            plan.writes[path] = page
    index_path = root / RULES_INDEX
    if _read(index_path) != rules_index_page():
        plan.writes[index_path] = rules_index_page()
    current_pages = {f"{rule.code}.md" for rule in rules}
    pages_folder = root / PAGES_FOLDER
    if pages_folder.is_dir():
        plan.deletions = sorted(
            path for path in pages_folder.iterdir() if _PAGE_NAME.match(path.name) and path.name not in current_pages
        )
    contributing_path = root / CONTRIBUTING
    contributing_text = _read(contributing_path)
    if contributing_text is not None and QUERIES_START in contributing_text:
        updated_guide = _with_block(contributing_text, QUERIES_START, QUERIES_END, engine_queries())
        if updated_guide != contributing_text:
            plan.writes[contributing_path] = updated_guide
    readme_path = root / README
    readme_text = _read(readme_path)
    if readme_text is None:
        plan.readme_problem = f"no {README} under {root}, so the rule table was not written"
    else:
        try:
            updated = readme_with_table(readme_text)
        except ReadmeMarkersMissing as error:
            plan.readme_problem = f"{error}, so the rule table was not written"
        else:
            if updated != readme_text:
                plan.writes[readme_path] = updated
    return plan


def apply_docs(plan: DocsPlan, root: Path) -> None:
    """Write and delete what ``plan`` says, after checking again that every path is inside
    perflint's repository at ``root``."""
    require_perflint_checkout(root)
    resolved_root = root.resolve()
    for path in [*plan.writes, *plan.deletions]:
        if resolved_root not in path.resolve().parents:
            raise NotPerflintCheckout(f"{path} is outside {root}")
    for path, text in plan.writes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    for path in plan.deletions:
        path.unlink()


def write_docs(root: Path, check_only: bool) -> int:
    """Bring ``docs/rules/*.md`` and the README's rule table under ``root`` up to date, or, with
    ``check_only``, name what is stale. 0 when current (or brought up to date), 1 when stale
    pages were found by ``check_only`` or the README has no table markers, 2 when ``root`` is
    not perflint's repository."""
    try:
        plan = plan_docs(root)
    except NotPerflintCheckout as error:
        print(f"generate_docs: {error}", file=sys.stderr)
        return 2
    stale = [str(path) for path in plan.stale]
    if check_only:
        for path in stale:
            print(f"stale: {path}")
        if plan.readme_problem:
            print(f"generate_docs: {plan.readme_problem}", file=sys.stderr)
        if stale:
            print(f"run `{REGENERATE_COMMAND}` to regenerate them", file=sys.stderr)
        return 1 if stale or plan.readme_problem else 0
    apply_docs(plan, root)
    for written in plan.writes:
        print(f"wrote {written}")
    for deleted in plan.deletions:
        print(f"deleted {deleted}")
    if plan.readme_problem:
        print(f"generate_docs: {plan.readme_problem}", file=sys.stderr)
        return 1
    if not stale:
        print("rule documentation is up to date")
    return 0
