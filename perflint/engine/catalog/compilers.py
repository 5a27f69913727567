"""Just-in-time and ahead-of-time compilers of Python functions.

A function compiled by one of these (as a decorator, ``@numba.njit(cache=True)``, or by a
call that wraps it, ``fast = jax.jit(step)``) does not run its loops in the interpreter: an
index loop is how numba and Cython code is meant to be written, and JAX and TorchScript trace
or compile the loop once. The loop-cost rules stay silent there.

Only the names are catalogued (no signatures): numba, JAX and Cython are not dependencies,
and the engine only asks whether a decorator or a wrapping call names a compiler.
"""

from __future__ import annotations

import re

JIT_COMPILERS = frozenset(
    {
        # numba
        "numba.jit",
        "numba.njit",
        "numba.vectorize",
        "numba.guvectorize",
        "numba.stencil",
        "numba.cfunc",
        "numba.generated_jit",
        "numba.cuda.jit",
        "numba.experimental.jitclass",
        "numba.jitclass",
        # JAX
        "jax.jit",
        "jax.pmap",
        # PyTorch: TorchScript and the torch.compile stack
        "torch.jit.script",
        "torch.jit.script_method",
        "torch.compile",
        # CUDA graphs: the callable is captured once and replayed without running its Python
        "torch.cuda.make_graphed_callables",
        "torch.cuda.graphs.make_graphed_callables",
        # tensordict's (and so TorchRL's) module wrapper that captures its callable as a CUDA graph
        "tensordict.nn.CudaGraphModule",
        "tensordict.nn.cudagraphs.CudaGraphModule",
        # Cython's pure-Python mode: these decorators only mean something to a compiled module
        "cython.cfunc",
        "cython.ccall",
        "cython.compile",
        "cython.boundscheck",
        "cython.wraparound",
        "cython.cdivision",
        "cython.locals",
        "cython.nogil",
    }
)

# Context managers under which the code in their body, and the functions it calls, is captured
# as a CUDA graph: run once to record the kernels, then replayed without the interpreter.
CUDA_GRAPH_CAPTURES = frozenset({"torch.cuda.graph", "torch.cuda.graphs.graph"})

# Text a file must contain to call one of the compilers above or a capture (``numba.njit(f)``,
# ``torch.compile(model.step)``, ``with torch.cuda.graph(g):``): a call of a name any of them
# ends with, or an import that renames one (``from numba import njit as fast``).
_COMPILER_NAMES = "|".join(sorted({name.rsplit(".", 1)[1] for name in JIT_COMPILERS | CUDA_GRAPH_CAPTURES}))
COMPILER_CALL_TEXT = re.compile(rf"\b(?:{_COMPILER_NAMES})\s*\(|\bimport\b[^\n]*\b(?:{_COMPILER_NAMES})\s+as\b")
