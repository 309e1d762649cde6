"""A pool process keeps its start-up heap out of the garbage collector's reach: a full
collection over it (every module, Celery, the subscription file) took 60 ms, a stall
charged to whichever delivery it interrupted."""

from __future__ import annotations

import gc

from celery.signals import worker_process_init

import workers.app  # noqa: F401  (connects the worker's signal handlers)


def test_a_new_pool_process_freezes_what_it_inherited() -> None:
    gc.unfreeze()  # whatever an earlier test froze: count from nothing
    inherited = len(gc.get_objects())
    try:
        worker_process_init.send(sender=None)  # as billiard's process initializer does
        # Nearly all of them: the signal's own clean-up (a test's dead receivers) can free a
        # few between the count and the freeze.
        assert gc.get_freeze_count() >= inherited * 0.99
        assert len(gc.get_objects()) < inherited / 10  # what a collection still walks
    finally:
        gc.unfreeze()
