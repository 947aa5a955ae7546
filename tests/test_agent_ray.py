"""The Ray backend on a local two-CPU Ray (skipped when Ray is not installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaygen.agent.checkpoint import load_checkpoint
from relaygen.agent.config import TrainConfig
from relaygen.agent.model import load_model
from relaygen.agent.trainer import train
from relaygen.rules import load_rules

ray = pytest.importorskip("ray")


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_backend_trains_with_every_worker_and_writes_the_same_run_folder(local_ray: None, tmp_path: Path) -> None:
    rules = tmp_path / "small.toml"
    rules.write_text(
        load_rules("sokoban").to_toml().replace("width = 9", "width = 7").replace("height = 9", "height = 7")
    )
    config = TrainConfig(
        rules=str(rules),
        backend="ray",
        workers=2,
        envs_per_worker=4,
        t_max=8,
        total_steps=1500,
        channels=8,
        hidden=32,
        runs_dir=str(tmp_path / "runs"),
        progress=False,
    )
    folder = train(config)
    checkpoint = load_checkpoint(folder)
    assert checkpoint["step"] >= 1500
    assert all(n > 0 for n in checkpoint["worker_updates"]), checkpoint["worker_updates"]
    _, meta = load_model(folder / "model.pt")
    assert meta["steps"] == checkpoint["step"]
    assert (folder / "config.toml").exists()


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
