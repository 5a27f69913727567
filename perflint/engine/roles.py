"""What a function is for, read from its name, and how often a statement runs.

The one owner of both: the libcst pass (``perflint.engine.functions``) and the project index
(``perflint.engine.project``, which reads files with the standard library's ``ast`` in the
main process and must not import libcst) both ask here.

A statement's cost matters in proportion to how often it runs. A tensor built on the wrong
device in ``__init__`` costs once; in ``forward`` it costs on every call. The role of a
function is read from its name and decorators, the conventions ML code follows:

- *run-once*: constructors and set-up (``__init__``, ``reset_parameters``, ``init_*``,
  ``setup``, ``build_*``, ``configure_optimizers`` …), data preparation (``process``,
  ``prepare_data``, ``download``), plotting and command-line entry points, functions cached by
  ``functools``, module level and class bodies;
- *per-call*: ``forward``, ``__call__``, ``__getitem__``, ``__iter__``, ``__next__``, collate
  functions, Lightning's ``*_step`` hooks, ``generate``, ``sample``, losses (``loss``,
  ``*_loss``, ``loss_*``), and the ``step`` of a torch optimizer class (once per training
  step);
- unknown otherwise.

A name is a prior, weaker than what the project's callers show. A set-up name (``build_*``,
``setup``, ``prepare_data``, ``plot*`` …) yields to callers that repeat (``yields_to_callers``):
speechbrain's ``build_multimodal_embds`` is called from ``transcribe_batch``, which ``forward``
calls on every inference, so its body runs per call. A constructor, an entry point, a cached
function and an initialiser (called lazily, once per object) do not yield. A per-call name never
yields to set-up callers: the project index sees only the project's own calls, and the
framework (``nn.Module.__call__``, Lightning's loop, a DataLoader) calls ``forward``,
``training_step`` or ``__getitem__`` from outside it. Evidence can make code hot, never cold,
save one: a private function that no code of the whole project names (``UNCALLED_EVIDENCE``,
``perflint.engine.project.ProjectIndex.uncalled``) never runs, whatever its name says.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import NamedTuple

RUN_ONCE = "run-once"
PER_CALL = "per-call"
# Why code the project index finds nothing runs (``ProjectIndex.uncalled``) is cold.
UNCALLED_EVIDENCE = "named by no other code of the project"

_RUN_ONCE_NAMES = frozenset(
    {
        "__init__",
        "__post_init__",
        "__new__",
        "__init_subclass__",
        "__set_name__",
        "reset_parameters",
        "setup",
        "build",
        "configure_optimizers",
        "configure_model",
        "process",
        "prepare_data",
        "download",
        "_verify",
        "parse_args",
    }
)
# The methods that build an object: run once per object, which is once per program for most
# classes but once per call for objects built on every call.
_CONSTRUCTOR_NAMES = frozenset({"__init__", "__post_init__"})
# Entry points run once too, but their loops are the program's work (a training loop in
# ``main``), where a set-up function's loops build layers or prepare files once.
_ENTRY_POINT_NAMES = frozenset({"main", "cli", "_main"})
_RUN_ONCE_PREFIXES = (
    "init_",
    "_init_",
    "initialize",
    "_initialize",
    "setup_",
    "_setup_",
    "build_",
    "_build_",
    "plot",
    "_plot",
    "visuali",
    "_visuali",
    "download_",
    "_download",
)
_PER_CALL_NAMES = frozenset(
    {
        "forward",
        "_forward",
        "__call__",
        "__getitem__",
        "__iter__",
        "__next__",
        "generate",
        "sample",
    }
)
# Lightning's hooks and the step functions of hand-written loops: ``training_step``,
# ``train_step``, ``_shared_step``; and losses, computed once per batch: ``loss``,
# ``focal_loss``, ``compute_loss``, ``loss_fn``.
_PER_CALL_SUFFIXES = ("_step", "_loss")
# An ODE solver's ``_select_initial_step`` (torchdiffeq, torchode) picks the first step size, once
# per solve, before the solver's loop: no evidence that it runs per batch.
_INITIAL_STEP = "initial_step"
_PER_CALL_PREFIXES = ("loss_", "_loss_")
_LOSS = "loss"
# The method a training loop calls on its optimizer after every backward. Named alone it says
# nothing (environments and schedulers also ``step``); on a torch optimizer class it runs per step.
_OPTIMIZER_STEP = "step"
# Decorators whose function runs once per distinct argument: its body is set-up, not a hot
# path. The bare names stand for ``from functools import cache`` left unresolved.
CACHING_DECORATORS = frozenset(
    {"functools.cache", "functools.lru_cache", "functools.cached_property", "cache", "lru_cache", "cached_property"}
)
# The last word of a library's or project's own memoising decorator (gpytorch's
# ``@cached(name="covar_cache")``, ``@memoize``): its function also runs once per key.
_MEMOISING_DECORATOR_WORDS = frozenset({"cached", "memoize", "memoized", "memoise", "memoised"})

# torch's optimizer classes: a subclass's ``step`` runs once per training step (a training loop
# calls ``optimizer.step()`` after every backward), for every parameter of every group.
_OPTIMIZERS = (
    ("optimizer", "Optimizer"),
    ("sgd", "SGD"),
    ("adam", "Adam"),
    ("adamw", "AdamW"),
    ("rmsprop", "RMSprop"),
    ("adagrad", "Adagrad"),
    ("adadelta", "Adadelta"),
    ("adamax", "Adamax"),
    ("nadam", "NAdam"),
    ("radam", "RAdam"),
    ("asgd", "ASGD"),
    ("rprop", "Rprop"),
    ("lbfgs", "LBFGS"),
    ("sparse_adam", "SparseAdam"),
)
OPTIMIZER_CLASSES = frozenset(
    name for module, cls in _OPTIMIZERS for name in (f"torch.optim.{cls}", f"torch.optim.{module}.{cls}")
)


def role_of(
    name: str, decorators: Iterable[str] = (), built_per_call: bool = False, optimizer_method: bool = False
) -> str | None:
    """``RUN_ONCE``, ``PER_CALL`` or None (unknown) for a function called ``name`` with these
    decorators (qualified where imported). ``built_per_call``: the function is a method of a
    class whose objects are built anew on every call of the code that uses them (a torch
    distribution, made from a network's outputs in each forward), so its constructor runs per
    call, not once. ``optimizer_method``: the function is a method of a torch optimizer class,
    whose ``step`` runs once per training step."""
    if built_per_call and name in _CONSTRUCTOR_NAMES:
        return PER_CALL
    if optimizer_method and name == _OPTIMIZER_STEP:
        return PER_CALL
    if name in _RUN_ONCE_NAMES or name in _ENTRY_POINT_NAMES or name.startswith(_RUN_ONCE_PREFIXES):
        return RUN_ONCE
    if _is_cached(decorators):
        return RUN_ONCE
    if name.endswith(_INITIAL_STEP):
        return None
    if name in _PER_CALL_NAMES or is_collate_name(name) or name.endswith(_PER_CALL_SUFFIXES):
        return PER_CALL
    if name == _LOSS or name.startswith(_PER_CALL_PREFIXES):
        return PER_CALL
    return None


def yields_to_callers(name: str, decorators: Iterable[str] = ()) -> bool:
    """The run-once role of a function called ``name`` with these decorators is read from a
    set-up name alone (``build_*``, ``setup``, ``prepare_data``, ``plot*``), so callers that repeat
    (a per-call or hot function, a loop of an entry point) overrule it. Constructors run once
    per object whoever builds it, an entry point is the program, and a cached function runs
    once per key however often it is called: those do not yield. Nor do initialisers
    (``init_*``, ``_initialize``): per-call code calls them behind a lazy-initialisation guard
    (``if not self._initialized: self._initialize(d)``, pomegranate, normflows) that the
    project index does not record, so they run once per object."""
    if name in _CONSTRUCTOR_NAMES or name in _ENTRY_POINT_NAMES or name.startswith("__"):
        return False
    if _is_cached(decorators) or name.lstrip("_").startswith(_INITIALISER_WORDS):
        return False
    return name in _RUN_ONCE_NAMES or name.startswith(_RUN_ONCE_PREFIXES)


# The words that start an initialiser's name, underscores left out.
_INITIALISER_WORDS = ("init_", "initiali")


def _is_cached(decorators: Iterable[str]) -> bool:
    return any(
        decorator in CACHING_DECORATORS or decorator.rpartition(".")[2] in _MEMOISING_DECORATOR_WORDS
        for decorator in decorators
    )


def is_collate_name(name: str) -> bool:
    """``collate``, ``collate_fn``, ``_collate_batch``: a function named as a DataLoader's collate
    function, which merges the samples a dataset returns into a batch."""
    return "collate" in name


# Lightning runs its evaluation and prediction loops, their hooks included, under
# ``torch.no_grad()`` (or ``inference_mode``): ``validation_step``, ``test_step``,
# ``predict_step``, ``on_validation_batch_end``.
_GRADIENT_FREE_HOOKS = frozenset({"validation_step", "test_step", "predict_step"})
_GRADIENT_FREE_HOOK_PREFIXES = ("on_validation_", "on_test_", "on_predict_", "validation_epoch_", "test_epoch_")


def is_gradient_free_hook(name: str) -> bool:
    """A method named as a hook its framework runs with autograd off: Lightning's
    ``validation_step``, ``test_step``, ``predict_step`` and the hooks of those loops
    (``on_validation_epoch_end``)."""
    return name in _GRADIENT_FREE_HOOKS or name.startswith(_GRADIENT_FREE_HOOK_PREFIXES)


# Private methods a library calls on the objects it is given, by name: scikit-learn's
# ``BaseEstimator.get_params(self)``, which a class may call without inheriting from it
# (skorch's callbacks), asks ``self._get_param_names()``; torch's layers call an override's
# ``_conv_forward`` or ``_check_input_dim``, its ``Module`` a ``_load_from_state_dict``.
LIBRARY_CALLED_PRIVATE_NAMES = frozenset(
    {
        "_get_param_names",
        "_more_tags",
        "_get_tags",
        "_check_n_features",
        "_check_feature_names",
        "_validate_data",
        "_get_default_requests",
        "_get_metadata_request",
        "_conv_forward",
        "_check_input_dim",
        "_output_padding",
        "_load_from_state_dict",
        "_save_to_state_dict",
        "_apply",
        "_get_name",
        "_named_members",
        "_replicate_for_data_parallel",
    }
)


def is_optimizer_name(name: str) -> bool:
    """``optimizer``, ``opt``, ``d_optim``, ``optimizer_g``: a name that says optimizer.

    Names are the evidence a training loop has: optimizers are built far from where they are
    stepped (``configure_optimizers``, a factory, a config), and environments and schedulers
    also have a ``step()``.
    """
    name = name.lower()
    return "optim" in name or name == "opt" or name.startswith("opt_") or name.endswith("_opt")


def is_loss_name(name: str) -> bool:
    """``loss``, ``self.mel_loss``, ``criterion``, ``F.cross_entropy``: a callable whose name
    says it computes a loss (the last part of a dotted name counts)."""
    name = name.rsplit(".", 1)[-1].lower()
    return "loss" in name or "criterion" in name or name in ("crit", "cross_entropy", "nll", "kl_div")


def is_entry_point(name: str) -> bool:
    """A command-line entry point (``main``): it runs once, but its loops are hot."""
    return name in _ENTRY_POINT_NAMES


class Frequency(enum.Enum):
    """How often a statement runs, as far as the code shows.

    ``COLD``: only in set-up (``__init__``, data preparation, plotting) or code only set-up
    calls, loops included; ``ONCE``: once per program, but its loops are the program's work
    (module level, ``main``, code only entry points call); ``PER_CALL``: on every
    call of a function that runs per batch or per sample (``forward``, ``training_step``,
    a function the training loop calls); ``HOT``: in a loop, or in a per-call function's
    loop; ``UNKNOWN``: no evidence either way; ``NEVER``: the code itself shows that it never
    runs (a branch under a test literals decide, ``if 11 < 3:``; a statement after a ``return``
    or ``raise`` of its block).
    """

    NEVER = "never"
    COLD = "cold"
    ONCE = "once"
    UNKNOWN = "unknown"
    PER_CALL = "per-call"
    HOT = "hot"

    @property
    def repeats(self) -> bool:
        """There is evidence that the statement runs many times."""
        return self in (Frequency.PER_CALL, Frequency.HOT)


class ExecutionEstimate(NamedTuple):
    """How often a statement runs, and the evidence in a few words ("runs per batch: in
    `training_step`", "in a loop over `loader`"); the evidence is "" when there is none."""

    frequency: Frequency
    evidence: str

    @property
    def repeats(self) -> bool:
        return self.frequency.repeats


def per_call_evidence(function: str, built_per_call: bool = False, optimizer_method: bool = False) -> str:
    """Why a per-call function's statements repeat, in the words its name suggests
    (``built_per_call``, ``optimizer_method``: see ``role_of``)."""
    if built_per_call and function in _CONSTRUCTOR_NAMES:
        return f"runs per call: in `{function}` of a distribution, which code builds anew on each call"
    if optimizer_method and function == _OPTIMIZER_STEP:
        return f"runs per training step: in `{function}` of an optimizer"
    if function.endswith("_step"):
        return f"runs per batch: in `{function}`"
    return f"runs per call: in `{function}`"


# A container's methods that change it in place (``buf.append(x)``, ``d.update(other)``).
_CONTAINER_MUTATORS = frozenset(
    {"append", "extend", "insert", "update", "add", "pop", "clear", "fill", "sort", "resize"}
)


def names_an_in_place_method(method: str) -> bool:
    """``x.<method>(…)`` changes ``x`` in place, as its name says: a container's mutator
    (``append``, ``update``), or torch's in-place convention, one trailing underscore (``add_``,
    ``zero_``, ``copy_``; not ``__call__`` or ``_private``)."""
    return method in _CONTAINER_MUTATORS or (method.endswith("_") and not method.startswith("_"))
