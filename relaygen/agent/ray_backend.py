"""The Ray backend: the same A3C on a Ray cluster (``relaygen train RULES --backend ray``).

A parameter-server actor holds the model and the optimizer and applies each gradient as it
arrives, in arrival order (asynchronous, as A3C). Worker actors each own their environments and
a model copy (a :class:`relaygen.agent.worker.Learner`): they fetch the weights, roll out, compute
gradients, send them, and get the new weights back. The driver keeps the same run folder,
TensorBoard scalars, progress bar and checkpoints as the local backend. Ray is imported only here,
and only when this backend runs (``pip install relaygen[ray]``).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from relaygen.agent.config import TrainConfig
from relaygen.agent.model import ActorCritic
from relaygen.agent.run import Run, stop_signals
from relaygen.agent.shared_optim import make_optimizer, push_gradients, set_lr
from relaygen.agent.worker import Learner, Update
from relaygen.rules import Rules

CONNECT_SECONDS = 10.0
"""How long ``--address`` may take to answer before the run is refused (Ray itself would retry for good)."""
POLL_SECONDS = 0.5
CALL_SECONDS = 2.0
"""How long a worker actor trains before it hands its reports back to the driver."""


def import_ray() -> Any:
    """The ``ray`` module, or an error that says how to install it."""
    try:
        import ray
    except ImportError:
        from relaygen.agent.trainer import TrainingError

        raise TrainingError("the ray backend needs Ray, which is not installed: pip install relaygen[ray]") from None
    return ray


class ParameterServer:
    """Holds the model and the optimizer; applies gradients in the order they arrive."""

    def __init__(self, model: ActorCritic, optimizer_state: dict[str, Any], config: TrainConfig, step: int) -> None:
        torch.set_num_threads(1)
        self.model, self.config, self.step = model, config, step
        self.optimizer = make_optimizer(config.optimizer, model, config.learning_rate)
        self.optimizer.load_state_dict(optimizer_state)

    def weights(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def apply(self, grads: list[torch.Tensor], steps: int) -> tuple[dict[str, torch.Tensor], int]:
        """One asynchronous update with a worker's gradients; returns the new weights and step count."""
        push_gradients(grads, self.model)
        set_lr(self.optimizer, self.config.lr_at(self.step))
        self.optimizer.step()
        self.step += steps
        return self.model.state_dict(), self.step

    def steps(self) -> int:
        return self.step

    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any], int]:
        """Weights, optimizer state and step counter, for a checkpoint."""
        return self.model.state_dict(), self.optimizer.state_dict(), self.step


class RayWorker:
    """A worker actor: its own environments and model copy; computes gradients for the server."""

    def __init__(self, config: TrainConfig, rules: Rules, index: int, seed: int) -> None:
        from relaygen.agent.seeding import seed_everything

        torch.set_num_threads(1)
        seed_everything(seed)
        self.learner = Learner(config, rules, index, seed)
        self.weights: dict[str, torch.Tensor] | None = None

    def train(self, server: Any, total_steps: int) -> list[Update]:
        """Update through ``server`` for about CALL_SECONDS (or until the step budget is spent)."""
        ray = import_ray()
        if self.weights is None:
            self.weights = ray.get(server.weights.remote())
        updates: list[Update] = []
        deadline = time.time() + CALL_SECONDS
        while time.time() < deadline:
            self.learner.load(self.weights)
            update = self.learner.gradients()
            self.weights, step = ray.get(server.apply.remote(self.learner.grads(), update.steps))
            updates.append(update)
            if step >= total_steps:
                break
        return updates


def check_address(address: str | None, seconds: float = CONNECT_SECONDS) -> None:
    """Raise :class:`~relaygen.agent.trainer.TrainingError` unless something accepts a connection at
    the Ray cluster ``address`` (``host:port`` or ``ray://host:port``) within ``seconds``; ``None``
    and ``auto`` are left to Ray."""
    import socket

    from relaygen.agent.trainer import TrainingError

    if address is None or address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise TrainingError(f"--address {address}: not a Ray cluster address (HOST:PORT, e.g. 10.0.0.1:6379)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=seconds):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise TrainingError(
            f"--address {address}: no Ray cluster answers there within {seconds:.0f} s ({reason}); "
            "start one with `ray start --head` and give the address it prints"
        ) from None


def connect(address: str | None) -> Any:
    """The ``ray`` module, this process joined to the cluster at ``address`` (with None, a local Ray
    instance started here), once per process; training and generation join the same way."""
    ray = import_ray()
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except ConnectionError as exc:  # e.g. --address auto with no cluster running
            from relaygen.agent.trainer import TrainingError

            raise TrainingError(f"--address {address}: cannot join a Ray cluster: {exc}") from None
    return ray


def train_ray(run: Run) -> None:
    """Run A3C on Ray until the step budget is spent or a stop signal arrives."""
    config = run.config
    ray = connect(config.ray_address)
    server = ray.remote(num_cpus=0)(ParameterServer).remote(run.model, run.optimizer.state_dict(), config, run.step)
    actor = ray.remote(num_cpus=1)(RayWorker)
    workers: list[Any] = [None] * config.workers
    pending: dict[Any, int] = {}

    def launch(index: int) -> None:
        workers[index] = actor.remote(config, run.rules, index, run.worker_seed(index))
        pending[workers[index].train.remote(server, config.total_steps)] = index

    def collect(ref: Any) -> bool:
        """Record a finished call's updates; False if its actor died."""
        try:
            updates = ray.get(ref)
        except ray.exceptions.RayActorError:
            return False
        for update in updates:
            run.record(update)
        return True

    def pull() -> None:
        weights, optimizer_state, step = ray.get(server.state.remote())
        run.model.load_state_dict(weights)
        run.optimizer.load_state_dict(optimizer_state)
        run.advance(step)

    with stop_signals() as stopping:
        try:
            for index in range(config.workers):
                launch(index)
            while not (stopping() or run.done):
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
                for ref in ready:
                    index = pending.pop(ref)
                    if collect(ref):
                        pending[workers[index].train.remote(server, config.total_steps)] = index
                    else:
                        run.report(f"worker actor {index} died; restarting it")
                        launch(index)
                run.advance(ray.get(server.steps.remote()))
                run.log()
                if run.checkpoint_due():
                    pull()
                    run.save()
        finally:
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=CALL_SECONDS * 3)
            for ref in ready:
                collect(ref)
            pull()
            for worker in workers:
                ray.kill(worker)
            ray.kill(server)
            run.finish(stopping())
