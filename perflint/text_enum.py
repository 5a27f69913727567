"""An enumeration whose members are their text: a closed set of names in the code, the same
strings in output, caches and configuration.

Members are ``str`` instances equal to their value, hash as it, print as it and serialise to
JSON as it, so a finding read back from a cache (``"safe"``) equals the member it was written
from (``FixSafety.SAFE``). Python 3.11's ``enum.StrEnum`` does this; perflint supports 3.9. Their ``repr`` is the
string's too, so that keys built from ``repr`` (benchmark digests) stay what they were.
"""

from __future__ import annotations

import enum


class TextEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value

    def __format__(self, format_spec: str) -> str:
        return format(self.value, format_spec)

    def __repr__(self) -> str:
        return repr(self.value)

    def __hash__(self) -> int:
        return hash(self.value)
