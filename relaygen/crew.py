"""Helpers that draft elsewhere, and how a round's work is shared with them.

A round's jobs are cut into chunks. :func:`share` hands the next chunk to any helper that is ready
and idle, and this process (where it drafts too) takes a chunk itself whenever one is left, so a
helper still starting (a new process imports torch and loads the model: seconds) never holds a
round up, and more helpers never make a run slower. A chunk whose helper died goes back in the
queue. Who drafts a chunk changes nothing: a job's result depends on the job alone.

:class:`ProcessCrew` is helpers on this machine (processes that end with this one); the Ray
backend's actors are another crew (:mod:`relaygen.ray_generate`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol, TypeVar

from relaygen.children import die_with_parent

T = TypeVar("T")
R = TypeVar("R")
Work = Callable[[list[Any]], list[Any]]
"""A helper's drafting function: a chunk of jobs → their results, in the same order."""
READY = "ready"
"""What a helper process says once it can draft."""


class Crew(Protocol):
    """Helpers that draft chunks elsewhere."""

    def idle(self) -> int:
        """How many helpers could start a chunk now."""
        ...

    def give(self, key: int, chunk: list[Any]) -> None:
        """Start ``chunk`` (known as ``key``) on an idle helper."""
        ...

    def take(self, block: bool) -> list[tuple[int, list[Any] | None]]:
        """The chunks finished since the last call, as (key, results); results None for a chunk whose
        helper died (to be drafted again). ``block``: wait for one when some helper holds a chunk."""
        ...

    def close(self) -> None:
        """Stop every helper."""
        ...


def share(chunks: list[list[T]], crew: Crew, here: Callable[[list[T]], list[R]] | None = None) -> list[R]:
    """The results of every chunk, in order: helpers take chunks from the front of the queue, this
    process (``here``, if it drafts) from the back; a dead helper's chunk goes back to the front."""
    todo = deque(range(len(chunks)))
    found: dict[int, list[Any]] = {}
    while len(found) < len(chunks):
        while todo and crew.idle():
            key = todo.popleft()
            crew.give(key, chunks[key])
        if todo and here is not None:
            key = todo.pop()
            found[key] = here(chunks[key])
        for key, results in crew.take(block=not (todo and here is not None)):
            if results is None:
                todo.appendleft(key)
            else:
                found[key] = results
    return [result for key in range(len(chunks)) for result in found[key]]


class ProcessCrew:
    """``count`` helper processes on this machine (spawned, each ending with this process), each
    running the drafting function ``start()`` returns; none starts before :meth:`hire`."""

    def __init__(self, count: int, start: Callable[[], Work]) -> None:
        self.count, self.start = count, start
        self.helpers: dict[Connection, Any] = {}
        """Our end of each live helper's pipe → its process."""
        self.ready: set[Connection] = set()
        self.busy: dict[Connection, int] = {}

    def hire(self) -> None:
        """Start the helper processes (each says when it is ready: until then it gets no chunk)."""
        context = multiprocessing.get_context("spawn")
        for _ in range(self.count):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs, self.start, os.getpid()), daemon=True)
            process.start()
            theirs.close()
            self.helpers[ours] = process
        self.count = 0

    @property
    def hired(self) -> bool:
        """Whether the helpers were started."""
        return self.count == 0

    def idle(self) -> int:
        return len(self.ready - set(self.busy))

    def give(self, key: int, chunk: list[Any]) -> None:
        link = next(iter(self.ready - set(self.busy)))
        link.send(chunk)
        self.busy[link] = key

    def take(self, block: bool) -> list[tuple[int, list[Any] | None]]:
        done: list[tuple[int, list[Any] | None]] = []
        while self.helpers:
            for link in wait(list(self.helpers), timeout=None if block and self.busy and not done else 0):
                assert isinstance(link, Connection)
                try:
                    ok, value = link.recv()
                except (EOFError, OSError):  # the helper died: its chunk goes back
                    self.helpers.pop(link).join()
                    self.ready.discard(link)
                    if link in self.busy:
                        done.append((self.busy.pop(link), None))
                    continue
                if not ok:
                    raise value
                if value == READY:
                    self.ready.add(link)
                else:
                    done.append((self.busy.pop(link), value))
            if done or not block or not self.busy:
                break
        return done

    def close(self) -> None:
        """Stop the helpers: a ready one when told, one still starting at once (it holds nothing)."""
        for link, process in self.helpers.items():
            if link in self.ready:
                with contextlib.suppress(OSError):
                    link.send(None)
            else:
                process.kill()
        for process in self.helpers.values():
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()


def _serve(link: Connection, start: Callable[[], Work], parent: int) -> None:
    """A helper process: it ends with ``parent``, builds its drafting function, says it is ready,
    then drafts each chunk it is sent until it is sent None; an error goes back to the parent."""
    die_with_parent(parent)
    try:
        work = start()
        link.send((True, READY))
        while (chunk := link.recv()) is not None:
            link.send((True, work(chunk)))
    except EOFError:
        pass
    except Exception as exc:  # the parent raises it
        link.send((False, exc))
