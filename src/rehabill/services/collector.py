"""The cyclic garbage collector, paused while a stage builds many long-lived objects.

Batching and the payer simulator build tens of thousands of claim values (and segments, rows,
answers) that all stay alive until the stage ends. Each of the collector's generation scans
walks every one of them again, so with the collector on, such a stage runs up to twice as long
(``bench/cycle_bench.py``). The values hold no reference cycles, so nothing is lost by waiting:
reference counting frees them as usual, and the collector is restored exactly as it was.
The x12 readers pause it for the same reason (``x12/reader.py``, ``x12/remit835.py``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic collector for the block; re-enable it after only if it was on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
