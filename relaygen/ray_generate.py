"""Generation on Ray (``relaygen generate ... --backend ray [--address ADDR]``): drafting actors, one per CPU.

Each actor builds the drafter once and drafts the chunks of jobs it is given; the driver shares
each round's chunks among them (:func:`relaygen.crew.share`), keeps the levels in index order and
writes the run folder, so the files are those of a local run with the same seed, whatever the
number of actors. An actor that dies (its process killed, its node lost) is replaced and its chunk
drafted again. Ray is imported only here, and only when this backend runs.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from relaygen.agent.ray_backend import check_address, connect
from relaygen.crew import Work


class DraftActor:
    """One drafting actor: the drafting function ``start()`` returns, built once."""

    def __init__(self, start: Any) -> None:
        self.work: Work = start()

    def draft(self, chunk: list[Any]) -> list[Any]:
        return self.work(chunk)

    def pid(self) -> int:
        """The actor's process id (a test kills it)."""
        return os.getpid()


class RayCrew:
    """Drafting actors on the Ray cluster at ``address`` (None: a local Ray instance): ``actors`` of
    them (default and at most: one per CPU of the cluster, each holding one)."""

    def __init__(self, start: Any, address: str | None = None, actors: int | None = None) -> None:
        check_address(address)
        self.ray = connect(address)
        cpus = max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        if actors is not None and actors > cpus:
            print(
                f"relaygen generate: --workers {actors} capped at {cpus}, the CPUs of the Ray cluster", file=sys.stderr
            )
        self.start = start
        self.kind = self.ray.remote(num_cpus=1, max_restarts=0)(DraftActor)
        self.actors = [self.kind.remote(start) for _ in range(min(actors or cpus, cpus))]
        self.busy: dict[Any, tuple[int, int]] = {}
        """A chunk's result reference → (the actor drafting it, the chunk's key)."""
        self.replaced = 0
        """Actors that died and were replaced."""

    def __len__(self) -> int:
        return len(self.actors)

    def idle(self) -> int:
        return len(self.actors) - len(self.busy)

    def give(self, key: int, chunk: list[Any]) -> None:
        taken = {actor for actor, _ in self.busy.values()}
        actor = next(i for i in range(len(self.actors)) if i not in taken)
        self.busy[self.actors[actor].draft.remote(chunk)] = (actor, key)

    def take(self, block: bool) -> list[tuple[int, list[Any] | None]]:
        if not self.busy:
            return []
        refs = list(self.busy)
        ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0)
        if not ready and block:
            ready, _ = self.ray.wait(refs, num_returns=1)
        done: list[tuple[int, list[Any] | None]] = []
        for ref in ready:
            actor, key = self.busy.pop(ref)
            try:
                done.append((key, self.ray.get(ref)))
            except self.ray.exceptions.RayActorError:
                self.actors[actor] = self.kind.remote(self.start)
                self.replaced += 1
                done.append((key, None))
        return done

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
