"""Regenerate the rule pages (``rules/*.md``) and README.md's rule table from the rule classes
and the recorded reference run; ``--check`` writes nothing and exits 1 if anything is stale.

A maintainer's tool for this repository only: it always works on the checkout it lives in,
refuses unless that checkout's pyproject.toml names perflint-ml, and refuses when the
``perflint`` it imports is another copy (an editable install of a different worktree).
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
    import perflint
    from perflint.docs import write_docs

    imported_from = Path(perflint.__file__).resolve().parents[1]
    if imported_from != REPOSITORY_ROOT:
        print(f"generate_docs: the perflint imported is {imported_from}, not this checkout "
              f"({REPOSITORY_ROOT}); install this one (pip install -e .)", file=sys.stderr)
        return 2
    return write_docs(REPOSITORY_ROOT, arguments.check)


if __name__ == "__main__":
    sys.exit(main())
