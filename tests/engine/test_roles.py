"""What a function is for, read from its name."""

from __future__ import annotations

import pytest

from perflint.engine.roles import PER_CALL, RUN_ONCE, is_loss_name, role_of, yields_to_callers


@pytest.mark.parametrize("name", ["loss", "self.mel_loss", "criterion", "F.cross_entropy", "loss_fn", "crit"])
def test_names_that_say_loss(name):
    assert is_loss_name(name)


@pytest.mark.parametrize("name", ["self.encoder", "model", "F.relu", "self.rnn"])
def test_names_that_do_not(name):
    assert not is_loss_name(name)


def test_a_constructor_runs_once_unless_its_objects_are_built_per_call():
    assert role_of("__init__") == RUN_ONCE
    assert role_of("__init__", built_per_call=True) == PER_CALL
    assert role_of("log_prob", built_per_call=True) is None


def test_step_runs_per_call_only_on_an_optimizer():
    assert role_of("step", optimizer_method=True) == PER_CALL
    assert role_of("step") is None
    assert role_of("zero_grad", optimizer_method=True) is None


def test_a_solver_choosing_its_initial_step_size_is_no_per_batch_step():
    assert role_of("training_step") == PER_CALL
    assert role_of("_select_initial_step") is None
    assert role_of("initial_step") is None


@pytest.mark.parametrize(
    "name", ["build_multimodal_embds", "_build_mask", "setup", "setup_batch", "plot_losses", "process"]
)
def test_a_set_up_name_yields_to_callers(name):
    assert role_of(name) == RUN_ONCE
    assert yields_to_callers(name)


@pytest.mark.parametrize(
    "name",
    [
        "__init__",
        "__post_init__",
        "__new__",
        "main",
        "init_prompt",
        "_initialize",
        "_initialize_u_v",
        "forward",
        "compute",
    ],
)
def test_constructors_entry_points_and_other_roles_do_not_yield(name):
    assert not yields_to_callers(name)


def test_a_cached_set_up_function_does_not_yield():
    assert not yields_to_callers("build_table", ["functools.lru_cache"])
    assert not yields_to_callers("build_table", ["gpytorch.utils.memoize.cached"])
