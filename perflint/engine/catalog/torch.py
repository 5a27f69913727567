"""PyTorch: the functions the rules reason about, tensor types, and device facts.

torch's functions are builtins without an introspectable signature; these follow the
signatures in their documentation (the first line of each docstring, for torch 2.x), with
the fullest overload where there are several. Where overloads differ in what a positional
argument means (``arange(end)`` / ``arange(start, end)``), the entry is ``overloaded`` and a
binding assigns only keyword arguments to names. tests/engine/test_catalog.py checks the
names against the installed torch's docstrings.
"""

from __future__ import annotations

from perflint.engine.catalog.records import (
    BUILDS_TABLE,
    CONCATENATES,
    CONVERTS_SEQUENCES,
    COPIES_DATA,
    DEBUG_MODE,
    DISABLES_AUTOGRAD,
    DRAINS_DEVICE,
    DRAWS_RANDOM,
    ELEMENTWISE,
    EXPENSIVE,
    FACTORY,
    FILLS_ZEROS_OR_ONES,
    FRESH_ARRAY,
    HOST_ALLOCATION,
    IN_MEMORY_DATASET,
    INVERSE,
    JOINS_ARRAYS,
    LOADS_BATCHES,
    LOADS_MODEL,
    MATRIX_PRODUCT,
    OPTIMIZER,
    PURE,
    READS_TWICE,
    REDUCES_AXES,
    REDUCTION,
    SETS_GRAD_MODE,
    SHAPE_OF_FIRST_ARGUMENT,
    SOLVES,
    SORTS,
    STACKS_MATRICES,
    SYNCHRONISES,
    ArrayKind,
    Signature,
    function,
    method,
)

TORCH = ArrayKind.TORCH

ARRAY_TYPES = {
    "torch.Tensor": TORCH,
    "torch.nn.Parameter": TORCH,
    "torch.nn.parameter.Parameter": TORCH,
    "torch.FloatTensor": TORCH,
    "torch.LongTensor": TORCH,
}
# Functions of one argument that test what ``isinstance(x, <type>)`` tests.
TYPE_TESTS = {"torch.is_tensor": TORCH}
# Element-wise functions whose arguments must all be tensors (``torch.maximum(x, 0.5)`` is a
# TypeError; so is ``torch.max(x, 0.5)``, whose two-tensor form is ``maximum``), and the tensor
# method that takes a Python number instead.
NUMBER_TAKING_METHODS = {
    "torch.maximum": "clamp_min",
    "torch.minimum": "clamp_max",
    "torch.max": "clamp_min",
    "torch.min": "clamp_max",
}
# Functions that return a Python bool computed on the device, and the tensor that holds the
# same answer without reading it (for ``torch._assert_async``): the arguments' code fills
# ``{arguments}``.
TENSOR_FORMS_OF_HOST_ANSWERS = {
    "torch.equal": "torch.eq({arguments}).all()",
    "torch.allclose": "torch.isclose({arguments}).all()",
}
# How docstrings spell a tensor's type (``x : torch.Tensor``, ``x (Tensor): ...``).
DOCSTRING_TYPES = {
    name: TORCH
    for name in ("torch.Tensor", "Tensor", "tensor", "torch.FloatTensor", "torch.LongTensor", "torch.BoolTensor")
}

# Classes whose subclasses are torch modules (``forward`` runs on every call of the model),
# torch's own and those of frameworks built on it.
# Beside ``nn.Module``, the layers and containers projects subclass (``class Block(nn.Sequential)``,
# ``class ScaledLinear(nn.Linear)``) and torch's private bases of its losses, norms, convolutions,
# dropouts and pools (``class FocalLoss(_Loss)``).
_MODULE_SUBCLASSES = (
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "Linear",
    "Bilinear",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Embedding",
    "EmbeddingBag",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "SyncBatchNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "MultiheadAttention",
    "Transformer",
    "TransformerEncoder",
    "TransformerDecoder",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "RNN",
    "LSTM",
    "GRU",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "Identity",
    "Dropout",
    "Upsample",
    "CrossEntropyLoss",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "NLLLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "KLDivLoss",
)
_PRIVATE_MODULE_BASES = (
    "loss._Loss",
    "loss._WeightedLoss",
    "batchnorm._NormBase",
    "batchnorm._BatchNorm",
    "batchnorm._LazyNormBase",
    "instancenorm._InstanceNorm",
    "conv._ConvNd",
    "conv._ConvTransposeNd",
    "dropout._DropoutNd",
    "pooling._MaxPoolNd",
    "pooling._AvgPoolNd",
    "pooling._AdaptiveAvgPoolNd",
    "pooling._AdaptiveMaxPoolNd",
    "padding._ConstantPadNd",
    "padding._ReflectionPadNd",
    "padding._ReplicationPadNd",
    "rnn.RNNBase",
)
MODULE_CLASSES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "pytorch_lightning.LightningModule",
        *(f"torch.nn.{name}" for name in _MODULE_SUBCLASSES),
        *(f"torch.nn.modules.{name}" for name in _PRIVATE_MODULE_BASES),
    }
)

# torch.distributions classes (by their module under ``torch.distributions``): a subclass's
# objects are built from a network's outputs on every forward, so its constructor is per-call code.
_DISTRIBUTIONS = (
    ("distribution", "Distribution"),
    ("exp_family", "ExponentialFamily"),
    ("transformed_distribution", "TransformedDistribution"),
    ("independent", "Independent"),
    ("mixture_same_family", "MixtureSameFamily"),
    ("normal", "Normal"),
    ("categorical", "Categorical"),
    ("studentT", "StudentT"),
    ("negative_binomial", "NegativeBinomial"),
    ("beta", "Beta"),
    ("gamma", "Gamma"),
    ("poisson", "Poisson"),
    ("bernoulli", "Bernoulli"),
    ("binomial", "Binomial"),
    ("uniform", "Uniform"),
    ("laplace", "Laplace"),
    ("log_normal", "LogNormal"),
    ("multivariate_normal", "MultivariateNormal"),
    ("dirichlet", "Dirichlet"),
)
DISTRIBUTION_CLASSES = frozenset(
    name
    for module, cls in _DISTRIBUTIONS
    for name in (f"torch.distributions.{cls}", f"torch.distributions.{module}.{cls}")
)

# torch's optimizer classes: a subclass's ``step`` runs once per training step. Defined with the
# roles, which the project index reads without importing the catalogue (and libcst).
from perflint.engine.roles import OPTIMIZER_CLASSES  # noqa: E402,F401

# torchvision's conversions between PIL images and tensors: code that calls them handles images
# on the host, in a data pipeline (a transform applied to a dataset's samples).
PIL_IMAGE_CONVERSIONS = frozenset(
    f"torchvision.transforms.functional.{name}"
    for name in ("to_pil_image", "pil_to_tensor", "to_tensor", "_is_pil_image")
)

# Device types whose memory is not the host's, and the host's own. ``"meta"`` is neither.
ACCELERATOR_DEVICE_TYPES = ("cuda", "mps", "xpu")
HOST_DEVICE_TYPE = "cpu"
# A tensor's flag that is true when it lives on the host (``not x.is_cuda`` may still be ``mps``).
HOST_FLAG = "is_cpu"
# Text a file holds when its tensors may live on an accelerator: it names a device, or uses a
# framework that places the model on one (Lightning, Accelerate), or names a device type as a
# word of its own (``.cuda()``, ``"mps"``; not the ``mps`` of ``timestamps``). Torch code without
# any of them makes its tensors on the host, torch's default.
ACCELERATOR_EVIDENCE_TEXT = ("device", "lightning", "accelerat")

# ``tensor.to(...)`` in its device form (``to(device, dtype, non_blocking, copy)``; the other
# forms are ``to(dtype, …)`` and ``to(other, …)``, so bind its positional arguments with care)
# and ``tensor.cuda(...)``.
TENSOR_TO = method("to", "same", signature="device, dtype, non_blocking, copy, *, memory_format")
TENSOR_CUDA = method("cuda", "same", signature="device, non_blocking, *, memory_format")
# Python types torch takes as dtypes (``x.to(float)`` is float64).
PYTHON_TYPES_AS_DTYPES = frozenset({"float", "int", "bool", "complex"})
# The other spellings of a move, by the signature each binds its arguments to: ``to(dtype, …)``
# and ``to(other, …)`` (another tensor's device and dtype), told apart from ``to(device, …)``
# by the first positional argument; ``.cpu()``; ``.type(t)`` (a dtype or a legacy tensor type,
# which names a device too); ``.type_as(other)``.
MOVE_SIGNATURES = {
    "to": TENSOR_TO.signature,
    "to dtype": Signature.parse("dtype, non_blocking, copy, *, memory_format"),
    "to other": Signature.parse("other, non_blocking, copy, *, memory_format"),
    "cuda": TENSOR_CUDA.signature,
    "cpu": Signature.parse("*, memory_format"),
    "type": Signature.parse("dtype, non_blocking"),
    "type_as": Signature.parse("other"),
}
# The legacy tensor constructors, each of one dtype (``torch.Tensor``: the default, float32),
# and the tensor method that converts to it.
LEGACY_CONSTRUCTORS = {
    "Tensor": "float",
    "FloatTensor": "float",
    "DoubleTensor": "double",
    "HalfTensor": "half",
    "BFloat16Tensor": "bfloat16",
    "LongTensor": "long",
    "IntTensor": "int",
    "ShortTensor": "short",
    "CharTensor": "char",
    "ByteTensor": "byte",
    "BoolTensor": "bool",
}
# The dtypes a tensor constructor fills by reading each value as a Python float (booleans by
# its truth): reading them from one NumPy array that promoted its items to float64 gives the
# same values. An integer dtype reads each value whole, so a promotion to float64 first
# loses integers above 2**53.
FLOAT_READ_DTYPES = frozenset(
    f"torch.{name}"
    for name in (
        "float32",
        "float",
        "float64",
        "double",
        "float16",
        "half",
        "bfloat16",
        "complex64",
        "cfloat",
        "complex128",
        "cdouble",
        "bool",
    )
)
FLOAT_READ_LEGACY_CONVERSIONS = frozenset({"float", "double", "half", "bfloat16", "bool"})

# Keywords of a move that concern only the copy, which disappears when the tensor is created
# on the device instead.
COPY_ONLY_KEYWORDS = frozenset({"non_blocking"})
# ``module.zero_grad(...)`` and ``optimizer.zero_grad(...)``: both take ``set_to_none``.
ZERO_GRAD = method("zero_grad", mutates_receiver=True, signature="set_to_none")

# Convolutions whose per-channel bias a directly following batch norm of the same
# dimensionality cancels: the norm subtracts each channel's mean, bias included.
BIAS_CANCELLING_NORMS = {
    "torch.nn.Conv1d": "torch.nn.BatchNorm1d",
    "torch.nn.Conv2d": "torch.nn.BatchNorm2d",
    "torch.nn.Conv3d": "torch.nn.BatchNorm3d",
}
# Functions whose first argument is a Python integer size (a tensor passed there is read on the
# host, waiting for its device): ``torch.randperm(n)``.
TAKES_PYTHON_SIZE = frozenset({"torch.randperm"})
# Methods that run a model on its input, by the names torch modules, scikit-learn estimators
# and Hugging Face models give them (any receiver: the name is the evidence).
INFERENCE_METHODS = frozenset(
    {"forward", "predict", "predict_proba", "encode", "decode", "generate", "embed", "infer", "inference"}
)
# Of those, the methods that run a whole model's forward pass the way calling it does (a
# module's own ``forward``, pytorch tabular's and RecBole's ``predict``): PFL405's evidence of
# inference.
PREDICTION_METHODS = frozenset({"forward", "predict"})
# The others but ``generate`` run a part of a model's forward pass (a VAE's ``encode`` and
# ``decode``), with autograd as the caller left it when the model's own class is the project's;
# a library's method of these names may turn autograd off itself (Hugging Face's ``generate``
# always does, so it is left out; sentence-transformers' ``encode`` too).
MODEL_PART_METHODS = INFERENCE_METHODS - PREDICTION_METHODS - {"generate"}
# Tensor methods whose result carries no autograd graph: a detached tensor, a NumPy array or
# Python values (PFL405's evidence that a model's caller wants no gradient of its output).
# Namespaces of dataset classes that read every item from files (images, audio, text on disk):
# a DataLoader over one does per-item work that worker processes can share.
FILE_DATASET_NAMESPACES = ("torchvision.datasets.", "torchaudio.datasets.", "torchtext.datasets.")
# Keywords by which a dataset is given a function to apply to every item it returns.
PER_ITEM_TRANSFORM_KEYWORDS = frozenset({"transform", "transforms", "target_transform", "pre_transform"})
# Calls a dataset's ``__getitem__`` makes only to hand back what it already holds: conversions,
# views and copies of one item (``torch.from_numpy(self.x[i]).float()``), no per-item work
# (builtins, ``open`` aside, are none either: ``engine.dataloaders.per_item_work``).
ITEM_CONVERSIONS = frozenset(
    {
        "torch.tensor",
        "torch.as_tensor",
        "torch.from_numpy",
        "torch.Tensor",
        "torch.FloatTensor",
        "torch.LongTensor",
        "numpy.array",
        "numpy.asarray",
        "numpy.float32",
        "numpy.int64",
    }
)
ITEM_CONVERSION_METHODS = frozenset(
    {
        "float",
        "long",
        "int",
        "double",
        "half",
        "bool",
        "to",
        "type",
        "clone",
        "copy",
        "view",
        "reshape",
        "unsqueeze",
        "squeeze",
        "astype",
        "numpy",
        "tolist",
        "item",
        "contiguous",
        "__getitem__",
        "get",
        "keys",
        "values",
        "items",
        "size",
        "dim",
        "numel",
    }
)
GRAPH_DROPPING_METHODS = frozenset({"detach", "numpy", "item", "tolist"})
# Keywords by which a call asks for its output as tensors it builds on the host: Hugging Face
# tokenizers, processors and feature extractors (``tokenizer(text, return_tensors="pt")``), whose
# fields (``.input_ids``) stay in host memory until moved.
HOST_TENSOR_KEYWORDS = frozenset({"return_tensors"})
# Methods whose call in a function shows it computes gradients: a backward pass (Lightning's
# ``manual_backward``) or ``torch.autograd.grad``.
GRADIENT_METHODS = frozenset({"backward", "manual_backward", "grad"})
# Keyword arguments by which a call asks a model for derivatives of its output, computed with
# autograd inside its forward pass: interatomic potentials' forces, stresses and virials (MACE's
# ``model(batch, compute_force=True, compute_stress=True)``), Hessians, input gradients.
DERIVATIVE_KEYWORDS = frozenset(
    f"{verb}_{quantity}"
    for verb in ("compute", "calc", "calculate", "return")
    for quantity in (
        "force",
        "forces",
        "stress",
        "stresses",
        "virial",
        "virials",
        "hessian",
        "hessians",
        "grad",
        "grads",
        "gradient",
        "gradients",
        "jacobian",
        "derivatives",
    )
)
# Methods whose call on an object shows it is a module: only models have a training mode and
# parameters, and ``.to(device)`` / ``.cuda()`` of something later called is a module's move.
MODEL_EVIDENCE_METHODS = frozenset({"eval", "train", "parameters", "to", "cuda"})
# What makes a tensor a module's own state: a parameter or buffer wraps the tensor it is given
# without copying it (``nn.Parameter(t)`` shares ``t``'s storage), and a module's
# ``register_buffer``/``register_parameter`` keep it. Each call must be given its own tensor:
# given one tensor, every parameter made from it is the same storage (tied weights).
MODULE_STATE_WRAPPERS = frozenset(
    {"torch.nn.Parameter", "torch.nn.parameter.Parameter", "torch.nn.Buffer", "torch.nn.parameter.Buffer"}
)
MODULE_STATE_METHODS = frozenset({"register_buffer", "register_parameter"})
# A trainable parameter (unless given ``requires_grad=False``): the optimizer changes it between
# calls, and what is computed from it carries its gradient.
PARAMETER_CONSTRUCTORS = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
# ``self.register_buffer(name, tensor)`` keeps ``tensor`` as ``self.<name>``, and from then on a
# module lets that attribute be set only to a tensor or None (``nn.Module.__setattr__`` raises
# otherwise): the method, and its two parameters in order.
BUFFER_REGISTRATION_METHOD = "register_buffer"
BUFFER_REGISTRATION_PARAMETERS = ("name", "tensor")

# ``nn.Sequential``: calls its arguments' modules in order, each on the previous one's output.
SEQUENTIAL_CONTAINERS = frozenset({"torch.nn.Sequential", "torch.nn.modules.container.Sequential"})
# The parameter of a debugging switch that turns it off when given ``False``
# (``set_detect_anomaly(False)``); None when every call turns it on.
DEBUG_MODE_SWITCHES = {
    "torch.autograd.set_detect_anomaly": "mode",
    "torch.autograd.detect_anomaly": None,
    "torch.autograd.profiler.emit_nvtx": "enabled",
}


# The fields of the named tuple ``torch.max(x, 1)``, ``torch.sort``, ``torch.topk``… return.
VALUES_AND_INDICES = ("values", "indices")
# A tensor's ``max``/``min`` over dims return (values, indices), and over one dim only; its
# ``amax``/``amin`` reduce over several, to the values.
AXES_REDUCTION_METHODS = {"max": "amax", "min": "amin"}

# The methods of ``nn.Module`` that give its tensors one at a time, and those that pair each
# with its name (``(name, tensor)``).
MODULE_TENSOR_ITERATORS = frozenset({"parameters", "buffers"})
MODULE_NAMED_TENSOR_ITERATORS = frozenset({"named_parameters", "named_buffers"})
# An optimizer's parameter groups (``optimizer.param_groups``, ``self.param_groups`` in an
# ``Optimizer`` subclass): dicts whose ``"params"`` entry lists the tensors the group updates.
OPTIMIZER_GROUPS_ATTRIBUTE = "param_groups"
OPTIMIZER_GROUP_TENSORS_KEY = "params"
# In-place tensor methods and the multi-tensor (``torch._foreach_*``) operation that applies
# each to a list of tensors in one call, with the same arguments (a list where the method
# takes a tensor, a number where it takes a number).
FOREACH_IN_PLACE = {
    "add_": "torch._foreach_add_",
    "sub_": "torch._foreach_sub_",
    "mul_": "torch._foreach_mul_",
    "div_": "torch._foreach_div_",
    "lerp_": "torch._foreach_lerp_",
    "copy_": "torch._foreach_copy_",
    "addcmul_": "torch._foreach_addcmul_",
    "addcdiv_": "torch._foreach_addcdiv_",
    "zero_": "torch._foreach_zero_",
}
# The in-place multi-tensor operation of each arithmetic operator (``a * b``: ``_foreach_mul_``).
FOREACH_OF_OPERATOR = {
    "Add": "torch._foreach_add_",
    "Subtract": "torch._foreach_sub_",
    "Multiply": "torch._foreach_mul_",
    "Divide": "torch._foreach_div_",
}

FUNCTIONS = (
    # Factories: a fresh tensor on every call.
    function(
        "torch.tensor",
        "data, *, dtype, device, requires_grad, pin_memory",
        FACTORY | FRESH_ARRAY | PURE | COPIES_DATA | CONVERTS_SEQUENCES,
        returns=TORCH,
    ),
    # The legacy constructors: ``torch.Tensor(2, 3)`` makes a tensor of that size,
    # ``torch.Tensor(data)`` one of that data. Given a NumPy array of their own dtype they
    # share its memory; of any other dtype they convert it, as ``torch.from_numpy(a).float()``
    # does and hardly slower (torch 2.13: 28 against 23 µs for a 226x226x3 float64 array).
    *(
        function(
            f"torch.{name}",
            "*data, device",
            FACTORY | FRESH_ARRAY | PURE | COPIES_DATA | CONVERTS_SEQUENCES,
            returns=TORCH,
        )
        for name in LEGACY_CONSTRUCTORS
    ),
    function(
        "torch.zeros",
        "*size, *, out, dtype, layout, device, requires_grad",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FILLS_ZEROS_OR_ONES,
        returns=TORCH,
    ),
    function(
        "torch.ones",
        "*size, *, out, dtype, layout, device, requires_grad",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FILLS_ZEROS_OR_ONES,
        returns=TORCH,
    ),
    function(
        "torch.empty",
        "*size, *, out, dtype, layout, device, requires_grad, pin_memory, memory_format",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FILLS_ZEROS_OR_ONES,
        returns=TORCH,
    ),
    function(
        "torch.full",
        "size, fill_value, *, out, dtype, layout, device, requires_grad",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
        returns=TORCH,
    ),
    function(
        "torch.eye",
        "n, m, *, out, dtype, layout, device, requires_grad",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FILLS_ZEROS_OR_ONES,
        returns=TORCH,
    ),
    function(
        "torch.arange",
        "start, end, step, *, out, dtype, layout, device, requires_grad",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
        returns=TORCH,
        overloaded=True,
    ),
    function(
        "torch.linspace",
        "start, end, steps, *, out, dtype, layout, device, requires_grad",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
        returns=TORCH,
    ),
    function(
        "torch.logspace",
        "start, end, steps, base, *, out, dtype, layout, device, requires_grad",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
        returns=TORCH,
    ),
    *(
        function(
            f"torch.{window}",
            f"window_length, {parameters}*, dtype, layout, device, requires_grad",
            BUILDS_TABLE | FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
            returns=TORCH,
        )
        for window, parameters in (
            ("hann_window", "periodic, "),
            ("blackman_window", "periodic, "),
            ("bartlett_window", "periodic, "),
            ("kaiser_window", "periodic, beta, "),
        )
    ),
    function(
        "torch.rand",
        "*size, *, generator, out, dtype, layout, device, requires_grad, pin_memory",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | DRAWS_RANDOM,
        returns=TORCH,
    ),
    function(
        "torch.randn",
        "*size, *, generator, out, dtype, layout, device, requires_grad, pin_memory",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | DRAWS_RANDOM,
        returns=TORCH,
    ),
    function(
        "torch.randint",
        "low, high, size, *, generator, out, dtype, layout, device, requires_grad",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | DRAWS_RANDOM,
        returns=TORCH,
        overloaded=True,
    ),
    function(
        "torch.randperm",
        "n, *, generator, out, dtype, layout, device, requires_grad, pin_memory",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | DRAWS_RANDOM,
        returns=TORCH,
    ),
    function(
        "torch.zeros_like",
        "input, *, dtype, layout, device, requires_grad, memory_format",
        FACTORY | FRESH_ARRAY | PURE | SHAPE_OF_FIRST_ARGUMENT,
        returns=TORCH,
    ),
    function(
        "torch.ones_like",
        "input, *, dtype, layout, device, requires_grad, memory_format",
        FACTORY | FRESH_ARRAY | PURE | SHAPE_OF_FIRST_ARGUMENT,
        returns=TORCH,
    ),
    function(
        "torch.empty_like",
        "input, *, dtype, layout, device, requires_grad, memory_format",
        FACTORY | FRESH_ARRAY | PURE | SHAPE_OF_FIRST_ARGUMENT,
        returns=TORCH,
    ),
    function(
        "torch.full_like",
        "input, fill_value, *, dtype, layout, device, requires_grad, memory_format",
        FACTORY | FRESH_ARRAY | PURE | SHAPE_OF_FIRST_ARGUMENT,
        returns=TORCH,
    ),
    function(
        "torch.rand_like",
        "input, *, generator, dtype, layout, device, requires_grad, memory_format",
        FACTORY | FRESH_ARRAY | SHAPE_OF_FIRST_ARGUMENT | DRAWS_RANDOM,
        returns=TORCH,
    ),
    function(
        "torch.randn_like",
        "input, *, generator, dtype, layout, device, requires_grad, memory_format",
        FACTORY | FRESH_ARRAY | SHAPE_OF_FIRST_ARGUMENT | DRAWS_RANDOM,
        returns=TORCH,
    ),
    function(
        "torch.randint_like",
        "input, low, high, *, generator, dtype, layout, device, requires_grad, memory_format",
        FACTORY | FRESH_ARRAY | SHAPE_OF_FIRST_ARGUMENT | DRAWS_RANDOM,
        returns=TORCH,
        overloaded=True,
    ),
    function(
        "torch.empty_strided",
        "size, stride, *, dtype, layout, device, requires_grad, pin_memory",
        FACTORY | FRESH_ARRAY | PURE,
        returns=TORCH,
    ),
    function(
        "torch.normal",
        "mean, std, size, *, generator, out",
        FACTORY | FRESH_ARRAY,
        returns=TORCH,
        overloaded=True,
    ),
    # Conversions and operations that return a tensor of their arguments' data.
    function(
        "torch.as_tensor",
        "data, *, dtype, device",
        PURE | CONVERTS_SEQUENCES,
        returns=TORCH,
        shares_data_with="data",
    ),
    function("torch.from_numpy", "ndarray", PURE, returns=TORCH, shares_data_with="ndarray"),
    function("torch.stack", "tensors, dim, *, out", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=TORCH),
    function("torch.cat", "tensors, dim, *, out", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=TORCH),
    function("torch.concat", "tensors, dim, *, out", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=TORCH),
    function("torch.hstack", "tensors, *, out", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=TORCH),
    function("torch.vstack", "tensors, *, out", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=TORCH),
    function("torch.matmul", "input, other, *, out", FRESH_ARRAY | MATRIX_PRODUCT | PURE, returns=TORCH),
    function("torch.mm", "input, mat2, *, out", FRESH_ARRAY | MATRIX_PRODUCT | PURE, returns=TORCH),
    function("torch.bmm", "input, mat2, *, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.einsum", "equation, *operands", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.outer", "input, vec2, *, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.kron", "input, other, *, out", BUILDS_TABLE | FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.meshgrid", "*tensors, indexing", BUILDS_TABLE | PURE),
    function("torch.cartesian_prod", "*tensors", BUILDS_TABLE | FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.transpose", "input, dim0, dim1", PURE, returns=TORCH),
    function("torch.reshape", "input, shape", PURE, returns=TORCH),
    function("torch.flatten", "input, start_dim, end_dim", PURE, returns=TORCH),
    function("torch.squeeze", "input, dim", PURE, returns=TORCH),
    function("torch.unsqueeze", "input, dim", PURE, returns=TORCH),
    function("torch.flip", "input, dims", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.roll", "input, shifts, dims", FRESH_ARRAY | PURE, returns=TORCH),
    function(
        "torch.sort",
        "input, dim, descending, *, stable, out",
        FRESH_ARRAY | PURE | SORTS,
        items=TORCH,
        item_names=VALUES_AND_INDICES,
    ),
    function(
        "torch.topk",
        "input, k, dim, largest, sorted, *, out",
        FRESH_ARRAY | PURE | SORTS,
        items=TORCH,
        item_names=VALUES_AND_INDICES,
    ),
    function("torch.argsort", "input, dim, descending, *, stable", FRESH_ARRAY | PURE | SORTS, returns=TORCH),
    function("torch.cumsum", "input, dim, *, dtype, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.cumprod", "input, dim, *, dtype, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.clone", "input, *, memory_format", FRESH_ARRAY | PURE, returns=TORCH),
    function(
        "torch.where",
        "condition, input, other, *, out",
        ELEMENTWISE | FRESH_ARRAY | PURE,
        returns=TORCH,
    ),
    function("torch.softmax", "input, dim, *, dtype", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.log_softmax", "input, dim, *, dtype", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.cdist", "x1, x2, p, compute_mode", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.tril", "input, diagonal, *, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.triu", "input, diagonal, *, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.diag", "input, diagonal, *, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.gather", "input, dim, index, *, sparse_grad, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.index_select", "input, dim, index, *, out", FRESH_ARRAY | PURE, returns=TORCH),
    function("torch.masked_fill", "input, mask, value", FRESH_ARRAY | PURE, returns=TORCH),
    # Element-wise functions.
    function("torch.sqrt", "input, *, out", ELEMENTWISE | PURE),
    function("torch.exp", "input, *, out", ELEMENTWISE | PURE),
    function("torch.exp2", "input, *, out", ELEMENTWISE | PURE),
    function("torch.expm1", "input, *, out", ELEMENTWISE | PURE),
    function("torch.log", "input, *, out", ELEMENTWISE | PURE),
    function("torch.log2", "input, *, out", ELEMENTWISE | PURE),
    function("torch.log10", "input, *, out", ELEMENTWISE | PURE),
    function("torch.log1p", "input, *, out", ELEMENTWISE | PURE),
    function("torch.sin", "input, *, out", ELEMENTWISE | PURE),
    function("torch.cos", "input, *, out", ELEMENTWISE | PURE),
    function("torch.tan", "input, *, out", ELEMENTWISE | PURE),
    function("torch.arcsin", "input, *, out", ELEMENTWISE | PURE),
    function("torch.arccos", "input, *, out", ELEMENTWISE | PURE),
    function("torch.arctan", "input, *, out", ELEMENTWISE | PURE),
    function("torch.arctan2", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.asin", "input, *, out", ELEMENTWISE | PURE),
    function("torch.acos", "input, *, out", ELEMENTWISE | PURE),
    function("torch.atan", "input, *, out", ELEMENTWISE | PURE),
    function("torch.atan2", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.sinh", "input, *, out", ELEMENTWISE | PURE),
    function("torch.cosh", "input, *, out", ELEMENTWISE | PURE),
    function("torch.tanh", "input, *, out", ELEMENTWISE | PURE),
    function("torch.abs", "input, *, out", ELEMENTWISE | PURE),
    function("torch.absolute", "input, *, out", ELEMENTWISE | PURE),
    function("torch.sign", "input, *, out", ELEMENTWISE | PURE),
    function("torch.square", "input, *, out", ELEMENTWISE | PURE),
    function("torch.pow", "input, exponent, *, out", ELEMENTWISE | PURE),
    function("torch.add", "input, other, *, alpha, out", ELEMENTWISE | PURE),
    function("torch.subtract", "input, other, *, alpha, out", ELEMENTWISE | PURE),
    function("torch.sub", "input, other, *, alpha, out", ELEMENTWISE | PURE),
    function("torch.multiply", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.mul", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.divide", "input, other, *, rounding_mode, out", ELEMENTWISE | PURE),
    function("torch.div", "input, other, *, rounding_mode, out", ELEMENTWISE | PURE),
    function("torch.true_divide", "dividend, divisor, *, out", ELEMENTWISE | PURE),
    function("torch.floor_divide", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.remainder", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.fmod", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.maximum", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.minimum", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.fmax", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.fmin", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.floor", "input, *, out", ELEMENTWISE | PURE),
    function("torch.ceil", "input, *, out", ELEMENTWISE | PURE),
    function("torch.round", "input, *, decimals, out", ELEMENTWISE | PURE),
    function("torch.trunc", "input, *, out", ELEMENTWISE | PURE),
    function("torch.clip", "input, min, max, *, out", ELEMENTWISE | PURE),
    function("torch.clamp", "input, min, max, *, out", ELEMENTWISE | PURE),
    function("torch.isnan", "input", ELEMENTWISE | PURE, returns=TORCH),
    function("torch.isinf", "input", ELEMENTWISE | PURE, returns=TORCH),
    function("torch.isfinite", "input", ELEMENTWISE | PURE, returns=TORCH),
    function("torch.isclose", "input, other, rtol, atol, equal_nan", ELEMENTWISE | PURE, returns=TORCH),
    function("torch.logical_and", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.logical_or", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.logical_not", "input, *, out", ELEMENTWISE | PURE),
    function("torch.logical_xor", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.hypot", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.negative", "input, *, out", ELEMENTWISE | PURE),
    function("torch.neg", "input, *, out", ELEMENTWISE | PURE),
    function("torch.reciprocal", "input, *, out", ELEMENTWISE | PURE),
    function("torch.deg2rad", "input, *, out", ELEMENTWISE | PURE),
    function("torch.rad2deg", "input, *, out", ELEMENTWISE | PURE),
    function("torch.sigmoid", "input, *, out", ELEMENTWISE | PURE),
    function("torch.relu", "input", ELEMENTWISE | PURE),
    function("torch.erf", "input, *, out", ELEMENTWISE | PURE),
    function("torch.heaviside", "input, values, *, out", ELEMENTWISE | PURE),
    function("torch.copysign", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.greater", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.less", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.not_equal", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.greater_equal", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.less_equal", "input, other, *, out", ELEMENTWISE | PURE),
    function("torch.nn.functional.tanh", "input", ELEMENTWISE | PURE),
    function("torch.nn.functional.sigmoid", "input", ELEMENTWISE | PURE),
    function("torch.nn.functional.relu", "input, inplace", ELEMENTWISE | PURE),
    function("torch.special.exp2", "input, *, out", ELEMENTWISE | PURE),
    function("torch.special.expm1", "input, *, out", ELEMENTWISE | PURE),
    function("torch.special.log1p", "input, *, out", ELEMENTWISE | PURE),
    function("torch.special.round", "input, *, out", ELEMENTWISE | PURE),
    function("torch.special.erf", "input, *, out", ELEMENTWISE | PURE),
    # Reductions.
    function("torch.sum", "input, dim, keepdim, *, dtype", REDUCTION | REDUCES_AXES | PURE),
    function("torch.mean", "input, dim, keepdim, *, dtype, out", REDUCTION | REDUCES_AXES | PURE),
    # ``torch.max(x)`` is a tensor, ``torch.max(x, 1)`` a named tuple of two.
    function(
        "torch.max",
        "input, dim, keepdim, *, out",
        REDUCTION | PURE,
        overloaded=True,
        items=TORCH,
        item_names=VALUES_AND_INDICES,
    ),
    function(
        "torch.min",
        "input, dim, keepdim, *, out",
        REDUCTION | PURE,
        overloaded=True,
        items=TORCH,
        item_names=VALUES_AND_INDICES,
    ),
    function("torch.amax", "input, dim, keepdim, *, out", REDUCTION | REDUCES_AXES | PURE),
    function("torch.amin", "input, dim, keepdim, *, out", REDUCTION | REDUCES_AXES | PURE),
    function(
        "torch.std",
        "input, dim, *, correction, keepdim, out",
        REDUCTION | REDUCES_AXES | READS_TWICE | PURE,
        overloaded=True,
    ),
    function(
        "torch.var",
        "input, dim, *, correction, keepdim, out",
        REDUCTION | REDUCES_AXES | READS_TWICE | PURE,
        overloaded=True,
    ),
    function("torch.prod", "input, dim, keepdim, *, dtype", REDUCTION | PURE),
    function(
        "torch.median", "input, dim, keepdim, *, out", REDUCTION | PURE, items=TORCH, item_names=VALUES_AND_INDICES
    ),
    function("torch.mode", "input, dim, keepdim, *, out", REDUCTION | PURE, items=TORCH, item_names=VALUES_AND_INDICES),
    function(
        "torch.kthvalue",
        "input, k, dim, keepdim, *, out",
        REDUCTION | PURE,
        items=TORCH,
        item_names=VALUES_AND_INDICES,
    ),
    function("torch.std_mean", "input, dim, *, correction, keepdim, out", PURE, items=TORCH),
    function("torch.var_mean", "input, dim, *, correction, keepdim, out", PURE, items=TORCH),
    function("torch.argmax", "input, dim, keepdim", REDUCTION | PURE, returns=TORCH),
    function("torch.argmin", "input, dim, keepdim", REDUCTION | PURE, returns=TORCH),
    function("torch.any", "input, dim, keepdim, *, out", REDUCTION | PURE, returns=TORCH),
    function("torch.all", "input, dim, keepdim, *, out", REDUCTION | PURE, returns=TORCH),
    function("torch.nansum", "input, dim, keepdim, *, dtype", REDUCTION | REDUCES_AXES | PURE),
    function("torch.nanmean", "input, dim, keepdim, *, dtype, out", REDUCTION | PURE),
    function("torch.norm", "input, p, dim, keepdim, out, dtype", REDUCTION | PURE),
    function("torch.count_nonzero", "input, dim", REDUCTION | PURE),
    function("torch.trace", "input", REDUCTION | PURE),
    function("torch.linalg.norm", "input, ord, dim, keepdim, *, out, dtype", REDUCTION | PURE),
    # O(n³) linear algebra.
    function("torch.linalg.inv", "A, *, out", EXPENSIVE | INVERSE | PURE | STACKS_MATRICES, returns=TORCH),
    function("torch.linalg.solve", "A, B, *, left, out", SOLVES | PURE),
    function("torch.linalg.pinv", "A, *, atol, rtol, hermitian, out", EXPENSIVE | PURE | STACKS_MATRICES),
    function(
        "torch.linalg.svd",
        "A, full_matrices, *, driver, out",
        EXPENSIVE | PURE | STACKS_MATRICES,
        items=TORCH,
        item_names=("U", "S", "Vh"),
    ),
    function(
        "torch.linalg.eig",
        "A, *, out",
        EXPENSIVE | PURE | STACKS_MATRICES,
        items=TORCH,
        item_names=("eigenvalues", "eigenvectors"),
    ),
    function(
        "torch.linalg.eigh",
        "A, UPLO, *, out",
        EXPENSIVE | PURE | STACKS_MATRICES,
        items=TORCH,
        item_names=("eigenvalues", "eigenvectors"),
    ),
    function("torch.linalg.eigvals", "A, *, out", EXPENSIVE | PURE | STACKS_MATRICES, returns=TORCH),
    function("torch.linalg.eigvalsh", "A, UPLO, *, out", EXPENSIVE | PURE | STACKS_MATRICES, returns=TORCH),
    function("torch.linalg.cholesky", "A, *, upper, out", EXPENSIVE | PURE | STACKS_MATRICES, returns=TORCH),
    function(
        "torch.linalg.qr", "A, mode, *, out", EXPENSIVE | PURE | STACKS_MATRICES, items=TORCH, item_names=("Q", "R")
    ),
    function("torch.linalg.det", "A, *, out", EXPENSIVE | PURE | STACKS_MATRICES),
    function(
        "torch.linalg.slogdet",
        "A, *, out",
        EXPENSIVE | PURE | STACKS_MATRICES,
        items=TORCH,
        item_names=("sign", "logabsdet"),
    ),
    function("torch.linalg.matrix_power", "A, n, *, out", EXPENSIVE | PURE | STACKS_MATRICES),
    function(
        "torch.linalg.lstsq",
        "A, B, rcond, *, driver",
        EXPENSIVE | PURE,
        items=TORCH,
        item_names=("solution", "residuals", "rank", "singular_values"),
    ),
    function("torch.inverse", "input, *, out", EXPENSIVE | INVERSE | PURE | STACKS_MATRICES),
    # Calls that wait for the device: a result whose size or value the host needs.
    function("torch.cuda.synchronize", "device", SYNCHRONISES | DRAINS_DEVICE),
    function("torch.xpu.synchronize", "device", SYNCHRONISES | DRAINS_DEVICE),
    function("torch.mps.synchronize", "", SYNCHRONISES | DRAINS_DEVICE),
    function("torch.accelerator.synchronize", "device, /", SYNCHRONISES | DRAINS_DEVICE),
    function("torch.cuda.empty_cache", "", SYNCHRONISES | DRAINS_DEVICE),
    function("torch.xpu.empty_cache", "", SYNCHRONISES | DRAINS_DEVICE, aliases=("torch.xpu.memory.empty_cache",)),
    function("torch.mps.empty_cache", "", SYNCHRONISES | DRAINS_DEVICE),
    function(
        "torch.accelerator.empty_cache",
        "",
        SYNCHRONISES | DRAINS_DEVICE,
        aliases=("torch.accelerator.memory.empty_cache",),
    ),
    function(
        "torch.nonzero",
        "input, *, out, as_tuple",
        SYNCHRONISES | PURE,
        returns=TORCH,
        items=TORCH,
        tuple_keywords=("as_tuple",),
    ),
    function(
        "torch.unique",
        "input, sorted, return_inverse, return_counts, dim",
        SYNCHRONISES | PURE | SORTS,
        returns=TORCH,
        items=TORCH,
        tuple_keywords=("return_inverse", "return_counts"),
    ),
    function("torch.masked_select", "input, mask, *, out", SYNCHRONISES | PURE, returns=TORCH),
    function("torch.equal", "input, other", SYNCHRONISES | PURE),
    function("torch.allclose", "input, other, rtol, atol, equal_nan", SYNCHRONISES | PURE),
    function(
        "torch.save",
        "obj, f, pickle_module, pickle_protocol, _use_new_zipfile_serialization, _disable_byteorder_record",
        mutates=("f",),
    ),
    function("torch.device", "type, index", PURE),
    # Autograd switched on or off by an argument (``no_grad`` and ``inference_mode`` are below).
    function(
        "torch.set_grad_enabled",
        "mode",
        SETS_GRAD_MODE,
        aliases=("torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"),
    ),
    # Data loading.
    function(
        "torch.utils.data.DataLoader",
        "dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, collate_fn, "
        "pin_memory, drop_last, timeout, worker_init_fn, multiprocessing_context, generator, "
        "*, prefetch_factor, persistent_workers, pin_memory_device, in_order",
        # Building one changes nothing: workers start, and the sampler draws, when it is iterated.
        FACTORY | PURE | LOADS_BATCHES,
        aliases=("torch.utils.data.dataloader.DataLoader",),
    ),
    function(
        "torch.utils.data.TensorDataset",
        "*tensors",
        IN_MEMORY_DATASET | PURE,
        aliases=("torch.utils.data.dataset.TensorDataset",),
    ),
    function(
        "torch.utils.data.Subset",
        "dataset, indices",
        PURE,
        shares_data_with="dataset",
        aliases=("torch.utils.data.dataset.Subset",),
    ),
    # Optimizers (those that take ``foreach``: a multi-tensor step on CUDA unless it is False).
    function(
        "torch.optim.SGD",
        "params, lr, momentum, dampening, weight_decay, nesterov, *, maximize, foreach, differentiable, fused",
        OPTIMIZER,
        aliases=("torch.optim.sgd.SGD",),
    ),
    function(
        "torch.optim.Adam",
        "params, lr, betas, eps, weight_decay, amsgrad, *, foreach, maximize, capturable, differentiable, "
        "fused, decoupled_weight_decay",
        OPTIMIZER,
        aliases=("torch.optim.adam.Adam",),
    ),
    function(
        "torch.optim.AdamW",
        "params, lr, betas, eps, weight_decay, amsgrad, *, maximize, foreach, capturable, differentiable, fused",
        OPTIMIZER,
        aliases=("torch.optim.adamw.AdamW",),
    ),
    function(
        "torch.optim.RMSprop",
        "params, lr, alpha, eps, weight_decay, momentum, centered, capturable, foreach, maximize, differentiable",
        OPTIMIZER,
        aliases=("torch.optim.rmsprop.RMSprop",),
    ),
    function(
        "torch.optim.Adagrad",
        "params, lr, lr_decay, weight_decay, initial_accumulator_value, eps, foreach, *, maximize, "
        "differentiable, fused",
        OPTIMIZER,
        aliases=("torch.optim.adagrad.Adagrad",),
    ),
    function(
        "torch.optim.Adadelta",
        "params, lr, rho, eps, weight_decay, foreach, *, capturable, maximize, differentiable",
        OPTIMIZER,
        aliases=("torch.optim.adadelta.Adadelta",),
    ),
    function(
        "torch.optim.Adamax",
        "params, lr, betas, eps, weight_decay, foreach, *, maximize, differentiable, capturable",
        OPTIMIZER,
        aliases=("torch.optim.adamax.Adamax",),
    ),
    function(
        "torch.optim.NAdam",
        "params, lr, betas, eps, weight_decay, momentum_decay, decoupled_weight_decay, *, foreach, maximize, "
        "capturable, differentiable",
        OPTIMIZER,
        aliases=("torch.optim.nadam.NAdam",),
    ),
    function(
        "torch.optim.RAdam",
        "params, lr, betas, eps, weight_decay, decoupled_weight_decay, *, foreach, maximize, capturable, "
        "differentiable",
        OPTIMIZER,
        aliases=("torch.optim.radam.RAdam",),
    ),
    function(
        "torch.optim.ASGD",
        "params, lr, lambd, alpha, t0, weight_decay, foreach, maximize, differentiable, capturable",
        OPTIMIZER,
        aliases=("torch.optim.asgd.ASGD",),
    ),
    function(
        "torch.optim.Rprop",
        "params, lr, etas, step_sizes, *, capturable, foreach, maximize, differentiable",
        OPTIMIZER,
        aliases=("torch.optim.rprop.Rprop",),
    ),
    # Layers.
    function(
        "torch.nn.Conv1d",
        "in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype",
        aliases=("torch.nn.modules.conv.Conv1d",),
    ),
    function(
        "torch.nn.Conv2d",
        "in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype",
        aliases=("torch.nn.modules.conv.Conv2d",),
    ),
    function(
        "torch.nn.Conv3d",
        "in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype",
        aliases=("torch.nn.modules.conv.Conv3d",),
    ),
    function(
        "torch.nn.BatchNorm1d",
        "num_features, eps, momentum, affine, track_running_stats, device, dtype, *, bias",
        aliases=("torch.nn.modules.batchnorm.BatchNorm1d",),
    ),
    function(
        "torch.nn.BatchNorm2d",
        "num_features, eps, momentum, affine, track_running_stats, device, dtype, *, bias",
        aliases=("torch.nn.modules.batchnorm.BatchNorm2d",),
    ),
    function(
        "torch.nn.BatchNorm3d",
        "num_features, eps, momentum, affine, track_running_stats, device, dtype, *, bias",
        aliases=("torch.nn.modules.batchnorm.BatchNorm3d",),
    ),
    function(
        "torch.nn.DataParallel",
        "module, device_ids, output_device, dim",
        aliases=("torch.nn.parallel.DataParallel", "torch.nn.parallel.data_parallel.DataParallel"),
    ),
    # Loading a model, and evaluating one without autograd.
    function(
        "torch.load",
        "f, map_location, pickle_module, *, weights_only, mmap, **pickle_load_args",
        LOADS_MODEL,
        aliases=("torch.serialization.load",),
    ),
    function(
        "torch.hub.load",
        "repo_or_dir, model, *args, source, trust_repo, force_reload, verbose, skip_validation, **kwargs",
        LOADS_MODEL,
    ),
    function(
        "torch.jit.load",
        "f, map_location, _extra_files, _restore_shapes",
        LOADS_MODEL,
        aliases=("torch.jit._serialization.load",),
    ),
    function(
        "torch.no_grad", "", DISABLES_AUTOGRAD, aliases=("torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad")
    ),
    function(
        "torch.inference_mode",
        "mode",
        DISABLES_AUTOGRAD,
        aliases=("torch.autograd.inference_mode", "torch.autograd.grad_mode.inference_mode"),
    ),
    # Debugging aids.
    function(
        "torch.autograd.set_detect_anomaly",
        "mode, check_nan",
        DEBUG_MODE,
        aliases=("torch.autograd.anomaly_mode.set_detect_anomaly",),
    ),
    function(
        "torch.autograd.detect_anomaly",
        "check_nan",
        DEBUG_MODE,
        aliases=("torch.autograd.anomaly_mode.detect_anomaly",),
    ),
    function("torch.autograd.profiler.emit_nvtx", "enabled, record_shapes", DEBUG_MODE),
)

# Functions that tell eager code from code being scripted, traced, exported or compiled: a
# branch on one of them keeps its eager-only code out of the compiled graph.
# Reductions with no value on an empty tensor (a mean is NaN, a max raises): work guarded by
# ``if mask.any():`` that reduces over the selection cannot run unconditionally.
EMPTY_UNDEFINED_REDUCTIONS = frozenset(
    {"mean", "nanmean", "max", "min", "amax", "amin", "argmax", "argmin", "median", "nanmedian", "std", "var", "mode"}
)
# Tests that hold for floating-point (or complex) tensors only: ``torch.is_floating_point(t)``,
# ``t.is_complex()``, ``t.dtype.is_floating_point``. The other branch of one sees integer or
# boolean tensors, which in-place arithmetic with a fractional weight cannot update.
FLOATING_POINT_TESTS = frozenset({"torch.is_floating_point", "torch.is_complex"})
FLOATING_POINT_TEST_ATTRIBUTES = frozenset({"is_floating_point", "is_complex"})
# Device events that can time the work between them once made with ``enable_timing=True``;
# ``start.elapsed_time(end)`` raises unless the end event has completed, so the host waits for
# the device before reading it.
TIMING_EVENT_CLASSES = frozenset({"torch.cuda.Event", "torch.xpu.Event", "torch.mps.event.Event", "torch.Event"})
TIMING_EVENT_KEYWORD = "enable_timing"
ELAPSED_TIME_METHOD = "elapsed_time"
COMPILATION_CHECKS = frozenset(
    {
        "torch.jit.is_scripting",
        "torch.jit.is_tracing",
        "torch.compiler.is_compiling",
        "torch.compiler.is_dynamo_compiling",
        "torch._dynamo.is_compiling",
        "torch.onnx.is_in_onnx_export",
        "torch._C._get_tracing_state",
    }
)

# Methods of an ``nn.Module`` that run on every call of the model: per layer, per batch.
MODULE_CALL_METHODS = frozenset({"forward", "__call__"})
