"""A3C training end to end on a tiny maze: learning, run folder, signals, resume, dead workers, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from relaygen.agent.checkpoint import CheckpointError, load_checkpoint
from relaygen.agent.config import TrainConfig
from relaygen.agent.evaluate import evaluate
from relaygen.agent.model import load_model
from relaygen.agent.trainer import train

pytestmark = pytest.mark.slow  # trains or runs subprocesses: the full lane only

TINY_TAIL = """
[[constraints]]
tiles = ["exit"]
min = 1
max = 1

[[objectives]]
metric = "regions"
target = [1, 1]
scale = 2

[[objectives]]
metric = "path_length"
weight = 2
scale = 4

[difficulty]
metric = "path_length"
easy = [4, 8]
hard = [8, 14]
"""
"""After the tiny rules' one start: exactly one exit, a single region, and a path length the difficulty sets."""

CLI = [sys.executable, "-m", "relaygen"]

SMALL = {"workers": 2, "envs_per_worker": 8, "t_max": 8, "channels": 16, "hidden": 64, "progress": False}


@pytest.fixture(scope="module")
def tiny_rules(tmp_path_factory: pytest.TempPathFactory, tiny_rules_toml: Callable[..., str]) -> Path:
    """The tiny maze: 7x7 with a wall border, drawn mostly floor, one start and one exit."""
    path = tmp_path_factory.mktemp("rules") / "tiny.toml"
    weights = {"floor": 0.55, "wall": 0.45, "start": 0.03, "exit": 0.03}
    path.write_text(tiny_rules_toml(7, 7, representations=["narrow"], weights=weights, tail=TINY_TAIL))
    return path


@pytest.fixture(scope="module")
def trained(tiny_rules: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-worker run on the tiny maze (the run folder)."""
    runs = tmp_path_factory.mktemp("runs")
    config = TrainConfig(rules=str(tiny_rules), total_steps=25_000, seed=3, runs_dir=str(runs), **SMALL)
    return train(config)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def checkpoint_step(folder: Path) -> int:
    try:
        return int(load_checkpoint(folder)["step"])
    except CheckpointError:
        return -1


def start_training(
    tiny_rules: Path, tmp_path: Path, steps: int, minutes: float = 0.01, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], Path]:
    """A training run in a subprocess through the CLI, a checkpoint every ``minutes``; returns it and
    its (future) run folder."""
    runs = tmp_path / "runs"
    config = TrainConfig(
        rules=str(tiny_rules), total_steps=steps, runs_dir=str(runs), checkpoint_minutes=minutes, **SMALL
    )
    (tmp_path / "config.toml").write_text(config.to_toml())
    process = subprocess.Popen(
        [*CLI, "train", "--config", str(tmp_path / "config.toml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    wait_for(lambda: runs.exists() and any(runs.iterdir()), 60, "the run folder")
    return process, next(runs.iterdir())


# ----- a trained run ----------------------------------------------------------------------------


def test_run_folder_holds_config_logs_checkpoint_and_model(trained: Path) -> None:
    assert trained.name.startswith("tiny__narrow__3__")
    names = {p.name for p in trained.iterdir()}
    assert {"config.toml", "rules.toml", "checkpoint.pt", "model.pt"} <= names
    assert any(n.startswith("events.out.tfevents") for n in names)
    assert TrainConfig.from_toml(trained / "config.toml").total_steps == 25_000
    _, meta = load_model(trained / "model.pt")
    assert meta["rules"] == "tiny" and meta["steps"] >= 25_000


def test_every_worker_pushed_updates(trained: Path) -> None:
    checkpoint = load_checkpoint(trained)
    assert checkpoint["step"] >= 25_000
    assert len(checkpoint["worker_updates"]) == 2
    assert all(n > 0 for n in checkpoint["worker_updates"]), checkpoint["worker_updates"]
    batch = SMALL["envs_per_worker"] * SMALL["t_max"]
    assert sum(checkpoint["worker_updates"]) * batch == checkpoint["step"]


def test_tensorboard_has_the_charts_and_losses(trained: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(trained))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    for tag in ("charts/episodic_return", "charts/playable_rate", "charts/score", "charts/steps_per_second"):
        assert tag in tags
    for tag in ("losses/value_loss", "losses/policy_loss", "losses/entropy", "charts/learning_rate"):
        assert tag in tags


def test_training_beats_the_random_agent(trained: Path) -> None:
    result = evaluate(trained / "model.pt", episodes=48, seed=0)
    assert result["model"]["mean_score"] > result["random"]["mean_score"] + 0.05, result
    assert result["model"]["playable_rate"] > result["random"]["playable_rate"], result


def test_eval_command_prints_json(trained: Path) -> None:
    done = cli("eval", str(trained / "model.pt"), "--episodes", "4", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["rules"] == "tiny"
    assert {"playable_rate", "mean_score", "hamming", "distinct", "satisfaction"} <= set(result["model"])
    assert result["random"]["levels"] == 4


# ----- never lose a run -------------------------------------------------------------------------


def test_sigterm_checkpoints_and_resume_continues_the_step_counter(tiny_rules: Path, tmp_path: Path) -> None:
    process, folder = start_training(tiny_rules, tmp_path, steps=10**9)
    wait_for(lambda: checkpoint_step(folder) > 0, 120, "a checkpoint with progress")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=90)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    stopped = load_checkpoint(folder)["step"]
    assert 0 < stopped < 10**9
    assert "stopped by signal 15" in (folder / "log.txt").read_text()
    (folder / ".checkpoint.pt.k1ll3d_0.tmp").write_bytes(b"PK")  # as a kill mid-write leaves it

    done = cli("train", "--resume", str(folder), "--steps", str(stopped + 1000), timeout=180)
    assert done.returncode == 0, done.stderr
    resumed = load_checkpoint(folder)["step"]
    assert stopped + 1000 <= resumed < stopped + 1000 + 4 * 128  # continued, not restarted from 0
    assert f"resumed at step {stopped}" in (folder / "log.txt").read_text()
    assert not list(folder.glob(".*.tmp"))
    _, meta = load_model(folder / "model.pt")
    assert meta["steps"] == resumed


def worker_pids(process: subprocess.Popen[str]) -> list[int]:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return [int(pid) for pid in children if "spawn_main" in _cmdline(int(pid))]


def test_kill_9_takes_the_workers_along_and_the_first_checkpoint_came_early(tiny_rules: Path, tmp_path: Path) -> None:
    process, folder = start_training(tiny_rules, tmp_path, steps=10**9, minutes=60.0)
    wait_for(lambda: checkpoint_step(folder) > 0, 120, "the first checkpoint, long before the hourly one")
    workers = worker_pids(process)
    assert len(workers) == 2
    process.kill()
    process.wait()
    wait_for(lambda: not any(_cmdline(pid) for pid in workers), 15, "the workers to die with their parent")
    assert load_checkpoint(folder)["step"] > 0


FULL_DISK = """
import errno, os
_replace, _state = os.replace, {"checkpoints": 0}
def replace(src, dst, *args, **kwargs):
    _state["checkpoints"] += str(dst).endswith("checkpoint.pt")
    if _state["checkpoints"] > 1 and str(dst).endswith(".pt"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return _replace(src, dst, *args, **kwargs)
os.replace = replace
"""
"""A sitecustomize that fills the disk after the first checkpoint."""


def test_a_full_disk_keeps_the_last_good_checkpoint(tiny_rules: Path, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(FULL_DISK)
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), *sys.path])}
    process, folder = start_training(tiny_rules, tmp_path, steps=10**9, env=env)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2 and "Traceback" not in stderr
    assert f"error: {folder / 'checkpoint.pt'}: cannot write: No space left on device" in stderr
    assert load_checkpoint(folder)["step"] > 0 and load_model(folder / "model.pt")[1]["steps"] > 0
    assert not list(folder.glob(".*tmp"))


def test_a_killed_worker_is_reported_and_restarted(tiny_rules: Path, tmp_path: Path) -> None:
    process, folder = start_training(tiny_rules, tmp_path, steps=20_000)
    wait_for(lambda: checkpoint_step(folder) > 0, 120, "a checkpoint with progress")
    workers = worker_pids(process)
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr
    assert f"(pid {workers[0]}) died with exit code -9; restarting it" in (folder / "log.txt").read_text()
    assert "restarting it" in stderr
    assert load_checkpoint(folder)["step"] >= 20_000


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_truncated_checkpoint_gives_a_clear_error_naming_the_file(trained: Path, tmp_path: Path) -> None:
    folder = tmp_path / "damaged"
    folder.mkdir()
    data = (trained / "checkpoint.pt").read_bytes()
    (folder / "checkpoint.pt").write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="truncated or corrupt") as info:
        load_checkpoint(folder)
    assert str(folder / "checkpoint.pt") in str(info.value)
    done = cli("train", "--resume", str(folder))
    assert done.returncode == 2
    assert str(folder / "checkpoint.pt") in done.stderr and "Traceback" not in done.stderr


def test_bad_command_lines_exit_2_with_a_message(tmp_path: Path) -> None:
    for args, needle in [
        (["train", "no_such_rules"], "no_such_rules"),
        (["train", "maze", "--representation", "carve"], "carve"),
        (["eval", str(tmp_path / "missing.pt")], "missing.pt"),
        (["train", "maze", "--seed", "-1"], "Invalid value for '--seed'"),
        (["train", "maze", "--runs-dir", __file__ + "/runs"], f"{__file__} is a file, not a folder"),
        (["train", "maze", "--runs-dir", "/proc/runs"], "folder /proc does not accept new folders"),
    ]:
        done = cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert needle in done.stderr and "Traceback" not in done.stderr


def test_one_model_trains_on_several_sizes_and_generates_at_another(tiny_rules: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = cli(
        "train", str(tiny_rules), "--sizes", "7x7,9x9", "--crop-size", "5", "--steps", "2000", "--workers", "1",
        "--envs", "4", "--runs-dir", str(runs), "--no-progress", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (folder,) = runs.iterdir()
    recorded = TrainConfig.from_toml(folder / "config.toml")
    assert (recorded.map_sizes(), recorded.crop_size) == ([(7, 7), (9, 9)], 5)
    out = tmp_path / "levels"
    made = cli("generate", str(tiny_rules), "--model", str(folder / "model.pt"), "--size", "11x8", "-n", "3",
               "--seed", "1", "--out", str(out), timeout=300)  # fmt: skip
    assert made.returncode == 0, made.stderr
    levels = sorted(out.glob("tiny-*.json"))
    assert len(levels) == 3
    assert all(json.loads(p.read_text())["meta"]["size"] == [11, 8] for p in levels)
    refused = cli("train", str(tiny_rules), "--sizes", "7x7,9x9", "--steps", "100", "--runs-dir", str(runs))
    assert refused.returncode == 2 and "set crop_size" in refused.stderr
