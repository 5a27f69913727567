"""Tests of precision_review.py's excerpts: a notebook finding is shown in its own cell."""

import json

from precision_review import excerpt

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "prose\n"]},
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "source": ["import torch\n", "torch.autograd.set_detect_anomaly(True)\n"],
        },
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_a_notebook_finding_is_shown_in_its_cell(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(NOTEBOOK, indent=1))
    assert excerpt(path, 2, cell=2) == "    1  import torch\n    2> torch.autograd.set_detect_anomaly(True)"


def test_a_python_finding_is_shown_in_its_file(tmp_path):
    path = tmp_path / "a.py"
    path.write_text("a = 1\nb = 2\n")
    assert excerpt(path, 1) == "    1> a = 1\n    2  b = 2"


def test_a_cell_that_does_not_exist_is_said_not_raised(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(NOTEBOOK))
    assert excerpt(path, 1, cell=9).startswith("(cannot read:")
