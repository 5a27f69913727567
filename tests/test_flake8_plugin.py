"""The flake8 plugin: same engine, every rule with the opt-in ones off by flake8's default,
flake8's column convention, and the same findings as ``perflint check`` on a folder."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from perflint.engine import lint_source
from perflint.flake8_plugin import Flake8Checker, fix_hint, opt_in_codes
from perflint.rules import all_rules, select_rules

PFL408_SOURCE = 'import numpy as np\nfor x in xs:\n    y = np.load("A.npy") @ x\n'
FLAKE8_FORMAT = "%(path)s:%(row)d:%(col)d:%(code)s"


def run_plugin(source: str, filename: str = "example.py") -> list[tuple[int, int, str]]:
    lines = source.splitlines(keepends=True)
    checker = Flake8Checker(ast.parse(source), lines, filename)
    return [(line, column, text) for line, column, text, checker_type in checker.run()]


def default_rules_and_pfl408():
    """The default rules, and PFL408 (opt-in since round 6), whose finding these sources hold."""
    return select_rules(extend_select=["PFL408"])


def test_plugin_yields_zero_based_columns_and_code_first_text():
    [finding] = lint_source(PFL408_SOURCE, "example.py", default_rules_and_pfl408())
    [(line, column, text)] = run_plugin(PFL408_SOURCE)
    assert (line, column) == (finding.line, finding.column - 1)
    assert text == f"PFL408 {finding.message}{fix_hint(finding)}"


def test_plugin_says_which_command_applies_a_fix():
    source = "import torch\nfor batch in loader:\n    opt.zero_grad(set_to_none=False)\n"
    [(_, _, text)] = run_plugin(source)
    assert text.startswith("PFL501 ")
    assert text.endswith(" [unsafe fix: perflint check --fix --unsafe-fixes]")


def test_plugin_leaves_noqa_to_flake8():
    source = PFL408_SOURCE.replace("@ x\n", "@ x  # noqa: PFL408\n")
    assert [text.split()[0] for _, _, text in run_plugin(source)] == ["PFL408"]


def test_plugin_reports_every_rule_and_names_the_opt_in_ones_for_flake8s_default_ignore():
    source = (
        "from torch.utils.data import DataLoader\nfrom torchvision.datasets import MNIST\n"
        'loader = DataLoader(MNIST("data"))\n' + PFL408_SOURCE
    )
    assert {text.split()[0] for _, _, text in run_plugin(source)} == {"PFL301", "PFL408"}
    opt_in = [rule.code for rule in all_rules() if not rule.default_enabled]
    assert opt_in and opt_in_codes() == opt_in

    class OptionManager:
        ignored: list = []

        def extend_default_ignore(self, codes):
            self.ignored.extend(codes)

    manager = OptionManager()
    Flake8Checker.add_options(manager)
    assert manager.ignored == opt_in


@pytest.mark.slow
def test_plugin_import_stays_light():
    probe = (
        "import sys, perflint.flake8_plugin as plugin\n"
        "plugin.every_rule()\n"
        "print(sorted(m for m in ('numpy', 'torch', 'pandas', 'rich', 'psutil') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def run_flake8(arguments: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    """flake8 with its default selection (every plugin's codes but the default-ignored ones);
    only perflint's rows are kept in ``stdout``."""
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--format", FLAKE8_FORMAT, *arguments],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
    )
    rows = [row for row in result.stdout.splitlines() if row.rsplit(":", 1)[-1].startswith("PFL")]
    result.stdout = "".join(row + "\n" for row in rows)
    return result


@pytest.mark.slow
def test_flake8_registers_the_plugin():
    result = subprocess.run([sys.executable, "-m", "flake8", "--version"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "perflint" in result.stdout


@pytest.mark.slow
def test_flake8_reads_source_from_stdin(tmp_path):
    result = run_flake8(["--extend-select", "PFL408", "-"], tmp_path, stdin=PFL408_SOURCE)
    assert result.stdout.splitlines() == ["stdin:3:9:PFL408"]


NOQA_VARIANTS = {
    "noqa_blanket": "  # noqa",
    "noqa_prefixes": "  # noqa: PFL1, PFL2,PFL3 PFL4, PFL5",
    "noqa_other_code": "  # noqa: E501",
}


# flake8 searches the whole of a backslash-continued line, or of a line holding a multi-line
# string, for the noqa comment; only the last loop's finding is left.
CONTINUED_LINES_SOURCE = '''\
import numpy as np
for x in xs:
    y = np.load("A.npy") \\
        @ x  # noqa
for x in xs:
    y = np.load("A.npy") @ f("""
    """)  # noqa: PFL408
for x in xs:
    y = np.load("A.npy") @ x
'''


def test_noqa_on_a_continuation_line_suppresses_as_in_flake8():
    findings = lint_source(CONTINUED_LINES_SOURCE, "example.py", default_rules_and_pfl408())
    assert [(finding.code, finding.line) for finding in findings] == [("PFL408", 9)]


def _write_corpus(folder: Path) -> None:
    """Every rule's invalid examples, each in its own file, and each again with a ``# noqa``
    comment on its reported line in a sub-folder per comment."""
    for rule in all_rules():
        for index, example in enumerate(rule.INVALID):
            name = f"{rule.code.lower()}_invalid_{index}.py"
            (folder / name).write_text(example.code)
            for variant, comment in NOQA_VARIANTS.items():
                lines = example.code.splitlines()
                lines[example.line - 1] += comment
                (folder / variant).mkdir(exist_ok=True)
                (folder / variant / name).write_text("\n".join(lines) + "\n")
    (folder / "continued_lines.py").write_text(CONTINUED_LINES_SOURCE)


def _flake8_and_perflint(tmp_path: Path, corpus: Path, arguments: list[str]) -> tuple[list, list]:
    flake8 = run_flake8([*arguments, str(corpus)], tmp_path)
    assert flake8.returncode == 1, flake8.stderr
    flake8_findings = []
    for row in flake8.stdout.splitlines():
        path, line, column, code = row.rsplit(":", 3)
        flake8_findings.append((str(Path(path).resolve()), int(line), code, int(column)))

    perflint = subprocess.run(
        [sys.executable, "-m", "perflint", "check", "--output-format", "json", "--no-cache", *arguments, str(corpus)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert perflint.returncode == 1, perflint.stderr
    perflint_findings = [
        (str((tmp_path / finding["path"]).resolve()), finding["line"], finding["code"], finding["column"])
        for finding in json.loads(perflint.stdout)["findings"]
    ]
    return flake8_findings, perflint_findings


@pytest.mark.slow
@pytest.mark.parametrize("arguments", [[], ["--extend-select", "PFL301"]], ids=["defaults", "opt-in selected"])
def test_flake8_and_perflint_report_the_same_findings(tmp_path, arguments):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_corpus(corpus)
    flake8_findings, perflint_findings = _flake8_and_perflint(tmp_path, corpus, arguments)

    assert sorted(triple[:3] for triple in flake8_findings) == sorted(triple[:3] for triple in perflint_findings)
    assert sorted(flake8_findings) == sorted(perflint_findings), "columns differ"
    reported_codes = {code for _, _, code, _ in perflint_findings}
    expected = {rule.code for rule in select_rules(extend_select=arguments[1:])}
    assert reported_codes == expected
    assert ("PFL301" in reported_codes) is bool(arguments)
    # Each file's noqa sits on its own rule's line; another rule may flag another line of it
    # (PFL301 a DataLoader in an example of a different rule), which no noqa covers.
    folders_with_findings = {
        Path(path).parent.name for path, _, code, _ in perflint_findings if Path(path).name.startswith(code.lower())
    }
    assert folders_with_findings == {"corpus", "noqa_other_code"}


def test_integer_literals_in_any_base_are_findings_not_internal_errors():
    source = "import torch\ndef f(x: torch.Tensor, m: torch.Tensor):\n    return x - m[:, None].repeat(1, 0x4)\n"
    assert [(line, text.split()[0]) for line, _, text in run_plugin(source)] == [(3, "PFL116")]
