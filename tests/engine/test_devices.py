"""Device expressions and where tensors live (host, accelerator, unknown)."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine.devices import (
    ACCELERATOR,
    HOST,
    NAMED_LIKE_A_DEVICE,
    OTHER_DEVICE,
    device_kind,
    device_move,
    host_factory,
    may_use_an_accelerator,
    move_destination,
    pinned_to_host,
)
from tests.engine.probes import probe_calls


def test_tensors_made_by_a_host_factory_are_known_to_be_on_the_host():
    from perflint.engine.devices import allocated_on_host

    answers = probe_calls(
        "import torch\n"
        "def f(x: torch.Tensor, device):\n"
        "    drawn = torch.rand([])\n"
        "    print(torch.rand(1)); print(drawn); print(torch.zeros(3, device='cpu'))\n"
        "    print(torch.zeros(3, device=device)); print(x); print(torch.tensor([1.0]))\n"
        "    print(torch.tensor(x)); print(torch.tensor([1.0], device=device)); print(torch.FloatTensor([1.0]))\n",
        lambda context, expr: allocated_on_host(expr, context),
    )
    assert answers == {
        "torch.rand(1)": True,
        "drawn": True,
        "torch.zeros(3, device='cpu')": True,
        "torch.zeros(3, device=device)": False,
        "x": False,
        "torch.tensor([1.0])": True,
        # A copy of a tensor stays on that tensor's device.
        "torch.tensor(x)": False,
        "torch.tensor([1.0], device=device)": False,
        "torch.FloatTensor([1.0])": True,
    }


def test_a_tensor_made_on_its_own_old_device_ends_the_search():
    from perflint.engine.devices import allocated_on_host

    # pypots' FEDformer rebinds ``x`` to a tensor made on ``x.device``: following ``x`` leads
    # back to ``x.device`` again, and the search must stop rather than recurse without end.
    answers = probe_calls(
        "import torch\ndef f(x: torch.Tensor, n: int):\n    x = torch.zeros(n, 4, device=x.device)\n    print(x)\n",
        lambda context, expr: allocated_on_host(expr, context),
    )
    assert answers == {"x": False}


def test_a_tensor_moved_to_the_host_is_on_the_host():
    from perflint.engine.devices import on_host

    answers = probe_calls(
        "import torch\n"
        "def f(x: torch.Tensor, device):\n"
        "    moved = x.cpu()\n"
        "    print(moved); print(torch.unique(x).cpu()); print(x.to('cpu')); print(torch.rand(2))\n"
        "    print(x); print(x.to(device)); print(x.cuda())\n"
        "    start = torch.randint(0, 9, (4,))\n    end = start + moved\n    print(end); print(start + x)\n",
        lambda context, expr: on_host(expr, context),
    )
    assert answers == {
        "moved": True,
        "torch.unique(x).cpu()": True,
        "x.to('cpu')": True,
        "torch.rand(2)": True,
        "x": False,
        "x.to(device)": False,
        "x.cuda()": False,
        "end": True,
        "start + x": False,
    }


def test_arithmetic_of_a_host_tensor_with_python_numbers_stays_on_the_host():
    from perflint.engine.devices import on_host

    # theseus's easyaug draws kernel sizes on the host and computes offsets from them.
    answers = probe_calls(
        "import torch\n"
        "def f(x: torch.Tensor, k):\n"
        "    sizes = torch.randint(size=(4,), low=1, high=5) * 2 + 1\n"
        "    largest = int(sizes.max().item())\n"
        "    print(largest - sizes); print(sizes * k); print(x * 2); print(len(x) - x)\n",
        lambda context, expr: on_host(expr, context),
    )
    assert answers == {
        "largest - sizes": True,
        # ``k`` may be a device tensor.
        "sizes * k": False,
        "x * 2": False,
        "len(x) - x": False,
    }


def test_a_method_of_a_host_tensor_that_moves_nothing_is_on_the_host():
    from perflint.engine.devices import on_host

    # learn2learn's `torch.Tensor(meta_train_losses).mean().item()` reads a host tensor.
    answers = probe_calls(
        "import torch\n"
        "def f(losses, x: torch.Tensor, device):\n"
        "    print(torch.Tensor(losses).mean()); print(torch.rand(3).abs().sum())\n"
        "    print(torch.rand(3).cuda().mean()); print(torch.rand(3).to(device).sum()); print(x.mean())\n",
        lambda context, expr: on_host(expr, context),
    )
    assert answers == {
        "torch.Tensor(losses).mean()": True,
        "torch.rand(3).abs().sum()": True,
        "torch.rand(3).cuda().mean()": False,
        "torch.rand(3).to(device).sum()": False,
        "x.mean()": False,
    }


def test_tensors_a_tokenizer_returns_are_on_the_host_until_moved():
    from perflint.engine.devices import on_host

    # speechbrain's `self.tokenizer(prompt, return_tensors="pt").input_ids.view(-1).tolist()`.
    answers = probe_calls(
        "import torch\n"
        "def f(self, text, device):\n"
        "    encoded = self.tokenizer(text, return_tensors='pt')\n"
        "    print(encoded); print(encoded.input_ids); print(self.tokenizer(text, return_tensors='pt').input_ids.view(-1))\n"
        "    print(self.tokenizer(text, return_tensors='pt').to(device).input_ids); print(self.tokenizer(text).input_ids)\n",
        lambda context, expr: on_host(expr, context),
    )
    assert answers == {
        "encoded": True,
        "encoded.input_ids": True,
        "self.tokenizer(text, return_tensors='pt').input_ids.view(-1)": True,
        "self.tokenizer(text, return_tensors='pt').to(device).input_ids": False,
        "self.tokenizer(text).input_ids": False,
    }


def test_as_tensor_of_python_numbers_or_a_numpy_array_is_made_on_the_host():
    from perflint.engine.devices import allocated_on_host

    answers = probe_calls(
        "import numpy as np\nimport torch\n"
        "def f(x, i, device):\n"
        "    scale = 0.5\n"
        "    print(torch.as_tensor(scale)); print(torch.as_tensor([[1, 2], [3, 4.0]]))\n"
        "    print(torch.as_tensor(np.zeros(3))); print(torch.as_tensor(x)); print(torch.as_tensor([i]))\n"
        "    print(torch.as_tensor(0.5, device=device))\n",
        lambda context, expr: allocated_on_host(expr, context),
    )
    assert answers == {
        "torch.as_tensor(scale)": True,
        "torch.as_tensor([[1, 2], [3, 4.0]])": True,
        "torch.as_tensor(np.zeros(3))": True,
        # A tensor is returned as it is, wherever it lives.
        "torch.as_tensor(x)": False,
        "torch.as_tensor([i])": False,
        "torch.as_tensor(0.5, device=device)": False,
    }


def test_what_meets_a_host_tensor_of_a_dimension_or_more_element_by_element_is_on_the_host():
    from perflint.engine.devices import on_host

    # stanza's `upos.eq(torch.tensor([[i]]))`: a device `upos` would make torch raise.
    answers = probe_calls(
        "import torch\n"
        "def f(upos, x, i):\n"
        "    print(upos.eq(torch.tensor([[i]]))); print(torch.all(upos.eq(torch.tensor([[i]]))))\n"
        "    print(x + torch.ones((3,))); print(upos.eq(torch.tensor(i))); print(x + torch.zeros(()))\n"
        "    print(upos.eq(torch.tensor([[i]], device=x.device)))\n",
        lambda context, expr: on_host(expr, context),
    )
    assert answers == {
        "upos.eq(torch.tensor([[i]]))": True,
        "torch.all(upos.eq(torch.tensor([[i]])))": True,
        "x + torch.ones((3,))": True,
        # A 0-d host tensor mixes with a device tensor, as a Python number does.
        "upos.eq(torch.tensor(i))": False,
        "x + torch.zeros(())": False,
        "upos.eq(torch.tensor([[i]], device=x.device))": False,
    }


def test_the_negation_of_a_host_mask_is_on_the_host():
    from perflint.engine.devices import on_host

    # pytorch_adapt's `mat[~torch.eye(n, dtype=torch.bool)]` indexes with a host mask.
    answers = probe_calls(
        "import torch\n"
        "def f(x: torch.Tensor, n: int):\n"
        "    mask = ~torch.eye(n, dtype=torch.bool)\n"
        "    print(mask); print(~(x > 0))\n",
        lambda context, expr: on_host(expr, context),
    )
    assert answers == {"mask": True, "~(x > 0)": False}


def test_the_device_of_a_tensor_made_on_the_host_is_the_host():
    answers = probe_calls(
        "import torch\n"
        "def f(x: torch.Tensor):\n"
        "    h = torch.zeros(3)\n"
        "    print(h.device); print(torch.ones(2).device); print(x.device)\n",
        lambda context, expr: device_kind(expr, context),
    )
    assert answers == {"h.device": HOST, "torch.ones(2).device": HOST, "x.device": NAMED_LIKE_A_DEVICE}


def test_a_factory_given_a_generator_and_no_device_is_pinned_to_the_host():
    answers = probe_calls(
        "import torch\n"
        "g = torch.Generator()\n"
        "print(torch.randn(3, generator=g)); print(torch.randn(3, generator=g, device='cuda')); print(torch.randn(3))\n",
        lambda context, expr: pinned_to_host(expr),
    )
    assert answers == {
        "torch.randn(3, generator=g)": True,
        "torch.randn(3, generator=g, device='cuda')": False,
        "torch.randn(3)": False,
    }


def test_the_host_factory_behind_an_index_through_names_methods_and_arithmetic():
    answers = probe_calls(
        "import torch\n"
        "def f(x, n, g, device, kwargs):\n"
        "    rows = torch.arange(n)\n"
        "    print(rows + 1); print(torch.arange(n).unsqueeze(-1)); print(torch.eye(n, dtype=torch.bool))\n"
        "    print(torch.arange(n, device=device)); print(torch.randperm(n, generator=g)); print(torch.tensor([0, 1]))\n"
        "    print(torch.ones(n, **kwargs)); print(x); print(torch.empty(n, pin_memory=True))\n",
        lambda context, expr: (
            (found := host_factory(expr, context)) is not None and cst.Module([]).code_for_node(found)
        ),
    )
    assert answers == {
        "rows + 1": "torch.arange(n)",
        "torch.arange(n).unsqueeze(-1)": "torch.arange(n)",
        "torch.eye(n, dtype=torch.bool)": "torch.eye(n, dtype=torch.bool)",
        "torch.arange(n, device=device)": False,
        # A generator pins its draw to the host: no `device=` to advise.
        "torch.randperm(n, generator=g)": False,
        # Host data is copied whatever the device.
        "torch.tensor([0, 1])": False,
        "torch.ones(n, **kwargs)": False,
        "x": False,
        "torch.empty(n, pin_memory=True)": False,
    }


def test_device_expressions_are_host_accelerator_or_unknown():
    answers = probe_calls(
        "import torch\n"
        "print('cpu'); print('cuda:1'); print('mps'); print('meta'); print(torch.device('cpu'))\n"
        "print(torch.device(args.device))\n"
        "device = 'cpu'\nprint(device)\n"
        "def f(x, device='cpu', dev=None):\n    print(x.device); print(dev); print(device + '')\n"
        "def g(target_device):\n    print(target_device)\n"
        "choice = 'cuda' if ok else 'cpu'\nprint(choice)\n"
        "if ok:\n    gpu = 'cuda'\nelse:\n    gpu = 'cuda:1'\nprint(gpu)\n"
        "print(f'cuda:{rank}'); print(f'cpu:{rank}'); print(f'{kind}:0')\n",
        lambda context, expr: device_kind(expr, context),
    )
    assert answers == {
        "'cpu'": HOST,
        "'cuda:1'": ACCELERATOR,
        "'mps'": ACCELERATOR,
        "'meta'": OTHER_DEVICE,
        "torch.device('cpu')": HOST,
        "torch.device(args.device)": NAMED_LIKE_A_DEVICE,
        "device": HOST,
        "x.device": NAMED_LIKE_A_DEVICE,
        "dev": None,
        "device + ''": None,
        "target_device": NAMED_LIKE_A_DEVICE,
        "choice": None,
        "gpu": None,
        "f'cuda:{rank}'": ACCELERATOR,
        "f'cpu:{rank}'": HOST,
        "f'{kind}:0'": None,
    }


def test_a_parameter_defaulting_to_a_name_of_its_own_spelling_is_followed_within_the_hop_limit():
    # deepinv's `def get_models(..., device=device)`: the default names the parameter itself.
    answers = probe_calls(
        "import torch\ndevice = get_device()\ndef f(device=device):\n    print(device)\n",
        lambda context, expr: device_kind(expr, context),
    )
    assert answers == {"device": NAMED_LIKE_A_DEVICE}


def test_a_moves_destination_is_its_device_argument_and_never_a_dtype_or_another_tensor():
    answers = probe_calls(
        "import torch\n"
        "def f(x, other: torch.Tensor, device, dtype, kwargs):\n"
        "    print(x.cuda())\n"
        "    print(x.to('cuda:1'))\n"
        "    print(x.to(device=torch.device('cpu')))\n"
        "    print(x.to(device, non_blocking=True))\n"
        "    print(x.to(torch.float16))\n"
        "    print(x.to(dtype))\n"
        "    print(x.to(other))\n"
        "    print(x.to(**kwargs))\n"
        "    print(x.float())\n",
        lambda context, expr: move_destination(expr, context),
    )
    assert answers == {
        "x.cuda()": ACCELERATOR,
        "x.to('cuda:1')": ACCELERATOR,
        "x.to(device=torch.device('cpu'))": HOST,
        "x.to(device, non_blocking=True)": NAMED_LIKE_A_DEVICE,
        "x.to(torch.float16)": None,
        "x.to(dtype)": None,
        # Another tensor's device: unknown, but the form is the evidence a device name is.
        "x.to(other)": NAMED_LIKE_A_DEVICE,
        "x.to(**kwargs)": None,
        "x.float()": None,
    }


def _described(move):
    if move is None:
        return None
    code = cst.Module([]).code_for_node
    return {
        "receiver": code(move.receiver),
        "device": code(move.device) if move.device is not None else None,
        "destination": move.destination,
        "dtype": code(move.dtype) if move.dtype is not None else None,
        "non_blocking": code(move.non_blocking) if move.non_blocking is not None else None,
        "stays": move.stays,
    }


@pytest.mark.parametrize(
    ("call", "receiver", "device", "destination", "dtype", "non_blocking", "stays"),
    [
        ("x.cuda()", "x", None, ACCELERATOR, None, None, False),
        ("x.cuda(1, True)", "x", "1", ACCELERATOR, None, "True", False),
        ("x.cpu()", "x", None, HOST, None, None, False),
        ("x.to('cuda:1')", "x", "'cuda:1'", ACCELERATOR, None, None, False),
        ("x.to(device, torch.half, True)", "x", "device", NAMED_LIKE_A_DEVICE, "torch.half", "True", False),
        (
            "x.to(device=device, dtype=dtype, non_blocking=True)",
            "x",
            "device",
            NAMED_LIKE_A_DEVICE,
            "dtype",
            "True",
            False,
        ),
        ("x.to(dtype=torch.half, device='cpu')", "x", "'cpu'", HOST, "torch.half", None, False),
        # A tensor's device and dtype; host when that tensor is made on the host.
        ("x.to(other, non_blocking=True)", "x", "other.device", NAMED_LIKE_A_DEVICE, "other.dtype", "True", False),
        ("x.to(table)", "x", "table.device", HOST, "table.dtype", None, False),
        (
            "torch.eye(3).type_as(other)",
            "torch.eye(3)",
            "other.device",
            NAMED_LIKE_A_DEVICE,
            "other.dtype",
            None,
            False,
        ),
        ("x.type('torch.cuda.HalfTensor')", "x", None, ACCELERATOR, "'torch.cuda.HalfTensor'", None, False),
        ("x.type(torch.FloatTensor)", "x", None, HOST, "torch.FloatTensor", None, False),
        # Casts and no-ops: the result is on the receiver's device.
        ("x.to(torch.float16)", "x", None, None, "torch.float16", None, True),
        ("x.to(float)", "x", None, None, "float", None, True),
        ("x.to(self.dtype, non_blocking=True)", "x", None, None, "self.dtype", "True", True),
        ("x.to(dtype=torch.half)", "x", None, None, "torch.half", None, True),
        ("x.to(x.device)", "x", "x.device", None, None, None, True),
        (
            "self.w.to(device=self.w.device, dtype=other.dtype)",
            "self.w",
            "self.w.device",
            None,
            "other.dtype",
            None,
            True,
        ),
        ("x.to(x)", "x", None, None, "x.dtype", None, True),
        ("x.type(torch.float16)", "x", None, None, "torch.float16", None, True),
    ],
)
def test_a_device_move_is_read_once_in_every_spelling(call, receiver, device, destination, dtype, non_blocking, stays):
    source = (
        "import torch\n"
        f"def f(x: torch.Tensor, other: torch.Tensor, device, dtype, self):\n"
        f"    table = torch.zeros(3)\n"
        f"    print({call})\n"
    )
    [answer] = probe_calls(source, lambda context, expr: _described(device_move(expr, context))).values()
    assert answer == {
        "receiver": receiver,
        "device": device,
        "destination": destination,
        "dtype": dtype,
        "non_blocking": non_blocking,
        "stays": stays,
    }


@pytest.mark.parametrize(
    "call", ["x.to(**kwargs)", "x.cuda(*args)", "x.to(y=1)", "x.type()", "x.float()", "x.to(device, device=d)", "to(x)"]
)
def test_calls_that_are_not_readable_moves_are_none(call):
    source = f"import torch\ndef f(x: torch.Tensor, kwargs, args, device, d):\n    print({call})\n"
    assert list(probe_calls(source, lambda context, expr: device_move(expr, context)).values()) == [None]


def test_a_condition_using_modulo_makes_code_periodic_only_inside_the_loop_it_is_in():
    answers = probe_calls(
        "def f(loader, log_every):\n"
        "    for epoch in range(3):\n"
        "        for step, batch in enumerate(loader):\n"
        "            print(batch)\n"
        "            if (step + 1) % log_every == 0 and epoch > 0:\n"
        "                print(step)\n"
        "            if step == 0:\n"
        "                print(epoch)\n",
        lambda context, expr: context.loops.runs_periodically(context.innermost_loop),
    )
    assert answers == {"batch": False, "step": True, "epoch": False}


def test_a_loop_knows_what_it_calls_backward_on():
    answers = probe_calls(
        "def f(model, loader, optimizer):\n"
        "    for batch in loader:\n"
        "        out = model(batch)\n"
        "        out.loss.backward()\n"
        "        print(batch)\n",
        lambda context, expr: context.innermost_loop.effects.differentiated,
    )
    assert answers == {"batch": {"out.loss"}}


def test_a_batch_is_traced_to_the_dataloader_its_loop_iterates():
    answers = probe_calls(
        "import torch\n"
        "from tqdm import tqdm\n"
        "from torch.utils.data import DataLoader\n"
        "def f(ds, shards):\n"
        "    loader = DataLoader(ds, pin_memory=True)\n"
        "    for step, batch in enumerate(tqdm(loader)):\n"
        "        images = batch['image'].float()\n"
        "        print(images)\n"
        "        print({k: print(v) for k, v in batch.items()})\n"
        "        print(step)\n"
        "    for shard in shards:\n"
        "        print(shard)\n",
        lambda context, expr: (
            cst.Module([]).code_for_node(found) if (found := context.loops.loader_of_batch(expr)) is not None else None
        ),
    )
    loader = "DataLoader(ds, pin_memory=True)"
    assert answers == {
        "images": loader,
        "v": loader,
        "{k: print(v) for k, v in batch.items()}": None,
        "step": loader,
        "shard": None,
    }


def test_tqdm_records_take_tqdm_init_parameters():
    tqdm = pytest.importorskip("tqdm")
    import inspect

    from perflint.engine.catalog import lookup

    parameters = list(inspect.signature(tqdm.tqdm.__init__).parameters)[1:]
    assert lookup("tqdm.tqdm").signature.positional == tuple(parameters[:-1])
    assert lookup("tqdm.tqdm").signature.var_keyword == parameters[-1]


def accelerator_possible_at_print(source: str) -> bool:
    """Whether the code at ``print(x)`` may use an accelerator."""
    return probe_calls(source, lambda context, expr: may_use_an_accelerator(context))["x"]


def test_a_file_that_names_no_device_runs_on_the_host():
    assert accelerator_possible_at_print("import torch\ndef f(x):\n    print(x)\n") is False
    assert accelerator_possible_at_print("import torch\ndef f(x, device):\n    print(x)\n") is True
    assert accelerator_possible_at_print("import torch\ndef f(x):\n    print(x)\n    x.cuda()\n") is True
    assert accelerator_possible_at_print("import lightning\ndef f(x):\n    print(x)\n") is True


def test_a_class_that_pins_its_device_attribute_to_the_host_runs_on_the_host():
    pinned = "class Trainer:\n    def __init__(self):\n        self._device = 'cpu'\n"
    assert accelerator_possible_at_print(f"import torch\n{pinned}    def fit(self, x):\n        print(x)\n") is False
    moved = "class Trainer:\n    def __init__(self, device):\n        self._device = device\n"
    assert (
        accelerator_possible_at_print(
            f"import torch\n{moved}    def fit(self, x):\n        print(x)\n        x.to(self._device)\n"
        )
        is True
    )
    # Outside that class the file's other code may still use a device.
    assert accelerator_possible_at_print(f"import torch\n{pinned}def fit(x, device):\n    print(x)\n") is True


def test_a_class_that_keeps_a_device_it_never_uses_runs_on_the_host():
    kept = "class Detector:\n    def __init__(self, gpu):\n        self.device = validate_device(gpu)\n"
    assert accelerator_possible_at_print(f"import torch\n{kept}    def fit(self, x):\n        print(x)\n") is False
    read = "    def fit(self, x):\n        print(x)\n        return x.to(self.device)\n"
    assert accelerator_possible_at_print(f"import torch\n{kept}{read}") is True
    moved = "    def fit(self, x, device):\n        print(x)\n        return x.to(device)\n"
    assert accelerator_possible_at_print(f"import torch\n{kept}{moved}") is True
    # The device it was given builds the model (mbrl's PlanetVisualizer): used, though never read
    # back from `self`.
    built = "class Visualizer:\n    def __init__(self, cfg, device):\n        self.device = device\n"
    built += "        self.model = create_model(cfg, device)\n    def run(self, x):\n        print(x)\n"
    assert accelerator_possible_at_print(f"import torch\n{built}") is True
    # An abstract base whose subclasses supply the methods that move the model (pygod's
    # DeepDetector).
    abstract = "from abc import ABC\nclass Detector(ABC):\n    def __init__(self, gpu):\n"
    abstract += "        self.device = validate_device(gpu)\n    def fit(self, x):\n        print(x)\n"
    assert accelerator_possible_at_print(f"import torch\n{abstract}") is True


def test_a_function_that_reads_its_tensors_as_numpy_in_place_keeps_them_on_the_host():
    from perflint.engine.devices import function_reads_host_tensors

    answers = probe_calls(
        "import torch\n"
        "def transform(spec: torch.Tensor):\n"
        "    m = spec.abs().max()\n"
        "    print(m)\n"
        "    return spec.numpy()\n"
        "def moved(spec: torch.Tensor):\n"
        "    print(spec)\n"
        "    return spec.cpu().numpy()\n"
        "def detached(spec: torch.Tensor):\n"
        "    print(spec.sum())\n"
        "    return spec.detach().numpy()\n"
        "def plain(spec: torch.Tensor):\n"
        "    print(spec.mean())\n"
        "    return spec\n",
        lambda context, expr: function_reads_host_tensors(context),
    )
    assert answers == {"m": True, "spec": False, "spec.sum()": True, "spec.mean()": False}


def test_a_function_that_converts_pil_images_keeps_its_tensors_on_the_host():
    from perflint.engine.devices import function_reads_host_tensors

    answers = probe_calls(
        "import torch\n"
        "import torchvision.transforms.functional as F\n"
        "def distort(image):\n"
        "    print(image)\n"
        "    if F._is_pil_image(image):\n"
        "        image = F.pil_to_tensor(image)\n"
        "    return image\n"
        "def flip(image):\n"
        "    print(image.flip(-1))\n",
        lambda context, expr: function_reads_host_tensors(context),
    )
    assert answers == {"image": True, "image.flip(-1)": False}


def test_a_torch_function_of_a_host_tensor_and_a_part_of_its_result_are_on_the_host():
    from perflint.engine.devices import on_host

    # captum's `torch.kthvalue(rand_vals, k).values.item()` with `rand_vals = torch.randn(1, n)`.
    answers = probe_calls(
        "import torch\n"
        "def f(x: torch.Tensor, k, device):\n"
        "    rand_vals = torch.randn(1, 8)\n"
        "    print(torch.kthvalue(rand_vals, k).values); print(torch.kthvalue(x, k).values)\n"
        "    print(torch.zeros_like(rand_vals, device=device))\n",
        lambda context, expr: on_host(expr, context),
    )
    assert answers == {
        "torch.kthvalue(rand_vals, k).values": True,
        "torch.kthvalue(x, k).values": False,
        "torch.zeros_like(rand_vals, device=device)": False,
    }


def test_an_item_of_a_host_tensor_taken_by_a_loop_is_on_the_host():
    from perflint.engine.devices import on_host

    # avalanche's `for j, idx in enumerate(torch.randperm(n)[:h]): idx = int(idx)`.
    answers = probe_calls(
        "import torch\n"
        "def f(x: torch.Tensor, n):\n"
        "    perm = torch.randperm(n)\n"
        "    for j, idx in enumerate(perm[:8]):\n"
        "        print(idx)\n"
        "    for row in x:\n"
        "        print(row)\n"
        "    for a, b in zip(perm, x):\n"
        "        print(a); print(b)\n",
        lambda context, expr: on_host(expr, context),
    )
    assert answers == {"idx": True, "row": False, "a": True, "b": False}


def test_values_a_host_library_made_never_were_on_a_device():
    from perflint.engine.devices import built_by_a_host_library

    answers = probe_calls(
        "import numpy as np\n"
        "import scipy.sparse as sp\n"
        "import torch\n"
        "class M(torch.nn.Module):\n"
        "    def __init__(self, dataset, x):\n"
        "        self.matrix = dataset.inter_matrix(form='coo').astype(np.float32)\n"
        "        self.weight = x.cuda()\n"
        "    def f(self, x):\n"
        "        a = sp.coo_matrix(x)\n"
        "        print(self.matrix.row); print(a.col); print(np.arange(3)[1:]); print(x.tocsr())\n"
        "        print(self.weight); print(x); print(x.cpu()); print(torch.arange(3))\n",
        lambda context, expr: built_by_a_host_library(expr, context),
    )
    assert answers == {
        "self.matrix.row": True,
        "a.col": True,
        "np.arange(3)[1:]": True,
        "x.tocsr()": True,
        "self.weight": False,
        "x": False,
        "x.cpu()": False,
        "torch.arange(3)": False,
    }


def test_collate_functions_and_what_they_nest_run_on_host_samples():
    from perflint.engine.devices import in_a_collate_function

    answers = probe_calls(
        "def collate_fn(batch):\n"
        "    def pad(x):\n"
        "        print(x)\n"
        "    print(batch)\n"
        "def step(batch):\n"
        "    print(batch + 1)\n",
        lambda context, expr: in_a_collate_function(context),
    )
    assert answers == {"x": True, "batch": True, "batch + 1": False}


def test_a_parameter_the_function_moves_to_a_device_later_is_on_the_host_until_then():
    from perflint.engine.devices import on_host

    answers = {}
    for label, source in {
        "moved later": "def f(self, x):\n    print(x)\n    x = x.float().to(self.device)\n",
        "moved on the host": "def f(self, x):\n    print(x)\n    x = x.cpu()\n",
        "rebound first": "def f(self, x, net):\n    print(x)\n    x = net(x)\n    x = x.to(self.device)\n",
        "in a loop": "def f(self, x, loader):\n    for _ in loader:\n        print(x)\n        x = x.to(self.device)\n",
        "not a parameter": "def f(self, loader):\n    x = next(loader)\n    print(x)\n    x = x.to(self.device)\n",
    }.items():
        answers[label] = probe_calls("import torch\n" + source, lambda context, expr: on_host(expr, context))["x"]
    assert answers == {
        "moved later": True,
        "moved on the host": False,
        "rebound first": False,
        "in a loop": False,
        "not a parameter": False,
    }


def test_a_function_whose_callers_move_its_results_makes_host_tensors():
    from perflint.engine.devices import function_reads_host_tensors

    def accelerator_possible_at_print(caller: str) -> bool:
        source = (
            "import torch\n"
            "class Model:\n"
            f"    def step(self, data):\n{caller}"
            "    def _augment(self, data):\n"
            "        print(x)\n"
            "        return data.x, data.y\n"
        )
        return probe_calls(source, lambda context, expr: function_reads_host_tensors(context))["x"]

    moved = "        x_aug, y_aug = self._augment(data)\n        x_aug = x_aug.to(self.device)\n        return x_aug\n"
    assert accelerator_possible_at_print(moved) is True
    kept = "        x_aug, y_aug = self._augment(data)\n        return x_aug\n"
    assert accelerator_possible_at_print(kept) is False


def test_a_tensor_parameter_the_function_moves_nowhere_is_placed_by_its_callers():
    from perflint.engine.devices import placed_by_callers

    answers = probe_calls(
        "import torch\n"
        "def fit(self, x_ref: torch.Tensor, y: torch.Tensor, ds, z: torch.Tensor, device):\n"
        "    x_ref = x_ref.to(torch.float32)\n"
        "    print(x_ref); print(y.float()); print(ds); print(z); print(y[0])\n"
        "    z = z.to(device)\n",
        lambda context, expr: placed_by_callers(expr, context),
    )
    assert answers == {
        "x_ref": True,
        "y.float()": True,
        # Not known to be a tensor (a dataset object), moved by the function itself, or a part.
        "ds": False,
        "z": False,
        "y[0]": False,
    }
