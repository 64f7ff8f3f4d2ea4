"""The garbage collector of a long-running server: the startup heap frozen, young
collections rarer.

Python collects a generation when enough objects were allocated since its last
collection; a full collection (generation 2) walks every tracked object, and the
loop, with every turn on it, waits meanwhile. After startup the heap holds what lives
as long as the process (modules, the models' tokenizers, SQLAlchemy's and pydantic's
structures): measured under ``companion bench gateway`` these made a full collection
last hundreds of milliseconds, and the turns in flight each waited for it.
``gc.freeze()`` moves them to a permanent generation that collections skip; objects
allocated afterwards are collected as before.

A turn keeps thousands of objects alive across its awaits, so with the default
first threshold (700 allocations) young collections ran every few hundred
microseconds of work and promoted live turn objects to the middle generation, whose
collections then walked them again. A higher first threshold lets most of them die
young and collects less often (each collection walks at most that many new objects).
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "freeze_startup_heap"]

#: Allocations (net of frees) between young collections; Python's default is 700.
YOUNG_THRESHOLD = 10_000


def freeze_startup_heap(*, young: int = YOUNG_THRESHOLD) -> int:
    """Collect once, move every surviving object out of future collections, and set
    the young generation's threshold; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)
    return gc.get_freeze_count()
