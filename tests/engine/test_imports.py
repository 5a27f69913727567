"""What a name resolves to through the file's imports: every import form, shadowing, scopes, canonical paths."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.probes import probe_calls


def qualified(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.imports.qualified_name(expr))


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np\nprint(np.linalg.inv)\n",
        "import numpy\nprint(numpy.linalg.inv)\n",
        "from numpy.linalg import inv\nprint(inv)\n",
        "from numpy import linalg as la\nprint(la.inv)\n",
        "import numpy.linalg\nprint(numpy.linalg.inv)\n",
        "import numpy.linalg as nla\nprint(nla.inv)\n",
    ],
)
def test_every_import_form_resolves_to_the_same_name(source):
    assert list(qualified(source).values()) == ["numpy.linalg.inv"]


def test_names_without_an_import_or_shadowed_by_assignment_do_not_resolve():
    answers = qualified(
        "import numpy as np\nprint(inv)\ndef f(np):\n    print(np.zeros)\nfrom . import torch\nprint(torch.zeros)\n"
    )
    assert answers == {"inv": None, "np.zeros": None, "torch.zeros": None}


def test_imports_inside_a_function_stay_in_it():
    answers = qualified("def f():\n    import torch as T\n    print(T.zeros)\nprint(T.ones)\n")
    assert answers == {"T.zeros": "torch.zeros", "T.ones": None}


def test_private_module_paths_are_canonicalised():
    answers = qualified("from torch.utils.data.dataloader import DataLoader\nprint(DataLoader)\n")
    assert answers == {"DataLoader": "torch.utils.data.DataLoader"}
