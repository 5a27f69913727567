"""The API catalogue: every record names a real function, with the signature it really has."""

from __future__ import annotations

import builtins
import importlib
import inspect
import re

import pytest

from perflint.engine import catalog
from perflint.engine.catalog import Flag, Signature, lookup
from perflint.engine.catalog import torch as catalog_torch
from perflint.engine.catalog.records import function

RECORDS = catalog.functions()


def resolve(qualified_name: str):
    """The object a qualified name refers to, importing its module (None when it has none)."""
    if qualified_name.startswith("builtins."):
        return getattr(builtins, qualified_name.partition(".")[2], None)
    module_name, _, attribute = qualified_name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        if "." not in module_name:
            pytest.skip(f"{module_name} is not installed")
        return resolve(module_name) and getattr(resolve(module_name), attribute, None)
    return getattr(module, attribute, None)


def inspected(obj) -> Signature | None:
    """The signature ``inspect`` gives, in the catalogue's form (None where it gives none)."""
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return None
    parts: list[str] = []
    positional_only_open = keyword_only = False
    for parameter in parameters:
        if parameter.kind is parameter.POSITIONAL_ONLY:
            positional_only_open = True
            parts.append(parameter.name)
            continue
        if positional_only_open:
            parts.append("/")
            positional_only_open = False
        if parameter.kind is parameter.VAR_POSITIONAL:
            parts.append("*" + parameter.name)
            keyword_only = True
        elif parameter.kind is parameter.KEYWORD_ONLY:
            if not keyword_only:
                parts.append("*")
                keyword_only = True
            parts.append(parameter.name)
        elif parameter.kind is parameter.VAR_KEYWORD:
            parts.append("**" + parameter.name)
        else:
            parts.append(parameter.name)
    if positional_only_open:
        parts.append("/")
    return Signature.parse(", ".join(parts))


_DOCUMENTED_CALL = re.compile(
    r"^\s*(?:\.\. function:: )?(?:[\w.]+\.)?(?P<name>\w+)\((?P<parameters>.*?)\)\s*(?:->.*)?$"
)


def documented_overloads(obj, name: str) -> list[list[str]]:
    """Each documented form ``name(a, b=1, *, c=None) -> Tensor`` as its list of names."""
    overloads = []
    for line in (obj.__doc__ or "").splitlines():
        match = _DOCUMENTED_CALL.match(line)
        if not match or match.group("name") != name:
            continue
        names, depth, current = [], 0, ""
        for character in match.group("parameters") + ",":
            depth += character in "([{"
            depth -= character in ")]}"
            if character == "," and depth == 0:
                names.append(current.split("=")[0].split(":")[0].strip().replace("\\", ""))
                current = ""
            else:
                current += character
        # The documentation writes ``zeros(*size, *, out=None)``; Python has no bare ``*``
        # after ``*size``.
        overloads.append(
            [
                name
                for index, name in enumerate(names)
                if name and not (name == "*" and index and names[index - 1].startswith("*"))
            ]
        )
    return overloads


def signature_names(signature: Signature) -> list[str]:
    names = list(signature.positional)
    if signature.var_positional is not None:
        names.append("*" + signature.var_positional)
    elif signature.keyword_only:
        names.append("*")
    return names + list(signature.keyword_only)


LIBRARIES = sorted({record.library for record in RECORDS})


def records_of(library: str) -> list:
    if library != "builtins":
        pytest.importorskip(library)
    return [record for record in RECORDS if record.library == library]


@pytest.mark.slow
@pytest.mark.parametrize("library", LIBRARIES)
def test_every_record_names_a_function_of_the_installed_library(library):
    missing = [record.name for record in records_of(library) if not callable(resolve(record.name))]
    assert missing == []


# SciPy and pandas take seconds to import: their records are checked in the full run.
@pytest.mark.parametrize(
    "library",
    [
        "numpy",
        pytest.param("scipy", marks=pytest.mark.slow),
        pytest.param("pandas", marks=pytest.mark.slow),
        "math",
        "re",
        "json",
        "copy",
        "builtins",
    ],
)
def test_signatures_match_what_python_introspection_reports(library):
    """Where ``inspect`` answers; where it does not (``range``, ``min``, ``math.log``), the
    catalogue follows the documentation."""
    mismatches = []
    for record in records_of(library):
        actual = inspected(resolve(record.name))
        if actual is not None and record.signature != actual:
            mismatches.append(f"{record.name}({record.signature.text()}) is ({actual.text()})")
    assert mismatches == []


@pytest.mark.slow  # imports torch
def test_torch_signatures_are_documented_forms():
    """torch's builtins have no introspectable signature: compare with their documentation.

    A record takes the fullest documented form; an ``overloaded`` record may merge forms,
    so its names need only all be documented.
    """
    mismatches = []
    for record in records_of("torch"):
        obj = resolve(record.name)
        actual = inspected(obj)
        # A Python wrapper taking ``(*args)`` or ``(*args, **kwargs)`` says nothing.
        if actual is not None and (actual.positional or actual.var_positional != "args"):
            if record.signature != actual:
                mismatches.append(f"{record.name}({record.signature.text()}) is ({actual.text()})")
            continue
        overloads = documented_overloads(obj, record.function_name)
        if record.name in UNDOCUMENTED_TORCH_FUNCTIONS:
            if overloads:
                mismatches.append(f"{record.name} is documented now: compare with its documentation")
            continue
        names = signature_names(record.signature)
        if not overloads:
            mismatches.append(f"{record.name} documents no call form")
        elif record.overloaded:
            documented = {name for overload in overloads for name in overload} | {"*"}
            if not set(names) <= documented:
                mismatches.append(f"{record.name}: {set(names) - documented} undocumented")
        elif names not in overloads:
            mismatches.append(f"{record.name}({record.signature.text()}) is none of {overloads}")
    assert mismatches == []


# Aliases of documented ``torch.Tensor`` methods and ``torch.nn.functional`` functions that
# torch exports without documentation of their own.
UNDOCUMENTED_TORCH_FUNCTIONS = {
    "torch.log_softmax",
    "torch.relu",
    "torch.masked_fill",
    "torch.device",
    # The legacy tensor constructors, whose classes carry no docstring.
    *(f"torch.{name}" for name in catalog_torch.LEGACY_CONSTRUCTORS),
}


@pytest.mark.slow  # imports torch
def test_undocumented_torch_functions_take_their_recorded_keywords():
    torch = pytest.importorskip("torch")
    tensor = torch.ones(3)
    assert lookup("torch.log_softmax").signature.text() == "input, dim, *, dtype"
    torch.log_softmax(input=tensor, dim=0, dtype=None)
    assert lookup("torch.relu").signature.text() == "input"
    torch.relu(input=tensor)
    assert lookup("torch.masked_fill").signature.text() == "input, mask, value"
    torch.masked_fill(input=tensor, mask=tensor > 0, value=0.0)
    assert lookup("torch.device").signature.text() == "type, index"
    assert torch.device(type="cpu", index=0) == torch.device("cpu:0")
    for name in catalog_torch.LEGACY_CONSTRUCTORS:
        assert lookup(f"torch.{name}").signature.text() == "*data, device"
        assert getattr(torch, name)(2, 3, device="cpu").shape == (2, 3)
        assert getattr(torch, name)([1, 0]).shape == (2,)


def test_signature_text_round_trips():
    for text in ("a, /, b, *args, c, **kwargs", "x, /, out, *, where", "*size, device", "a, b, *, c"):
        assert Signature.parse(text).text() == text


def test_a_record_cannot_mutate_a_parameter_it_does_not_have():
    with pytest.raises(ValueError, match="not a parameter"):
        function("numpy.copyto", "dst, src", mutates=("destination",))


def test_lookup_finds_records_by_name_and_alias():
    assert lookup("numpy.linalg.inv").has(Flag.EXPENSIVE)
    assert lookup("torch.utils.data.dataset.TensorDataset") is lookup("torch.utils.data.TensorDataset")
    assert lookup("numpy.not_a_function") is None and lookup(None) is None


def test_flags_say_what_the_rules_rely_on():
    zeros = lookup("torch.zeros")
    assert zeros.has(Flag.FACTORY) and zeros.has(Flag.HOST_ALLOCATION) and zeros.accepts_device
    assert not lookup("torch.zeros_like").has(Flag.HOST_ALLOCATION)
    assert not lookup("torch.tensor").has(Flag.HOST_ALLOCATION)
    assert not lookup("torch.randn").has(Flag.PURE)
    assert lookup("numpy.copyto").mutates == ("dst",)
    assert lookup("torch.from_numpy").shares_data_with == "ndarray"
    assert lookup("torch.nonzero").has(Flag.SYNCHRONISES)
    assert lookup("numpy.sqrt").has(Flag.ELEMENTWISE) and not lookup("torch.equal").has(Flag.ELEMENTWISE)


def test_tables_built_from_a_few_parameters_are_known_and_pure():
    for name in ("numpy.hanning", "numpy.kaiser", "numpy.meshgrid", "torch.hann_window", "scipy.signal.get_window"):
        assert lookup(name).has(Flag.BUILDS_TABLE) and lookup(name).has(Flag.PURE), name
    assert not lookup("numpy.outer").has(Flag.BUILDS_TABLE)
    assert not lookup("torch.zeros").has(Flag.BUILDS_TABLE)


def test_derived_tables_come_from_the_records():
    assert catalog.CONSTRUCTORS["torch.zeros"] == "torch" and catalog.CONSTRUCTORS["pandas.read_csv"] == "pandas"
    assert "torch.empty_like" in catalog.FACTORIES and "numpy.asarray" not in catalog.FACTORIES
    assert catalog.EXPENSIVE_CALLS >= {"numpy.linalg.svd", "scipy.linalg.expm", "torch.inverse"}
    assert {"sqrt", "relu", "equal"} <= catalog.ELEMENTWISE_FUNCTIONS
    assert "print" in catalog.PURE_BUILTINS and "list" in catalog.FRESH_OBJECT_BUILTINS
    assert catalog.ARRAY_CONVERSION_METHODS == {"numpy": "numpy", "to_numpy": "numpy"}


def test_move_keywords_a_factory_can_take_instead():
    assert catalog.move_keywords_with_factory_equivalent(catalog.method("to")) == {"device", "dtype", "non_blocking"}
    assert catalog.move_keywords_with_factory_equivalent(catalog.method("cuda")) == {"device", "non_blocking"}


@pytest.mark.slow  # imports torch
def test_every_math_function_with_an_array_equivalent_computes_the_same_on_an_element():
    numpy = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    pytest.importorskip("scipy")
    for math_name, (numpy_name, torch_name) in catalog.MATH_ARRAY_EQUIVALENTS.items():
        assert lookup(math_name) is not None, f"{math_name} has no record"
        values = (0.5, 0.25)[: len(lookup(torch_name).signature.positional)]
        expected = resolve(math_name)(*values)
        assert numpy.allclose(resolve(numpy_name)(*(numpy.array(v) for v in values)), expected), numpy_name
        assert numpy.allclose(resolve(torch_name)(*(torch.tensor(v) for v in values)).item(), expected), torch_name


def test_series_attributes_are_attributes_of_a_real_series(pandas):
    row = pandas.Series([1.0])
    assert [name for name in sorted(catalog.SERIES_ATTRIBUTES) if not hasattr(type(row), name)] == []


def test_model_loaders_write_none_of_their_arguments():
    assert catalog.is_side_effect_free("joblib.load")
    assert catalog.is_side_effect_free("transformers.AutoModel.from_pretrained")
    assert not catalog.is_side_effect_free("joblib.dump")


def test_every_multi_tensor_operation_exists_and_pairs_with_a_real_in_place_method(torch):
    operations = {**catalog.TORCH_FOREACH_IN_PLACE, **catalog.TORCH_FOREACH_OF_OPERATOR}
    for name, operation in operations.items():
        assert resolve(operation) is not None, operation
        if name.endswith("_"):
            assert hasattr(torch.Tensor, name), name
    for operation in catalog.TORCH_FOREACH_OF_OPERATOR.values():
        assert resolve(operation.removesuffix("_")) is not None, operation  # the out-of-place form
    for method in catalog.TORCH_MODULE_TENSOR_ITERATORS | catalog.TORCH_MODULE_NAMED_TENSOR_ITERATORS:
        assert hasattr(torch.nn.Module, method), method


def test_returned_kind_is_what_a_call_returns_whatever_its_arguments():
    assert catalog.returned_kind("numpy.zeros") == "numpy"
    assert catalog.returned_kind("torch.tanh") == "torch"
    assert catalog.returned_kind("torch.sum") == "torch"
    assert catalog.returned_kind("torch.nn.functional.relu") == "torch"
    assert catalog.returned_kind("torch.max") is None  # a tuple when given a dimension
    assert catalog.returned_kind("torch.equal") is None  # a bool
    assert catalog.returned_kind("numpy.log") is None  # a scalar for a scalar
    assert catalog.returned_kind(None) is None


def _stacking_records(library: str) -> list:
    return [record for record in RECORDS if record.library == library and record.has(Flag.STACKS_MATRICES)]


def _same_per_matrix(whole, per_matrix, close) -> None:
    """``whole`` (a routine's result on a stack) holds, at each index, ``per_matrix[i]``."""
    if isinstance(whole, tuple):
        for j, part in enumerate(whole):
            _same_per_matrix(part, [result[j] for result in per_matrix], close)
        return
    for i, result in enumerate(per_matrix):
        assert close(whole[i], result)


def test_numpy_routines_said_to_stack_matrices_compute_each_matrix_as_alone():
    import numpy as np

    records = _stacking_records(catalog.NUMPY)
    assert {record.function_name for record in records} >= {"inv", "det", "svd", "eigh", "qr"}
    rng = np.random.default_rng(0)
    factors = rng.standard_normal((4, 3, 3))
    stack = factors @ factors.transpose(0, 2, 1) + 3 * np.eye(3)  # symmetric positive definite
    for record in records:
        routine = resolve(record.name)
        extra = (2,) if "n" in record.signature.positional else ()
        per_matrix = [routine(matrix, *extra) for matrix in stack]
        _same_per_matrix(routine(stack, *extra), per_matrix, lambda a, b: np.allclose(a, b))


def test_torch_routines_said_to_stack_matrices_compute_each_matrix_as_alone(torch):
    records = _stacking_records(catalog.TORCH)
    assert {record.name for record in records} >= {"torch.linalg.inv", "torch.linalg.det", "torch.inverse"}
    generator = torch.Generator().manual_seed(0)
    factors = torch.randn(4, 3, 3, generator=generator, dtype=torch.float64)
    stack = factors @ factors.transpose(1, 2) + 3 * torch.eye(3, dtype=torch.float64)
    for record in records:
        routine = resolve(record.name)
        extra = (2,) if "n" in record.signature.positional else ()
        per_matrix = [routine(matrix, *extra) for matrix in stack]
        _same_per_matrix(
            tuple(routine(stack, *extra)) if record.items else routine(stack, *extra),
            [tuple(result) if record.items else result for result in per_matrix],
            lambda a, b: torch.allclose(a, b),
        )
