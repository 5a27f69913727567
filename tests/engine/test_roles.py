"""What a function is for, read from its name."""

from __future__ import annotations

import pytest

from perflint.engine.roles import is_loss_name


@pytest.mark.parametrize("name", ["loss", "self.mel_loss", "criterion", "F.cross_entropy", "loss_fn", "crit"])
def test_names_that_say_loss(name):
    assert is_loss_name(name)


@pytest.mark.parametrize("name", ["self.encoder", "model", "F.relu", "self.rnn"])
def test_names_that_do_not(name):
    assert not is_loss_name(name)
