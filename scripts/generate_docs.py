"""Regenerate the rule pages (``docs/rules/*.md``) and README.md's rule table from the rule classes
and the recorded reference run; ``--check`` writes nothing and exits 1 if anything is stale.

A maintainer's tool for this repository only: it always works on the checkout it lives in,
with that checkout's own ``perflint`` (not whichever copy is installed), and refuses unless
the checkout's pyproject.toml names perflint-ml.
Run: ``python scripts/generate_docs.py [--check]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if any page is out of date, writing nothing")
    arguments = parser.parse_args()
    sys.path.insert(0, str(REPOSITORY_ROOT))
    from perflint.docs import write_docs

    return write_docs(REPOSITORY_ROOT, arguments.check)


if __name__ == "__main__":
    sys.exit(main())
