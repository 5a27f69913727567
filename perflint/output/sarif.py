"""The ``sarif`` format: a SARIF 2.1.0 log that GitHub code scanning accepts.

``tool.driver.rules`` describes every rule of the catalogue (and PFL000), so a result's
``ruleIndex`` is stable from run to run; each result carries a relative, forward-slash URI
against ``%SRCROOT%`` (the checkout) and a region with 1-based lines and columns. libcst
counts columns in code points, which the run declares through ``columnKind``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import quote

from perflint import __version__
from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding, SuggestedFix
from perflint.output.common import UNLINTABLE_FILE, RuleText, repository_relative_path, rule_text

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
SOURCE_ROOT = "%SRCROOT%"


def level_of(code: str) -> str:
    return "error" if code == INTERNAL_ERROR_CODE else "warning"


def _help_text(text: RuleText) -> str:
    parts = [text.what_it_does]
    if text.why_bad:
        parts.append(f"Why is this bad? {text.why_bad}")
    if text.fix_title:
        parts.append(f"Fix: {text.fix_title}")
    return "\n\n".join(parts)


def _help_markdown(text: RuleText) -> str:
    sections = [f"## What it does\n{text.what_it_does}"]
    if text.why_bad:
        sections.append(f"## Why is this bad?\n{text.why_bad}")
    if text.example:
        sections.append(f"## Example\n```python\n{text.example.rstrip()}\n```")
    if text.use_instead:
        sections.append(f"## Use instead\n```python\n{text.use_instead.rstrip()}\n```")
    if text.fix_title:
        sections.append(f"**Fix:** {text.fix_title}")
    return "\n\n".join(sections)


def rule_descriptor(text: RuleText) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": text.code,
        "name": text.name,
        "shortDescription": {"text": text.summary},
        "fullDescription": {"text": text.what_it_does},
        "help": {"text": _help_text(text), "markdown": _help_markdown(text)},
    }
    descriptor["defaultConfiguration"] = {"level": level_of(text.code)}
    descriptor["properties"] = {"tags": ["performance", text.family] if text.family else ["performance"]}
    return descriptor


def artifact_uri(path: str) -> str:
    """A URI reference for ``path``: relative to the source root, or ``file://`` outside it.

    The path is percent-encoded from its bytes on disk, so a file name that is not UTF-8
    (which Python holds with surrogate escapes) becomes ``%FF`` rather than an encoding error."""
    relative = os.fsencode(repository_relative_path(path))
    if relative.startswith(b"/"):
        return "file://" + quote(relative)
    if len(relative) > 1 and relative[1:2] == b":":
        return "file:///" + quote(relative, safe="/:")
    return quote(relative)


def result(finding: Finding, rule_index: int) -> dict[str, Any]:
    uri = artifact_uri(finding.path)
    location: dict[str, Any] = {"uri": uri}
    if not uri.startswith("file:"):
        location["uriBaseId"] = SOURCE_ROOT
    entry: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": level_of(finding.code),
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": finding.end_line,
                        "endColumn": finding.end_column,
                    },
                }
            }
        ],
    }
    if finding.fix is not None:
        entry["fixes"] = [sarif_fix(finding.fix, location)]
    properties: dict[str, Any] = {}
    if finding.cell is not None:
        # A notebook: the region's lines are the cell's own, and the cell is named here.
        properties["cell"] = finding.cell
    if finding.size is not None:
        # In the unit of the rule's benchmark: what ``--measure`` ranks the rule by.
        properties["size"] = finding.size
    if finding.profile is not None:
        profile = finding.to_dict()
        properties.update(profile=profile["profile"], estimated_saving_share=profile.get("estimated_saving_share"))
    if properties:
        entry["properties"] = properties
    return entry


def sarif_fix(fix: SuggestedFix, location: dict[str, Any]) -> dict[str, Any]:
    """A SARIF ``fix``: its description and the replacements in the finding's file (regions
    1-based, end column exclusive, as the results' are), its applicability as a property."""
    return {
        "description": {"text": fix.message},
        "artifactChanges": [
            {
                "artifactLocation": location,
                "replacements": [
                    {
                        "deletedRegion": {
                            "startLine": edit.line,
                            "startColumn": edit.column,
                            "endLine": edit.end_line,
                            "endColumn": edit.end_column,
                        },
                        "insertedContent": {"text": edit.content},
                    }
                    for edit in fix.edits
                ],
            }
        ],
        "properties": {"applicability": fix.applicability},
    }


def sarif_log(findings: Sequence[Finding]) -> dict[str, Any]:
    from perflint.rules import all_rules

    texts = [UNLINTABLE_FILE] + [rule_text(rule.code) for rule in all_rules()]
    known = {text.code for text in texts}
    for finding in findings:
        if finding.code not in known:
            texts.append(rule_text(finding.code, finding.name))
            known.add(finding.code)
    index_of = {text.code: index for index, text in enumerate(texts)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "perflint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [rule_descriptor(text) for text in texts],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [result(finding, index_of[finding.code]) for finding in findings],
            }
        ],
    }


def write_sarif(findings: Sequence[Finding], stream: TextIO) -> None:
    json.dump(sarif_log(findings), stream, indent=2)
    stream.write("\n")
