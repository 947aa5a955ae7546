"""Training throughput: environment steps per second with 1 and 2 workers, and per-update cost.

Each run trains for ``--seconds`` (after its workers are up) with the default config; steps/s is
measured from the TensorBoard step counter between the first and the last log write, so process
start-up is left out. The per-update cost is measured in this process: one worker's rollout of
envs_per_worker × t_max steps with the loss and backward pass, then the push into the shared
model and the shared optimizer step.

    python benchmarks/train_speed.py [--rules maze] [--config TOML] [--envs N] [--seconds 40] [--json]

``--config`` reads a TrainConfig file (e.g. a shipped model's recipe, relaygen/models/maze.toml);
``--envs`` and ``--t-max`` override its batch.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch

from relaygen.agent.config import TrainConfig
from relaygen.agent.run import prepare
from relaygen.agent.shared_optim import make_optimizer, push_gradients
from relaygen.agent.trainer import train
from relaygen.agent.worker import Learner


def steps_per_second(config: TrainConfig, seconds: float) -> float:
    """Steady-state environment steps/s of a training run of about ``seconds``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with tempfile.TemporaryDirectory() as runs:
        probe = config.replace(runs_dir=runs, max_minutes=seconds / 60, log_seconds=2.0, progress=False)
        folder = train(probe.replace(total_steps=10**12))
        events = EventAccumulator(str(folder))
        events.Reload()
        points = events.Scalars("charts/steps_per_second")
    if len(points) < 2:
        raise RuntimeError("the run logged too few points; give it more --seconds")
    first, last = points[0], points[-1]
    return (last.step - first.step) / (last.wall_time - first.wall_time)


def update_cost(config: TrainConfig, updates: int) -> dict[str, float]:
    """Seconds per update in one process: rollout + loss + backward, and push + optimizer step."""
    torch.set_num_threads(1)
    rules, config = prepare(config)
    learner = Learner(config, rules, 0, config.seed)
    shared = Learner(config, rules, 1, config.seed + 1).model
    optimizer = make_optimizer(config.optimizer, shared, config.learning_rate)
    learner.gradients()
    compute = apply = 0.0
    for _ in range(updates):
        started = time.perf_counter()
        learner.load(shared.state_dict())
        learner.gradients()
        middle = time.perf_counter()
        push_gradients(learner.grads(), shared)
        optimizer.step()
        compute, apply = compute + middle - started, apply + time.perf_counter() - middle
    return {
        "steps_per_update": config.batch_steps,
        "compute_seconds": compute / updates,
        "apply_seconds": apply / updates,
        "steps_per_second_one_process": config.batch_steps * updates / (compute + apply),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default=None, help="built-in or rules file (default: the config's, else maze)")
    parser.add_argument("--representation", default=None)
    parser.add_argument("--config", default=None, help="TrainConfig TOML file (default: the default config)")
    parser.add_argument("--envs", type=int, default=None, help="environments per worker")
    parser.add_argument("--t-max", type=int, default=None, help="steps per environment between updates")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    options = {"rules": args.rules, "representation": args.representation, "envs_per_worker": args.envs}
    overrides = {key: value for key, value in (options | {"t_max": args.t_max}).items() if value is not None}
    config = (
        TrainConfig.from_toml(args.config, **overrides) if args.config else TrainConfig(**{"rules": "maze"} | overrides)
    )
    update = update_cost(config, args.updates)
    speeds = {w: steps_per_second(config.replace(workers=w), args.seconds) for w in (1, 2)}
    result = {
        "rules": config.rules,
        "config": config.to_dict(),
        "update": update,
        "steps_per_second": speeds,
        "ratio_2_to_1": speeds[2] / speeds[1],
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(
        f"{config.rules} ({config.representation}): {config.envs_per_worker} envs × t_max {config.t_max} = {config.batch_steps} steps per update"
    )
    print(
        f"  per update: rollout+loss+backward {update['compute_seconds'] * 1e3:.1f} ms, "
        f"push+optimizer {update['apply_seconds'] * 1e3:.2f} ms "
        f"({update['steps_per_second_one_process']:.0f} steps/s in one process)"
    )
    for workers, speed in speeds.items():
        print(f"  {workers} worker(s): {speed:.0f} steps/s")
    print(f"  ratio 2/1: {result['ratio_2_to_1']:.2f}")


if __name__ == "__main__":
    main()
