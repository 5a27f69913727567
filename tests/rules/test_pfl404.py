"""PFL404 beyond its examples: the message says where the load repeats and where it belongs;
retry loops and loads of changing models stay silent."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.heavy_load_in_loop import HeavyLoadInLoop


def messages(source: str) -> list[str]:
    return [finding.message for finding in lint_source(source, "example.py", [HeavyLoadInLoop])]


def test_message_in_a_loop_and_in_getitem():
    source = (
        "import torch\nimport spacy\n"
        "for text in texts:\n    nlp = spacy.load('en_core_web_sm')\n"
        "class D(torch.utils.data.Dataset):\n    def __getitem__(self, i):\n"
        "        return torch.load(self.path)[i]\n"
    )
    assert messages(source) == [
        "`spacy.load(…)` loads the same model on every iteration; load it once before the loop",
        "`torch.load(…)` loads the same model on every call of `__getitem__` (every item); load it once in `__init__`",
    ]


@pytest.mark.parametrize(
    "loop",
    [
        # Retries: a return once loaded, a break in a nested block.
        "for attempt in range(3):\n    model = AutoModel.from_pretrained(NAME)\n    if model:\n        return model\n",
        "while True:\n    model = torch.load(PATH)\n    if ok(model):\n        break\n",
        # The name changes each iteration, or the receiver does.
        "for name in names:\n    model = AutoModel.from_pretrained(name)\n",
        "for cls in classes:\n    model = cls.from_pretrained(NAME)\n",
        # In a function defined in the loop (not run per iteration).
        "for x in xs:\n    def f():\n        return torch.load(PATH)\n",
    ],
)
def test_retry_loops_and_changing_loads_are_not_flagged(loop):
    source = "import torch\nfrom transformers import AutoModel\ndef g():\n" + "".join(
        f"    {line}\n" for line in loop.splitlines()
    )
    assert messages(source) == []
