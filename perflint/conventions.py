"""Conventions perflint reads a project by, shared by file discovery and the engine.

Importing this module imports nothing heavy: discovery runs before any parse.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import PurePosixPath

# Test code, by pytest's and unittest's conventions: anything under these folders, and files
# named so. Test code is not performance code.
TEST_FOLDERS = ("tests", "test", "testing")
TEST_FILES = ("test_*.py", "*_test.py", "conftest.py")
TEST_PATTERNS = TEST_FOLDERS + TEST_FILES
# Test suites a library ships for its users' tests, by scikit-learn's convention
# (``sklearn.utils.estimator_checks``, imbalanced-learn's and nilearn's): linted, since users
# import them, but test code. Not files named ``testing.py``: deepinv's runs a model over a
# test set, library code.
TEST_SUPPORT_FILES = ("estimator_checks.py", "_estimator_checks.py")


def is_test_path(path: str) -> bool:
    """``path`` (either slash) is test code: a test file, a file in a test folder, or a test
    suite a library ships for its users' tests (``TEST_SUPPORT_FILES``, which discovery still
    lints)."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not parts:
        return False
    return (
        any(part in TEST_FOLDERS for part in parts[:-1])
        or any(fnmatchcase(parts[-1], pattern) for pattern in TEST_FILES)
        or parts[-1] in TEST_SUPPORT_FILES
    )
