"""Bulk work pauses Python's cyclic garbage collector while it runs.

An import, a scrub, a batch, an X12 reader or the payer simulator builds hundreds of thousands
of small, acyclic objects (visits, claims, rows, segments). Each time enough of them pile up, the
collector walks every live object looking for cycles and finds none: a fifth to a third of a
clinic-month's import and scrub time went there. Reference counting still frees everything
as usual; only cycles wait for the collector, which runs again as soon as the block ends.
Pure (it touches only the interpreter's collector), so the core and the shell share it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector for the block (nested blocks leave it to the
    outermost); re-enable it afterwards, also on an exception."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
