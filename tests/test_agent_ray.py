"""The Ray backend against a real Ray cluster: ``ray start --head`` in its own process, then
``relaygen train --backend ray --address HOST:PORT`` in another, as a user would run them.

The cluster is started once for the module and stopped in the fixture's teardown, whatever the
tests did. Only the cluster this module started is stopped (its process group), never other Ray
processes on the machine (``ray stop`` would stop them all). Tests that need Ray are skipped when it
is not installed; the test of the message that names the extra always runs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from relaygen.agent.checkpoint import CheckpointError, load_checkpoint
from relaygen.agent.config import TrainConfig
from relaygen.agent.model import load_model
from relaygen.agent.trainer import train
from relaygen.rules import load_rules

pytestmark = pytest.mark.slow  # trains or runs subprocesses: the full lane only

CLI = [sys.executable, "-m", "relaygen"]
RAY = Path(sys.executable).with_name("ray")
STARTED = "Ray runtime started"
BATCH = 4 * 8
"""Environment steps in one worker update (envs_per_worker × t_max below)."""


@dataclass
class Cluster:
    """A running single-node Ray cluster: its address and the pid of its raylet."""

    address: str
    raylet: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cmdline(pid: int | str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def ray_env() -> dict[str, str]:
    """The environment of the cluster and the training processes: no RAY_ADDRESS (only --address
    names the cluster) and token authentication off (Ray turns it on for a head when some earlier
    local cluster left a token in ~/.ray, but not for a driver given an address)."""
    return {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | {"RAY_AUTH_MODE": "disabled"}


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """End ``process`` and everything in its process group: SIGTERM, then SIGKILL."""
    for sig, grace in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """``ray start --head --num-cpus 2`` on free ports, its session files in a temporary folder."""
    pytest.importorskip("ray")
    temp = Path(tempfile.mkdtemp(prefix="relaygen-ray-"))
    port = free_port()
    log = (temp / "ray_start.log").open("wb")
    command = [
        str(RAY), "start", "--head", "--block", "--num-cpus", "2", "--port", str(port),
        "--node-ip-address", "127.0.0.1", "--include-dashboard=false", "--disable-usage-stats",
        "--ray-client-server-port", str(free_port()), "--dashboard-agent-listen-port", str(free_port()),
        "--temp-dir", str(temp),
    ]  # fmt: skip
    head = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=ray_env(), start_new_session=True)
    try:
        wait_for(lambda: STARTED in (temp / "ray_start.log").read_text() or head.poll() is not None, 180, "ray start")
        assert head.poll() is None, (temp / "ray_start.log").read_text()
        raylets = [p for p in Path("/proc").iterdir() if p.name.isdigit() and f"{temp}/" in cmdline(p.name)]
        raylet = next(int(p.name) for p in raylets if "/raylet " in cmdline(p.name))
        yield Cluster(f"127.0.0.1:{port}", raylet)
    finally:
        stop_group(head)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def small_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built-in maze at 7x7."""
    path = tmp_path_factory.mktemp("rules") / "small.toml"
    path.write_text(
        load_rules("maze").to_toml().replace("width = 16", "width = 7").replace("height = 16", "height = 7")
    )
    return path


def small_config(rules: Path, runs: Path, steps: int) -> TrainConfig:
    """A two-worker run with a tiny model and a tiny learning rate (weights move little per update)."""
    return TrainConfig(
        rules=str(rules),
        workers=2,
        envs_per_worker=4,
        t_max=8,
        total_steps=steps,
        learning_rate=1e-5,
        channels=8,
        hidden=32,
        checkpoint_minutes=0.01,
        runs_dir=str(runs),
        progress=False,
    )


def ray_train(cluster: Cluster, config: TrainConfig, folder: Path) -> subprocess.Popen[str]:
    """``relaygen train --backend ray --address ...`` on ``config`` (written into ``folder``), as a process."""
    (folder / "config.toml").write_text(config.to_toml())
    options = ["--config", str(folder / "config.toml"), "--backend", "ray", "--address", cluster.address]
    return subprocess.Popen(
        [*CLI, "train", *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ray_env()
    )


def finish(process: subprocess.Popen[str], timeout: float = 300) -> str:
    """Wait for a training process; its stderr, after checking that it succeeded."""
    try:
        _, stderr = process.communicate(timeout=timeout)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    return stderr


def only_run(runs: Path) -> Path:
    (folder,) = runs.iterdir()
    return folder


def layout(folder: Path) -> set[str]:
    """The file names of a run folder, TensorBoard event files (named by host and time) as one."""
    return {"events.out.tfevents" if p.name.startswith("events.out.tfevents") else p.name for p in folder.iterdir()}


def test_ray_run_folder_and_checkpoint_match_the_local_backend(
    cluster: Cluster, small_rules: Path, tmp_path: Path
) -> None:
    local = train(small_config(small_rules, tmp_path / "local", 600))
    finish(ray_train(cluster, small_config(small_rules, tmp_path / "ray", 600), tmp_path))
    remote = only_run(tmp_path / "ray")
    assert remote.name.split("__")[:3] == local.name.split("__")[:3] == ["maze", "backtrack", "1"]
    assert layout(remote) == layout(local)
    ours, theirs = load_checkpoint(remote), load_checkpoint(local)
    assert ours.keys() == theirs.keys()
    assert ours["model"].keys() == theirs["model"].keys()
    assert ours["optimizer"]["state"].keys() == theirs["optimizer"]["state"].keys()
    # the parameter server's optimizer, which counted every update, not the driver's idle copy
    assert {float(s["step"]) for s in ours["optimizer"]["state"].values()} == {ours["step"] / BATCH}
    assert ours["config"]["backend"] == "ray" and ours["config"]["ray_address"] == cluster.address
    assert ours["step"] >= 600 and all(n > 0 for n in ours["worker_updates"]), ours["worker_updates"]
    (_, ours_meta), (_, theirs_meta) = load_model(remote / "model.pt"), load_model(local / "model.pt")
    assert ours_meta.keys() == theirs_meta.keys() and ours_meta["steps"] == ours["step"]


def ray_workers(cluster: Cluster) -> list[int]:
    """Pids of the cluster's processes that run a relaygen worker actor's training call."""
    return [pid for pid in children(cluster.raylet) if cmdline(pid).startswith("ray::RayWorker.train")]


def updates_so_far(folder: Path) -> list[int]:
    """Per worker slot, the updates the run's latest checkpoint counts (none before the first)."""
    try:
        return load_checkpoint(folder)["worker_updates"]
    except CheckpointError:
        return [0, 0]


def test_a_killed_worker_actor_is_replaced_and_the_run_finishes(
    cluster: Cluster, small_rules: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    process = ray_train(cluster, small_config(small_rules, runs, 12_000), tmp_path)
    try:
        wait_for(lambda: len(ray_workers(cluster)) == 2, 180, "both worker actors training")
        folder = only_run(runs)
        before = updates_so_far(folder)
        os.kill(ray_workers(cluster)[0], signal.SIGKILL)
    finally:
        stderr = finish(process)
    died = re.findall(r"worker actor (\d) died; restarting it", (folder / "log.txt").read_text())
    assert len(died) == 1, stderr
    slot = int(died[0])
    after = load_checkpoint(folder)
    assert after["step"] >= 12_000
    assert after["launches"] == [2 if i == slot else 1 for i in range(2)]
    assert after["worker_updates"][slot] > before[slot], (before, after["worker_updates"])


def test_resume_of_a_ray_run_continues_its_step_counter_and_weights(
    cluster: Cluster, small_rules: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    finish(ray_train(cluster, small_config(small_rules, runs, 600), tmp_path))
    folder = only_run(runs)
    first = load_checkpoint(folder)
    done = subprocess.run(
        [*CLI, "train", "--resume", str(folder), "--steps", "1200", "--address", cluster.address],
        capture_output=True,
        text=True,
        timeout=300,
        env=ray_env(),
    )
    assert done.returncode == 0, done.stderr
    assert f"resumed at step {first['step']}" in (folder / "log.txt").read_text()
    second = load_checkpoint(folder)
    assert second["step"] >= 1200
    # the optimizer counted every update of both runs: the step counter went on from the first run's
    applied = (second["step"] - first["step"]) // BATCH
    assert [float(s["step"]) for s in second["optimizer"]["state"].values()] == [
        float(s["step"]) + applied for s in first["optimizer"]["state"].values()
    ]
    # with a learning rate of 1e-5 the weights move little: they went on from the first run's
    drift = max((second["model"][k] - first["model"][k]).abs().max().item() for k in first["model"])
    assert 0 < drift < 1e-2, drift


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from relaygen.agent.ray_backend import import_ray
    from relaygen.agent.trainer import TrainingError

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray":
            raise ImportError("no ray here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(TrainingError, match=r"pip install relaygen\[ray\]"):
        import_ray()
