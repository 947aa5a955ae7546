"""Generation on Ray: a real local Ray instance (two CPUs) drafts the files of a local run, byte for byte,
even when an actor's process is killed mid-run; bad addresses are one clear error."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from relaygen import ray_generate
from relaygen.runfolder import write_run

MAZE = {"model": "search", "seed": 4}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """Ray started in this process with two CPUs (stopped at the end of the module)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def draft_actors() -> list[int]:
    """The pids of the drafting actors among this process's descendants."""
    found, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        todo += [int(k) for k in kids]
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::DraftActor"):
                found.append(pid)
        except OSError:
            pass
    return found


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.mark.slow  # starts Ray and its actors
def test_ray_actors_write_the_local_files_even_when_one_is_killed(
    local_ray: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    crews: list[ray_generate.RayCrew] = []

    class Watched(ray_generate.RayCrew):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            crews.append(self)

    monkeypatch.setattr(ray_generate, "RayCrew", Watched)
    local = list(write_run(tmp_path / "local", "json", "maze", 40, **MAZE))
    killed: list[int] = []

    def kill_one_busy_actor() -> None:
        """Once both actors draft, SIGKILL one of them (while its chunk is in flight)."""
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            busy = [pid for pid in draft_actors() if b".draft" in Path(f"/proc/{pid}/cmdline").read_bytes()]
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one_busy_actor, daemon=True)
    killer.start()
    remote = list(write_run(tmp_path / "ray", "json", "maze", 40, backend="ray", **MAZE))
    killer.join()
    assert killed and crews[0].replaced >= 1 and len(crews[0]) == 2
    assert sorted(remote) == sorted(p.parent.parent / "ray" / p.name for p in local)  # every level once
    assert files(tmp_path / "ray") == files(tmp_path / "local")


@pytest.mark.slow  # starts Ray and its actors
def test_the_number_of_actors_changes_no_byte(local_ray: None, tmp_path: Path) -> None:
    list(write_run(tmp_path / "one", "jsonl", "maze", 12, backend="ray", workers=1, **MAZE))
    list(write_run(tmp_path / "two", "jsonl", "maze", 12, backend="ray", workers=2, **MAZE))
    list(write_run(tmp_path / "local", "jsonl", "maze", 12, **MAZE))
    assert files(tmp_path / "one") == files(tmp_path / "two") == files(tmp_path / "local")


def test_an_address_where_no_cluster_answers_is_one_clear_error(
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str], tmp_path: Path
) -> None:
    pytest.importorskip("ray")
    with socket_bound() as port:
        run = relaygen_cli("generate", "maze", "-n", "2", "--model", "search", "--backend", "ray",
                           "--address", f"127.0.0.1:{port}", "--out", tmp_path / "out")  # fmt: skip
    one_error_line(run, f"--address 127.0.0.1:{port}", "no Ray cluster answers there")
    assert not (tmp_path / "out").exists()


def test_an_address_without_the_ray_backend_is_refused(
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str], tmp_path: Path
) -> None:
    run = relaygen_cli("generate", "maze", "-n", "2", "--model", "search", "--address", "127.0.0.1:6379",
                       "--out", tmp_path / "out")  # fmt: skip
    one_error_line(run, "--address", "--backend ray")
    bad = relaygen_cli("generate", "maze", "-n", "2", "--model", "search", "--backend", "spark", "--out", tmp_path)
    one_error_line(bad, "--backend spark", "local or ray")


class socket_bound:
    """A port bound on 127.0.0.1 but not listening: nothing answers there."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
