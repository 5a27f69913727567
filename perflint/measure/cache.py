"""Cached measurements, so a second ``perflint --measure`` on the same machine is instant.

An entry is keyed by everything that could change its numbers: the rule, the benchmark's
fingerprint (its source, sizes and version), the library and device, the sizes, the timing
policy, and the machine fingerprint (which covers the CPU, GPUs, OS, Python, library versions
and BLAS threads). Nothing needs invalidating: a change to any of them is a new key.
Skips are stored as well (a target's absence is as much a fact of the machine as a timing).
Entries live in ``measurements/`` of the findings cache's folder (``.perflint_cache``, or
``cache-dir`` / ``--cache-dir``), under the same rules (``perflint.cache.claim_cache_folder``):
nothing is written unless that folder is perflint's. Writes are atomic and an entry that cannot be read,
or whose checksum or key does not match, counts as a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from typing import Any

from perflint.cache import claim_cache_folder, seal_record, unseal_record
from perflint.files import CACHE_DIRECTORY
from perflint.measure.results import Measurement

MEASUREMENTS_FOLDER = "measurements"
_FORMAT = 2


class MeasurementCache:
    """The measurement cache of the project at ``root``, kept in its cache folder (``folder``,
    ``cache-dir`` / ``--cache-dir``; by default ``.perflint_cache`` there); with ``read=False`` it
    only stores (``--remeasure``)."""

    def __init__(self, root: str, read: bool = True, folder: str | None = None) -> None:
        self.read = read
        self.base = folder if folder is not None else os.path.join(root, CACHE_DIRECTORY)
        self.directory = os.path.join(self.base, MEASUREMENTS_FOLDER)

    @staticmethod
    def key(
        code: str,
        benchmark_fingerprint: str,
        library: str,
        device: str,
        sizes: Sequence[int],
        policy: Any,
        machine_fingerprint: str,
    ) -> str:
        facts = [_FORMAT, code, benchmark_fingerprint, library, device, list(sizes), repr(policy), machine_fingerprint]
        return hashlib.sha256(json.dumps(facts).encode()).hexdigest()

    def load(self, key: str) -> Measurement | None:
        if not self.read:
            return None
        try:
            with open(os.path.join(self.directory, f"{key}.json"), encoding="utf-8") as stream:
                payload = unseal_record(json.load(stream))
            if not isinstance(payload, dict) or payload.get("key") != key:
                return None
            return Measurement.from_dict(payload["measurement"]).from_cache()
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None

    def store(self, key: str, measurement: Measurement) -> None:
        """Write one entry atomically; a cache that cannot be written, or a folder that is not
        perflint's, is simply not used."""
        try:
            claim_cache_folder(self.base)
            os.makedirs(self.directory, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".entry-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                json.dump(seal_record({"key": key, "measurement": measurement.to_dict()}), stream)
            os.replace(temporary, os.path.join(self.directory, f"{key}.json"))
        except OSError:
            os.unlink(temporary)
