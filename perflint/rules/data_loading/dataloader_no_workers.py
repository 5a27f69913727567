"""PFL301: a DataLoader that loads and collates every batch in the training process itself."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.dataloaders import batches_reach_device, dataset_holds_device_tensors, per_item_work
from perflint.engine.literals import UNKNOWN, literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_SAFE, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.data_loading import FAMILY

DATALOADER = catalog.listed("torch.utils.data.DataLoader")
# How many assignments to follow back from a name (``ds = Subset(ds, …)`` refers to itself).


class DataLoaderNoWorkers(Rule):
    """``DataLoader`` without ``num_workers``, or with ``num_workers=0``."""

    _module: cst.Module | None = None

    code = "PFL301"
    name = "dataloader-no-workers"
    family = FAMILY
    summary = "DataLoader loads every batch in the main process (num_workers missing or 0)"
    message = (
        "`{callee}(...)` without worker processes loads and collates every batch in the main process, "
        "and its dataset {work}: pass {fix}"
    )
    fix_title = (
        "Pass `num_workers=N` (for example the number of CPU cores) with `persistent_workers=True`, "
        "and `pin_memory=True` when the batches go to a GPU"
    )
    fix_safety = FIX_SAFE
    default_enabled = False
    required_text = ("DataLoader",)
    reported_at = "the `DataLoader(...)` call (its first line)"

    what_it_does = (
        "Flags a call to `torch.utils.data.DataLoader` (however imported) that does not pass "
        "`num_workers`, or passes a literal `0`, by keyword or as the sixth positional argument, "
        "when the code shows its dataset doing work for every item: a dataset class of torchvision, "
        "torchaudio or torchtext that reads its items from files, a dataset given a per-item "
        "`transform=`, or a dataset class of the same file whose `__getitem__` calls something other "
        "than a conversion or view of what it holds (`Image.open(path)`, `self.augment(x)`), "
        "directly, through the name it was assigned to, or through a `Subset` of it."
    )
    known_limitations = (
        "Left alone: a non-literal value (`num_workers=args.workers`, a decision made elsewhere), a "
        "call that unpacks `*args` or `**kwargs` that may hold it, a class that merely shares the "
        "name, and a loader whose dataset shows no per-item work: data already in memory (a "
        "`TensorDataset`, a tensor or array, a list or a `range`), whose items are a few microseconds "
        "of indexing, and also a parameter, a dataset of another module, or a thin wrapper whose "
        "`__getitem__` only converts rows it holds (`torch.from_numpy(self.x[i]).float()`), where "
        "workers measured 2.4-8.5x slower per epoch (round 7's held-out review: deepod's 52 loaders "
        "over in-memory windows, all read as wrong under the earlier rule, which flagged every dataset "
        "it could not show to be in memory). A dataset class of another file of the project is not "
        "read, so its loaders are missed. Also left alone: a loader whose "
        "dataset is built from a value the same function moves to an accelerator on some path "
        '(torch_geometric_temporal\'s `data = torch.tensor(data).to(f"cuda:{allGPU}")` before '
        "`IndexDataset(x_train, data, ...)`): forked workers cannot use CUDA tensors, so the advice "
        "would make that path raise. The rule is opt-in (`--extend-select PFL301`): see below."
    )
    why_bad = (
        "With no workers the training loop stops at every batch while the main process reads, "
        "decodes, augments and collates it, and the accelerator waits. With `num_workers=N`, N "
        "processes prepare the next batches in parallel with each other and with the training "
        "step, and the batches still arrive in the same order. When `__getitem__` does real work "
        "(decoding an image, tokenising text, reading a file) the loading time shrinks by up to N "
        "times and overlaps with compute. It is not free: each epoch starts the workers anew "
        "(about a tenth of a second on a two-core machine; `persistent_workers=True` pays it "
        "once), and every item is pickled across a process boundary, so a loader over cheap "
        "in-memory items gets slower (on two cores, a `TensorDataset` loader took about three "
        "times as long with two workers). Whether a loader needs workers depends on what its "
        "dataset's `__getitem__` costs, which the call does not show: a unit test, a tiny "
        "validation set, or an `IterableDataset` streaming from a source that is already "
        "parallel rightly use none. On the real code this rule was tried on (timm, transformers, "
        "diffusers, Lightning), every loader it flagged fed a demo or test model from a small "
        "in-memory dataset, none worth a worker. So the rule is off by default: enable it for "
        "training code that loads real data, and keep it away from tests with "
        "`per-file-ignores`."
    )
    example = """\
from torch.utils.data import DataLoader

loader = DataLoader(ImageFolder(root, transform=augment), batch_size=64, shuffle=True)
"""
    use_instead = """\
import os
from torch.utils.data import DataLoader

loader = DataLoader(
    ImageFolder(root, transform=augment), batch_size=64, shuffle=True,
    num_workers=min(8, os.cpu_count() or 1), persistent_workers=True,
)
"""
    fix_safety_note = (
        "Batches arrive in the same order with or without workers. What changes: `__getitem__` "
        "runs in other processes, so a dataset must be picklable when the start method is "
        "`spawn` (Windows, macOS), state it mutates stays in the worker, and each worker gets its "
        "own copy of any random-number generator that is not torch's (seed NumPy per worker in "
        "`worker_init_fn`). An `IterableDataset` must shard its stream with `get_worker_info()` "
        "or every worker yields every item."
    )

    VALID = (
        # The dataset is built from data the function moves to a GPU on one path: forked
        # workers cannot use CUDA tensors (torch_geometric_temporal's `allGPU` mode).
        """
        import numpy as np
        import torch
        from torch.utils.data import DataLoader
        def loaders(self, all_gpu, lags, augment):
            data = np.array(self.raw)
            if all_gpu != -1:
                data = torch.tensor(data, dtype=torch.float).to(f"cuda:{all_gpu}")
            train = IndexDataset(self.train_index, data, lags, transform=augment)
            return DataLoader(train, batch_size=32)
        """,
        # Workers requested, by keyword or positionally.
        """
        from torchvision.datasets import MNIST
        from torch.utils.data import DataLoader
        ds = MNIST("data", download=True)
        loader = DataLoader(ds, batch_size=32, num_workers=4)
        other = DataLoader(ds, 32, True, None, None, 2)
        """,
        # A value decided elsewhere, or hidden in **kwargs.
        """
        import torch
        from torchvision.datasets import MNIST
        ds = MNIST("data")
        loader = torch.utils.data.DataLoader(ds, num_workers=args.workers)
        other = torch.utils.data.DataLoader(ds, **loader_kwargs)
        """,
        # Not torch's DataLoader.
        """
        from torchvision.datasets import MNIST
        class DataLoader:
            def __init__(self, dataset):
                self.dataset = dataset
        loader = DataLoader(MNIST("data"))
        """,
        # Indexing data in memory: workers would only add inter-process copies.
        """
        from torch.utils.data import DataLoader, TensorDataset
        loader = DataLoader(TensorDataset(x, y), batch_size=64)
        """,
        """
        import torch
        from torch.utils.data import DataLoader, Subset, TensorDataset
        def fit(x: torch.Tensor, y):
            train = TensorDataset(x, y)
            head = DataLoader(Subset(train, range(64)))
            loader = DataLoader(train, batch_size=64, shuffle=True)
            plain = DataLoader(x)
            steps = DataLoader(range(6), batch_size=4)
        """,
        # Nothing shows what an item costs: a parameter (an array, as often as not), a thin
        # wrapper that converts rows it holds, a class of another module, no transform.
        """
        import torch
        from torch.utils.data import DataLoader, Dataset
        from .data import WindowDataset
        class Rows(Dataset):
            def __init__(self, x):
                self.x = x
            def __getitem__(self, index):
                return torch.from_numpy(self.x[index]).float(), len(self.x[index])
        class Windows(Dataset):
            def _window(self, index):
                return self.x[index : index + 8]
            def __getitem__(self, index):
                with torch.no_grad():
                    return torch.as_tensor(self._window(index)), set(self.labels[index])
        def fit(self, X, windows):
            first = DataLoader(X, batch_size=64, shuffle=True)
            second = DataLoader(Rows(X), batch_size=64)
            third = DataLoader(WindowDataset(windows), batch_size=64)
            fourth = DataLoader(Rows(X, transform=None), batch_size=64)
            fifth = DataLoader(Windows(X), batch_size=64)
        """,
        # A subclass's own constructor.
        """
        from torchvision.datasets import MNIST
        from torch.utils.data import DataLoader
        class Loader(DataLoader):
            def __init__(self, ds):
                super().__init__(ds, num_workers=2)
        loader = Loader(MNIST("data"))
        """,
    )
    INVALID = (
        # A dataset class of this file that decodes each item from a file.
        Invalid(
            """
            from PIL import Image
            from torch.utils.data import DataLoader, Dataset
            class ImageDataset(Dataset):
                def __init__(self, paths):
                    self.paths = paths
                def __getitem__(self, index):
                    return Image.open(self.paths[index]).convert("RGB")
            def loaders(paths):
                train = ImageDataset(paths)
                return DataLoader(train, batch_size=32, shuffle=True)
            """,
            line=10,
            column=12,
        ),
        # Work in a method of the class that `__getitem__` calls.
        Invalid(
            """
            import numpy as np
            from torch.utils.data import DataLoader, Dataset
            class Volumes(Dataset):
                def _load(self, index):
                    return np.load(self.paths[index])
                def __getitem__(self, index):
                    return self._load(index)
            loader = DataLoader(Volumes(), batch_size=2)
            """,
            line=8,
        ),
        # A library dataset that reads its items from files, or is given a per-item transform.
        Invalid(
            """
            import torch
            import torchvision
            ds = torchvision.datasets.MNIST("data", download=True)
            loader = torch.utils.data.DataLoader(ds, batch_size=8, num_workers=0)
            """,
            line=4,
        ),
        Invalid(
            """
            from torch.utils.data.dataloader import DataLoader as DL
            for batch in DL(SpectrogramDataset(files, transform=augment), 16, False, None, None, 0):
                pass
            """,
            line=2,
        ),
        Invalid(
            """
            import torch.utils.data as tud
            from torchaudio.datasets import SPEECHCOMMANDS
            loader = tud.DataLoader(
                tud.Subset(SPEECHCOMMANDS("data"), range(1000)),
                batch_size=4,
            )
            """,
            line=3,
        ),
        # Rebound to a dataset that does real work.
        Invalid(
            """
            from torch.utils.data import DataLoader, TensorDataset
            from torchvision.datasets import ImageFolder
            ds = TensorDataset(x)
            ds = ImageFolder(root)
            loader = DataLoader(ds)
            """,
            line=5,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if catalog.lookup(self.context.imports.qualified_name(node.func)) is not DATALOADER:
            return
        arguments = catalog.bind(node, DATALOADER)
        if arguments is None or not arguments.is_known("dataset") or _num_workers(arguments) != 0:
            return
        dataset = arguments.argument("dataset")
        work = per_item_work(dataset, self.context) if dataset is not None else None
        if dataset is None or work is None or self._holds_device_tensors(dataset):
            return
        self.report(node, self.message.format(callee=quote(node.func), work=work, fix=self._advice(node)))

    def _holds_device_tensors(self, dataset: cst.BaseExpression) -> bool:
        function = self.context.function
        scope: cst.CSTNode | None = function.node if function is not None else self._module
        return scope is not None and dataset_holds_device_tensors(dataset, scope, self.context)

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node

    def _advice(self, call: cst.Call) -> str:
        """The keywords to add: pinned memory too when a loop here moves the batches to a GPU."""
        keywords = "`num_workers=N, persistent_workers=True`"
        function = self.context.function
        scope: cst.CSTNode | None = function.node if function is not None else self._module
        if scope is not None and batches_reach_device(call, scope, self.context):
            arguments = catalog.bind(call, DATALOADER)
            pinned = arguments.argument("pin_memory") if arguments is not None else None
            if pinned is None or literal_value(pinned) is False:
                keywords = "`num_workers=N, persistent_workers=True, pin_memory=True` (its batches go to a GPU)"
        return keywords


def _num_workers(arguments: catalog.BoundArguments) -> object:
    """The literal ``num_workers`` of a DataLoader call (0 when absent), else ``UNKNOWN``."""
    if not arguments.is_known("num_workers"):
        return UNKNOWN
    argument = arguments.argument("num_workers")
    if argument is None:
        return 0
    value = literal_value(argument)
    return value if isinstance(value, int) else UNKNOWN


class DecodingDataset:
    """Items that cost real CPU work to produce, like decoding and augmenting an image.

    Defined at module level so that it pickles into worker processes under ``spawn``. Each
    item is a pure function of its index, so any number of workers yields the same batches.
    """

    def __init__(self, length: int, side: int = 96, passes: int = 8) -> None:
        self.length = length
        self.side = side
        self.passes = passes

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        import numpy as np

        rng = np.random.default_rng(index)
        encoded = rng.integers(0, 256, size=(self.side, self.side, 3), dtype=np.uint8)
        image = encoded.astype(np.float32) / 255.0
        for _ in range(self.passes):
            # A box blur and a gamma curve: decode-and-augment-like work.
            image = (image + np.roll(image, 1, axis=0) + np.roll(image, 1, axis=1)) / 3.0
            image = np.sqrt(image)
        # Downsample by two, as a resize to the model's input would.
        half = self.side // 2
        image = image.reshape(half, 2, half, 2, 3).mean(axis=(1, 3))
        return image.transpose(2, 0, 1).copy()


# Epochs of 16 to 256 items of about a millisecond each, in batches of 16: one batch gives the
# workers nothing to overlap, sixteen let them reach a steady pipeline. On a two-core machine
# the two workers share the cores with the main process, so expect well under 2x there;
# more cores allow more workers.
_BATCH_SIZE = 16
_WORKERS = 2


def _setup(size: int, target: Target) -> tuple:
    from torch.utils.data import DataLoader

    dataset = DecodingDataset(size)
    # The fix as recommended: workers that persist across epochs, started once (by the first
    # epoch, which the harness runs before it times anything), as in a training run.
    with_workers = DataLoader(dataset, batch_size=_BATCH_SIZE, num_workers=_WORKERS, persistent_workers=True)
    return dataset, with_workers


def _pattern(dataset: DecodingDataset, with_workers):
    import torch
    from torch.utils.data import DataLoader

    return torch.cat(list(DataLoader(dataset, batch_size=_BATCH_SIZE)))


def _fix(dataset: DecodingDataset, with_workers):
    import torch

    return torch.cat(list(with_workers))


DataLoaderNoWorkers.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(16, 64, 256),
    check_size=16,
    size_unit="items per epoch (batches of 16, two persistent workers)",
    backend=TORCH_BACKEND,
    devices=("cpu",),
    timed=(
        "One epoch of n items in batches of 16 through a DataLoader whose dataset decodes each item: "
        "`num_workers=0` against two persistent workers, started before timing."
    ),
)
