"""``perflint server`` driven through its protocol, as an editor drives it: one server process
for the module, a project folder per concern, JSON-RPC over the process's pipes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")

from tests.server.lsp_client import LanguageClient, apply_text_edits  # noqa: E402

pytestmark = pytest.mark.slow

SOURCE = textwrap.dedent("""\
    import torch


    def make(device):
        t = torch.zeros(3, 4).to(device)
        r = torch.randn(3, 4).to(device)
        return t, r
    """)
SAFE_LINE, UNSAFE_LINE = 4, 5  # 0-based, as LSP counts
# The text ``perflint check --fix`` makes of SOURCE: the safe fix only.
SAFELY_FIXED = SOURCE.replace("torch.zeros(3, 4).to(device)", "torch.zeros(3, 4, device=device)")


# PFL201 (opt-in) has the safe fix these tests apply; every project of the workspace selects it.
SELECT_PFL201 = 'extend-select = ["PFL201"]\n'


def make_project(folder: Path, settings: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(f"[tool.perflint]\n{SELECT_PFL201}{settings}")
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("workspace"))


@pytest.fixture(scope="module")
def client(workspace: Path) -> Iterator[LanguageClient]:
    client = LanguageClient(workspace, "--debounce", "0.05")
    client.initialize(workspace, {"notebookDocument": {"synchronization": {}}})
    yield client
    assert client.close() == 0


def opened(client: LanguageClient, path: Path, text: str) -> tuple[str, list[dict[str, Any]]]:
    """Open ``text`` as the (unsaved) buffer of ``path``; its URI and first diagnostics."""
    uri = path.as_uri()
    client.open(uri, text)
    return uri, client.diagnostics(uri, version=1)


def actions_on_line(client: LanguageClient, uri: str, line: int, only: Any = None) -> list[dict[str, Any]]:
    context: dict[str, Any] = {"diagnostics": []}
    if only is not None:
        context["only"] = only
    return client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "context": context,
            "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
        },
    )


def quick_fixes(client: LanguageClient, uri: str, line: int) -> list[dict[str, Any]]:
    """The quick fixes on ``line`` that are the findings' own fixes (not the noqa ones)."""
    return [
        action
        for action in actions_on_line(client, uri, line)
        if action["kind"] == "quickfix" and "noqa" not in action["title"]
    ]


def test_diagnostics_arrive_on_open_and_follow_each_change_of_the_buffer(client, workspace):
    project = make_project(workspace / "a folder with spaces")  # its URI is percent-encoded
    uri, diagnostics = opened(client, project / "model.py", SOURCE)
    assert [(d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"]) for d in diagnostics] == [
        ("PFL201", SAFE_LINE, 8),
        ("PFL201", UNSAFE_LINE, 8),
    ]
    assert all(d["source"] == "perflint" and d["severity"] == 2 for d in diagnostics)
    assert diagnostics[0]["range"]["end"] == {"line": SAFE_LINE, "character": 36}
    client.replace(uri, SAFELY_FIXED, version=2)
    assert [d["range"]["start"]["line"] for d in client.diagnostics(uri, version=2)] == [UNSAFE_LINE]
    client.replace(uri, "import torch\n", version=3)
    assert client.diagnostics(uri, version=3) == []


def test_positions_are_in_utf16_code_units_past_a_character_outside_the_bmp(client, workspace):
    source = 'import torch\n\n\ndef make(device):\n    label = "\U0001f600"; t = torch.zeros(3).to(device)\n'
    uri, [diagnostic] = opened(client, make_project(workspace / "utf16") / "model.py", source)
    # Code points 21 to 46 on that line; the emoji before them is two UTF-16 units.
    assert diagnostic["range"] == {"start": {"line": 4, "character": 22}, "end": {"line": 4, "character": 47}}
    [fix] = quick_fixes(client, uri, 4)
    assert apply_text_edits(source, fix["edit"]["changes"][uri]) == source.replace(
        "torch.zeros(3).to(device)", "torch.zeros(3, device=device)"
    )


def test_the_buffer_is_linted_not_the_file_on_disk(client, workspace):
    project = make_project(workspace / "buffer")
    (project / "model.py").write_text("import torch\n")
    _, diagnostics = opened(client, project / "model.py", SOURCE)
    assert len(diagnostics) == 2


def rule_page_beside_the_servers_perflint(workspace: Path) -> Path:
    """Where the page of PFL201 is in the checkout of the perflint the server imports (an
    editable install; a plain install, as in CI, has no checkout and so no page)."""
    script = "import pathlib, perflint; print(pathlib.Path(perflint.__file__).resolve().parent.parent)"
    checkout = subprocess.run(
        [sys.executable, "-c", script], cwd=workspace, capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    from perflint.docs import PAGES_FOLDER

    return Path(checkout) / PAGES_FOLDER / "PFL201.md"


def test_a_diagnostic_code_links_to_its_rule_page_where_the_page_exists(client, workspace):
    _, diagnostics = opened(client, make_project(workspace / "links") / "model.py", SOURCE)
    page = rule_page_beside_the_servers_perflint(workspace)
    if page.is_file():
        assert diagnostics[0]["codeDescription"] == {"href": page.as_uri()}
    else:
        assert "codeDescription" not in diagnostics[0]


def test_the_projects_configuration_and_per_file_ignores_apply(client, workspace):
    ignoring = make_project(workspace / "ignoring", 'ignore = ["PFL201"]\n')
    _, diagnostics = opened(client, ignoring / "model.py", SOURCE)
    assert diagnostics == []
    per_file = make_project(workspace / "per_file", '[tool.perflint.per-file-ignores]\n"scripts/*" = ["PFL2"]\n')
    (per_file / "scripts").mkdir()
    _, diagnostics = opened(client, per_file / "scripts" / "run.py", SOURCE)
    assert diagnostics == []
    _, diagnostics = opened(client, per_file / "model.py", SOURCE)
    assert len(diagnostics) == 2


def test_saving_the_pyproject_toml_relints_the_open_documents_under_its_new_settings(client, workspace):
    project = make_project(workspace / "reconfigured")
    uri, diagnostics = opened(client, project / "model.py", SOURCE)
    assert len(diagnostics) == 2
    config = project / "pyproject.toml"
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": config.as_uri(), "languageId": "toml", "version": 1, "text": config.read_text()}},
    )
    config.write_text('[tool.perflint]\nignore = ["PFL201"]\n')
    client.notify("textDocument/didSave", {"textDocument": {"uri": config.as_uri()}})
    assert client.diagnostics(uri, version=1) == []


def test_a_pyproject_toml_or_a_notebooks_raw_json_opened_as_text_is_not_linted(client, workspace):
    project = make_project(workspace / "not_python")
    config_uri = (project / "pyproject.toml").as_uri()
    notebook_uri = (project / "raw.ipynb").as_uri()
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": config_uri, "languageId": "toml", "version": 1, "text": "[tool.perflint]\n"}},
    )
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": notebook_uri, "languageId": "json", "version": 1, "text": '{"cells": []}'}},
    )
    opened(client, project / "model.py", SOURCE)  # linted after them, on the one lint thread
    published = {
        message["params"]["uri"]
        for message in client.notifications
        if message.get("method") == "textDocument/publishDiagnostics"
    }
    assert config_uri not in published and notebook_uri not in published


def test_a_broken_configuration_is_one_error_diagnostic_naming_it(client, workspace):
    broken = make_project(workspace / "broken", 'select = ["PFL9999"]\n')
    _, diagnostics = opened(client, broken / "model.py", SOURCE)
    assert len(diagnostics) == 1
    assert diagnostics[0]["code"] == "PFL000" and diagnostics[0]["severity"] == 1
    assert "pyproject.toml" in diagnostics[0]["message"] and "PFL9999" in diagnostics[0]["message"]


def test_unparsable_text_is_a_pfl000_diagnostic(client, workspace):
    _, diagnostics = opened(client, make_project(workspace / "unparsable") / "model.py", "def f(:\n")
    assert [d["code"] for d in diagnostics] == ["PFL000"]


def test_a_safe_fix_is_a_preferred_quick_fix_and_applying_it_fixes_the_code(client, workspace):
    uri, _ = opened(client, make_project(workspace / "quick_safe") / "model.py", SOURCE)
    fixes = quick_fixes(client, uri, SAFE_LINE)
    assert len(fixes) == 1
    fix = fixes[0]
    assert fix["kind"] == "quickfix" and fix["isPreferred"] is True and "(unsafe)" not in fix["title"]
    assert fix["diagnostics"][0]["code"] == "PFL201"
    assert apply_text_edits(SOURCE, fix["edit"]["changes"][uri]) == SAFELY_FIXED


def test_an_unsafe_fix_is_labelled_and_not_preferred(client, workspace):
    uri, _ = opened(client, make_project(workspace / "quick_unsafe") / "model.py", SOURCE)
    fixes = quick_fixes(client, uri, UNSAFE_LINE)
    assert len(fixes) == 1
    assert fixes[0]["title"].endswith("(unsafe)") and fixes[0]["isPreferred"] is False
    fixed = apply_text_edits(SOURCE, fixes[0]["edit"]["changes"][uri])
    assert "torch.randn(3, 4, device=device)" in fixed and "torch.zeros(3, 4).to(device)" in fixed


def test_fix_all_applies_the_safe_fixes_only_and_is_offered_under_source_fix_all(client, workspace):
    uri, _ = opened(client, make_project(workspace / "fix_all") / "model.py", SOURCE)
    actions = actions_on_line(client, uri, 0, only=["source.fixAll"])
    assert [action["kind"] for action in actions] == ["source.fixAll.perflint"]
    assert apply_text_edits(SOURCE, actions[0]["edit"]["changes"][uri]) == SAFELY_FIXED
    assert actions_on_line(client, uri, 0, only=["refactor"]) == []
    automatic = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "context": {"diagnostics": [], "triggerKind": 2},
            "range": {"start": {"line": SAFE_LINE, "character": 0}, "end": {"line": SAFE_LINE, "character": 0}},
        },
    )
    assert automatic and all(action["kind"] == "quickfix" for action in automatic)


def test_an_edit_inside_one_function_moves_the_diagnostics_of_the_others_as_a_fresh_lint_places_them(client, workspace):
    """The server lints such an edit incrementally (``perflint.engine.incremental``)."""
    project = make_project(workspace / "incremental")
    text = SOURCE + "\n\ndef other(device):\n    return torch.ones(2).to(device)\n"
    uri, diagnostics = opened(client, project / "model.py", text)
    assert [d["range"]["start"]["line"] for d in diagnostics] == [SAFE_LINE, UNSAFE_LINE, 10]
    edited = text.replace("    r = torch.randn", "    scale = 2\n    r = torch.randn")
    client.replace(uri, edited, version=2)
    moved = client.diagnostics(uri, version=2)
    assert [d["range"]["start"]["line"] for d in moved] == [SAFE_LINE, UNSAFE_LINE + 1, 11]
    _, fresh = opened(client, project / "fresh.py", edited)
    assert moved == fresh


def test_code_actions_follow_an_edit_not_yet_linted(client, workspace):
    project = make_project(workspace / "stale")
    uri, _ = opened(client, project / "model.py", SOURCE)
    shifted = "# a new first line\n" + SOURCE
    client.replace(uri, shifted, version=2)
    fixes = quick_fixes(client, uri, SAFE_LINE + 1)
    assert len(fixes) == 1
    assert apply_text_edits(shifted, fixes[0]["edit"]["changes"][uri]) == "# a new first line\n" + SAFELY_FIXED


def test_the_noqa_action_silences_the_finding_once_applied(client, workspace):
    uri, _ = opened(client, make_project(workspace / "noqa") / "model.py", SOURCE)
    noqa = [action for action in actions_on_line(client, uri, SAFE_LINE) if "noqa" in action["title"]]
    assert len(noqa) == 1
    silenced = apply_text_edits(SOURCE, noqa[0]["edit"]["changes"][uri])
    assert "t = torch.zeros(3, 4).to(device)  # noqa: PFL201\n" in silenced
    client.replace(uri, silenced, version=2)
    assert [d["range"]["start"]["line"] for d in client.diagnostics(uri, version=2)] == [UNSAFE_LINE]


def hover_text(client: LanguageClient, uri: str, line: int, character: int) -> str:
    result = client.request(
        "textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
    )
    return result["contents"]["value"] if result else ""


def test_hover_gives_the_why_and_the_fix_and_says_how_to_measure_when_nothing_is_cached(client, workspace):
    uri, _ = opened(client, make_project(workspace / "hover") / "model.py", SOURCE)
    text = hover_text(client, uri, SAFE_LINE, 12)
    assert text.startswith("**PFL201** `create-then-move`")
    assert "Why: " in text and "Fix (safe): Pass `device=device` to `torch.zeros`" in text
    assert "`perflint bench PFL201`" in text and "Measured" not in text
    assert hover_text(client, uri, 0, 0) == ""


def this_machines_fingerprint() -> str:
    """As the server works it out: in a fresh interpreter, where torch is not loaded."""
    script = "from perflint.measure.machine import describe_machine; print(describe_machine()['fingerprint'])"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()


def measured_target() -> str:
    from perflint.measure.harness import targets_for
    from perflint.rules import rule_by_code

    library, device = targets_for(rule_by_code("PFL201").benchmark)[0]
    return f"{library}/{device}"


def store_measurement(project: Path, machine_fingerprint: str, skipped_because: str = "") -> None:
    """A PFL201 measurement in the project's cache, under the key ``--measure`` stores it with;
    a skip with its reason when ``skipped_because`` is given."""
    from perflint.measure.cache import MeasurementCache
    from perflint.measure.harness import DEFAULT_POLICY, benchmark_fingerprint, targets_for
    from perflint.measure.results import MEASURED, SKIPPED, Measurement, Point
    from perflint.rules import rule_by_code

    rule = rule_by_code("PFL201")
    benchmark = rule.benchmark
    library, device = targets_for(benchmark)[0]
    points = tuple(
        Point(
            size=size,
            pattern_seconds=2e-3,
            fix_seconds=5e-4,
            speedup=4.0,
            speedup_low=3.9,
            speedup_high=4.1,
            pattern_stdev=1e-5,
            fix_stdev=1e-5,
            samples=15,
        )
        for size in benchmark.sizes
    )
    if skipped_because:
        measurement = Measurement(
            code="PFL201",
            name=rule.name,
            backend=benchmark.backend,
            library=library,
            device=device,
            status=SKIPPED,
            size_unit=benchmark.size_unit,
            reason=skipped_because,
        )
    else:
        measurement = Measurement(
            code="PFL201",
            name=rule.name,
            backend=benchmark.backend,
            library=library,
            device=device,
            status=MEASURED,
            size_unit=benchmark.size_unit,
            points=points,
            measured_at="2026-12-06T20:00:00+00:00",
        )
    cache = MeasurementCache(str(project))
    cache.store(
        cache.key(
            "PFL201",
            benchmark_fingerprint(benchmark),
            library,
            device,
            benchmark.sizes,
            DEFAULT_POLICY,
            machine_fingerprint,
        ),
        measurement,
    )


def test_hover_shows_this_machines_cached_measurement_or_skip_and_no_other_machines(client, workspace):
    other = make_project(workspace / "other_machine")
    store_measurement(other, "0" * 12)
    uri, _ = opened(client, other / "model.py", SOURCE)
    text = hover_text(client, uri, SAFE_LINE, 12)
    assert "Measured" not in text and "`perflint bench PFL201`" in text

    fingerprint = this_machines_fingerprint()
    skipped = make_project(workspace / "skipped_here")
    store_measurement(skipped, fingerprint, skipped_because="no CUDA device")
    uri, _ = opened(client, skipped / "model.py", SOURCE)
    text = hover_text(client, uri, SAFE_LINE, 12)
    assert f"Not measurable on this machine: {measured_target()} (no CUDA device)." in text
    assert "speedup" not in text

    measured = make_project(workspace / "this_machine")
    store_measurement(measured, fingerprint)
    uri, _ = opened(client, measured / "model.py", SOURCE)
    text = hover_text(client, uri, SAFE_LINE, 12)
    assert f"Measured on this machine ({measured_target()}, 2026-12-06 20:00:00 UTC):" in text
    assert "speedup 4.0x (2.00 ms → 500 µs, saves 1.50 ms per call)" in text
    assert "perflint bench" not in text


NOTEBOOK_CELLS = [
    (2, "import torch\n"),
    (1, "# Moving tensors\n"),
    (2, "def make(device):\n    return torch.zeros(3).to(device)\n"),
]


def test_notebook_cells_get_their_own_diagnostics_and_follow_cell_edits(client, workspace):
    project = make_project(workspace / "notebook")
    notebook_uri = (project / "analysis.ipynb").as_uri()
    cell_uris = [f"vscode-notebook-cell:{project / 'analysis.ipynb'}#cell{index}" for index in range(3)]
    client.notify(
        "notebookDocument/didOpen",
        {
            "notebookDocument": {
                "uri": notebook_uri,
                "notebookType": "jupyter-notebook",
                "version": 1,
                "cells": [{"kind": kind, "document": uri} for (kind, _), uri in zip(NOTEBOOK_CELLS, cell_uris)],
            },
            "cellTextDocuments": [
                {"uri": uri, "languageId": "python" if kind == 2 else "markdown", "version": 1, "text": text}
                for (kind, text), uri in zip(NOTEBOOK_CELLS, cell_uris)
            ],
        },
    )
    by_cell = {uri: client.diagnostics(uri) for uri in cell_uris}
    assert by_cell[cell_uris[0]] == [] and by_cell[cell_uris[1]] == []
    [diagnostic] = by_cell[cell_uris[2]]
    assert diagnostic["code"] == "PFL201" and diagnostic["range"]["start"] == {"line": 1, "character": 11}
    assert hover_text(client, cell_uris[2], 1, 15).startswith("**PFL201**")

    client.notify(
        "notebookDocument/didChange",
        {
            "notebookDocument": {"uri": notebook_uri, "version": 2},
            "change": {
                "cells": {
                    "textContent": [
                        {
                            "document": {"uri": cell_uris[2], "version": 2},
                            "changes": [
                                {
                                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                                    "text": "\n",
                                }
                            ],
                        }
                    ]
                }
            },
        },
    )
    [diagnostic] = client.diagnostics(cell_uris[2], version=2)
    assert diagnostic["range"]["start"] == {"line": 2, "character": 11}
    noqa = [action for action in actions_on_line(client, cell_uris[2], 2) if "noqa" in action["title"]]
    assert len(noqa) == 1 and json.dumps(noqa[0]["edit"]["changes"][cell_uris[2]]).count("# noqa: PFL201") == 1


def test_changes_in_quick_succession_are_linted_once_after_the_last(workspace):
    project = make_project(workspace / "debounce")
    client = LanguageClient(project, "--debounce", "0.5")
    try:
        client.initialize(project)
        uri, _ = opened(client, project / "model.py", SOURCE)
        texts = [SOURCE + f"X = {number}\n" for number in range(4)] + [SAFELY_FIXED]
        for version, text in enumerate(texts, start=2):
            client.replace(uri, text, version)
        last_change = time.monotonic()
        assert [d["range"]["start"]["line"] for d in client.diagnostics(uri, version=6)] == [UNSAFE_LINE]
        assert time.monotonic() - last_change >= 0.5  # the lint waited for the typing to pause
        published = [
            message["params"].get("version")
            for message in client.notifications
            if message.get("method") == "textDocument/publishDiagnostics"
        ]
        assert published == []
    finally:
        assert client.close() == 0
