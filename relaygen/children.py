"""Child processes that end with the process that started them, however it ends (even ``kill -9``):
training's workers and generation's drafting processes leave nothing behind."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PARENT_POLL_SECONDS = 1.0
"""How often a child's watchdog checks that the process that started it is still there."""


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` (the process that started it) dies, even by ``kill -9``:
    Linux's parent-death signal, and a watchdog thread that sees the parent change anywhere."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    if os.getppid() != parent:  # the parent died before the signal was set up
        os._exit(1)
    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
