"""Whether a fix applies by default (safe) or only with ``--unsafe-fixes``: its applicability,
as Ruff says. Apart from the rules, so that the runner and the outputs read it without libcst."""

from __future__ import annotations

from perflint.text_enum import TextEnum


class FixSafety(TextEnum):
    SAFE = "safe"
    UNSAFE = "unsafe"


FIX_SAFE = FixSafety.SAFE
FIX_UNSAFE = FixSafety.UNSAFE
FIX_SAFETIES = tuple(FixSafety)
