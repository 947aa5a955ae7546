"""The local backend: A3C with worker processes on this machine (torch.multiprocessing, spawn).

The main process holds the shared model and optimizer, starts the workers, and then only watches:
it drains each worker's stats queue into TensorBoard and the progress bar, restarts a worker that
died (and says so), writes a checkpoint every few minutes, and on SIGINT/SIGTERM or at the step
budget stops the workers, checkpoints and returns.
"""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path
from typing import Any

import torch
import torch.multiprocessing as mp

from relaygen.agent.checkpoint import CHECKPOINT_NAME
from relaygen.agent.config import TrainConfig
from relaygen.agent.run import Run, stop_signals
from relaygen.agent.worker import Shared, run_worker
from relaygen.errors import UserError

POLL_SECONDS = 0.2
JOIN_SECONDS = 60.0
MAX_FAILED_STARTS = 3
"""A worker that dies this many times in a row without finishing an update stops the run."""


class TrainingError(UserError, RuntimeError):
    """Training cannot go on (e.g. a worker keeps dying before it makes any progress)."""


class Stopped(Exception):
    """A signal stopped the run before its budget was spent; it was checkpointed and can be resumed."""

    def __init__(self, folder: Path, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}; resume with --resume {folder}")
        self.folder, self.signum = folder, signum


def train(config: TrainConfig | None = None, resume: str | Path | None = None, **overrides: Any) -> Path:
    """Train with ``config`` (or continue the run folder ``resume``); returns the run folder.
    Raises :class:`Stopped` (after the checkpoint) when SIGINT or SIGTERM ended the run early."""
    if resume is None:
        _check_backend(config := config or TrainConfig())
        run = Run.create(config)
    else:
        run = Run.resume(resume, **overrides)
        _check_backend(run.config)
    try:
        if run.config.backend == "ray":
            from relaygen.agent.ray_backend import train_ray

            train_ray(run)
        else:
            train_local(run)
    except BaseException:
        if resume is None and not (run.folder / CHECKPOINT_NAME).exists():
            run.discard()  # nothing to resume: no half-made run folder stays
        raise
    if run.stopped_by:
        raise Stopped(run.folder, run.stopped_by)
    return run.folder


def _check_backend(config: TrainConfig) -> None:
    """Refuse a Ray run whose cluster address does not answer, before anything is written."""
    if config.backend == "ray":
        from relaygen.agent.ray_backend import check_address

        check_address(config.ray_address)


class _Workers:
    """The worker processes of one local run, what they share, and each one's stats queue."""

    def __init__(self, run: Run) -> None:
        n = run.config.workers
        self.run, self.context = run, mp.get_context("spawn")
        run.model.share_memory()
        self.shared = Shared(
            run.model,
            run.optimizer,
            self.context.Array("q", n, lock=False),
            self.context.Array("q", n, lock=False),
            self.context.Event(),
            base_step=run.step,
        )
        self.processes: list[Any] = [None] * n
        self.queues: list[Any] = [None] * n
        self.failed_starts = [0] * n
        self.updates_at_start = [0] * n

    def start_all(self) -> None:
        for index in range(self.run.config.workers):
            self.start(index)

    def start(self, index: int) -> None:
        stats = self.context.Queue()
        process = self.context.Process(
            target=run_worker,
            args=(index, self.run.worker_seed(index), self.run.config, self.run.rules, self.shared, stats, os.getpid()),
            name=f"relaygen-worker-{index}",
            daemon=True,
        )
        process.start()
        self.processes[index], self.queues[index] = process, stats
        self.updates_at_start[index] = self.shared.updates[index]

    def drain(self) -> None:
        """Pass every waiting worker report to the run."""
        for stats in filter(None, self.queues):
            while True:
                try:
                    update = stats.get_nowait()
                except (queue.Empty, EOFError, OSError):
                    break
                self.run.record(update)

    def revive(self) -> None:
        """Restart workers that died while the run is not over, reporting each death."""
        for index, process in enumerate(self.processes):
            if process.is_alive() or (
                process.exitcode == 0 and self.shared.global_step() >= self.run.config.total_steps
            ):
                continue
            progressed = self.shared.updates[index] > self.updates_at_start[index]
            self.failed_starts[index] = 0 if progressed else self.failed_starts[index] + 1
            if self.failed_starts[index] >= MAX_FAILED_STARTS:
                raise TrainingError(
                    f"worker {index} died {MAX_FAILED_STARTS} times without finishing an update "
                    f"(last exit code {process.exitcode}); see the messages above"
                )
            self.run.report(f"worker {index} (pid {process.pid}) died with exit code {process.exitcode}; restarting it")
            process.join(timeout=1.0)
            self.start(index)

    def stop(self) -> None:
        """Ask every worker to finish its update, collect their last reports, and reap them."""
        self.shared.stop.set()
        started = list(filter(None, self.processes))
        deadline = time.time() + JOIN_SECONDS
        while any(p.is_alive() for p in started) and time.time() < deadline:
            self.drain()
            time.sleep(POLL_SECONDS)
        for process in started:
            if process.is_alive():
                self.run.report(f"worker pid {process.pid} did not stop in {JOIN_SECONDS:.0f} s; terminating it")
                process.terminate()
            process.join(timeout=5.0)
        self.drain()


def train_local(run: Run) -> None:
    """Run A3C with worker processes until the step budget is spent or a stop signal arrives."""
    torch.set_num_threads(1)
    workers = _Workers(run)
    with stop_signals() as stopping:
        try:
            workers.start_all()
            while not (stopping() or run.done):
                time.sleep(POLL_SECONDS)
                workers.drain()
                workers.revive()
                run.advance(workers.shared.global_step())
                run.log()
                if run.checkpoint_due():
                    run.save()
        finally:
            workers.stop()
            run.advance(workers.shared.global_step())
            run.finish(stopping())
