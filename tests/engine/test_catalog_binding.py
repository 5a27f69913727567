"""Binding a call's arguments to a catalogued signature's parameter names."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine.catalog import BoundArguments, bind, lookup, method

DATALOADER = lookup("torch.utils.data.DataLoader")


def bound(call_text: str, qualified_name: str = "torch.utils.data.DataLoader") -> BoundArguments | None:
    call = cst.parse_expression(call_text)
    assert isinstance(call, cst.Call)
    return bind(call, lookup(qualified_name))


def text(expr: cst.BaseExpression | None) -> str | None:
    return None if expr is None else cst.Module([]).code_for_node(expr)


@pytest.mark.parametrize(
    "call",
    [
        "DataLoader(ds, 8, True, None, None, 4)",
        "DataLoader(ds, 8, num_workers=4)",
        "DataLoader(num_workers=4, dataset=ds)",
    ],
)
def test_an_argument_is_found_by_name_whatever_its_position(call):
    arguments = bound(call)
    assert text(arguments.argument("num_workers")) == "4"
    assert text(arguments.argument("dataset")) == "ds"


def test_a_parameter_not_passed_is_known_to_take_its_default():
    arguments = bound("DataLoader(ds, batch_size=8)")
    assert arguments.argument("num_workers") is None
    assert arguments.is_known("num_workers") and not arguments.passes("num_workers")


def test_unpacked_keywords_make_every_keyword_parameter_not_passed_unknowable():
    arguments = bound("DataLoader(ds, batch_size=8, **options)")
    assert not arguments.is_known("num_workers")
    assert arguments.is_known("dataset") and text(arguments.argument("dataset")) == "ds"


def test_unpacked_positionals_make_the_positions_after_them_unknowable():
    arguments = bound("DataLoader(ds, *rest, pin_memory=True)")
    assert text(arguments.argument("dataset")) == "ds"
    assert not arguments.is_known("num_workers")
    # Keyword-only parameters cannot come from ``*rest``.
    assert arguments.is_known("persistent_workers")
    assert text(arguments.argument("pin_memory")) == "True"


def test_positional_arguments_after_an_unpacking_are_bound_to_no_name():
    arguments = bound("DataLoader(*head, 8)")
    assert arguments.given == {} and not arguments.is_known("dataset")


@pytest.mark.parametrize(
    "call",
    [
        "DataLoader(ds, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)",  # too many positionals
        "DataLoader(ds, dataset=other)",  # two values for one parameter
        "DataLoader(ds, workers=2)",  # no such keyword
    ],
)
def test_a_call_that_cannot_match_the_signature_binds_to_nothing(call):
    assert bound(call) is None


def test_positional_only_parameters_cannot_be_given_by_keyword():
    assert bound("len(obj=x)", "builtins.len") is None
    assert text(bound("len(x)", "builtins.len").argument("obj")) == "x"


def test_the_signatures_own_star_parameters_collect_the_rest():
    arguments = bound("torch.zeros(2, 3, device=dev)", "torch.zeros")
    assert [text(expr) for expr in arguments.extra_positional] == ["2", "3"]
    assert text(arguments.argument("device")) == "dev"
    loads = bound("json.loads(s, strict=False)", "json.loads")
    assert {name: text(expr) for name, expr in loads.extra_keywords.items()} == {"strict": "False"}


def test_an_overloaded_signature_binds_only_keywords():
    arguments = bound("torch.arange(0, 10, device='cuda')", "torch.arange")
    assert arguments.argument("start") is None and not arguments.is_known("start")
    assert not arguments.is_known("end")
    assert text(arguments.argument("device")) == "'cuda'"
    assert bound("torch.arange(end=4)", "torch.arange").is_known("start")


def test_a_method_with_a_signature_binds_like_a_function():
    to = method("to")
    arguments = bind(cst.parse_expression("x.to(device, non_blocking=True)"), to)
    assert text(arguments.argument("device")) == "device"
    assert text(arguments.argument("non_blocking")) == "True"
    assert bind(cst.parse_expression("x.sum()"), method("sum")) is None
