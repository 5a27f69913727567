"""tqdm: progress bars that wrap an iterable and yield its items.

The signature is ``tqdm.__init__``'s (the class's own ``__new__`` takes ``*_, **__``).
"""

from __future__ import annotations

from perflint.engine.catalog.records import WRAPS_ITERABLE, function

_TQDM_SIGNATURE = (
    "iterable, desc, total, leave, file, ncols, mininterval, maxinterval, miniters, ascii, "
    "disable, unit, unit_scale, dynamic_ncols, smoothing, bar_format, initial, position, "
    "postfix, unit_divisor, write_bytes, lock_args, nrows, colour, delay, gui, **kwargs"
)

FUNCTIONS = (
    function("tqdm.tqdm", _TQDM_SIGNATURE, WRAPS_ITERABLE, aliases=("tqdm.std.tqdm",)),
    function("tqdm.auto.tqdm", _TQDM_SIGNATURE, WRAPS_ITERABLE),
    function("tqdm.notebook.tqdm", _TQDM_SIGNATURE, WRAPS_ITERABLE),
)
