"""The actor-critic over every built-in and representation, and its file format."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from relaygen.agent.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, write_payload
from relaygen.agent.model import ModelError, build_model, load_model, save_model, to_tensors
from relaygen.env.vector import BatchedLevelEnv, action_count
from relaygen.rules import builtin_names, load_rules

CASES = [(name, rep) for name in builtin_names() for rep in load_rules(name).representations]


@pytest.mark.parametrize(("rules", "representation"), CASES)
def test_model_fits_every_builtin_and_representation(rules: str, representation: str) -> None:
    env = BatchedLevelEnv(rules, representation, 3)
    obs, _ = env.reset(seed=0)
    model = build_model(env, channels=8, hidden=16)
    logits, values = model(to_tensors(obs))
    space = env.single_action_space
    assert logits.shape == (3, *space.shape, action_count(space))
    assert values.shape == (3,)
    assert model.spatial == (env.spatial_actions or env.cellwise_actions)
    env.step(logits.argmax(dim=-1).numpy())  # the actions are the environment's


def test_spatial_logits_follow_the_tile_major_action_layout() -> None:
    env = BatchedLevelEnv("maze", "wide", 1)
    obs, _ = env.reset(seed=0)
    model = build_model(env, channels=8, hidden=16)
    seen: dict[str, torch.Tensor] = {}
    model.policy_head.register_forward_hook(lambda module, args, out: seen.update(per_cell=out))
    logits, _ = model(to_tensors(obs))
    per_cell = seen["per_cell"]  # (1, tiles, H, W)
    tile, y, x = 2, 3, 5
    assert logits[0, tile * env.height * env.width + y * env.width + x] == per_cell[0, tile, y, x]


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    env = BatchedLevelEnv("sokoban", "narrow", 1)
    model = build_model(env, channels=8, hidden=16)
    return save_model(tmp_path / "model.pt", model, {"rules": "sokoban", "steps": 7})


def test_model_file_round_trip(model_file: Path) -> None:
    model, meta = load_model(model_file)
    assert meta == {"rules": "sokoban", "steps": 7}
    env = BatchedLevelEnv("sokoban", "narrow", 2)
    obs, _ = env.reset(seed=1)
    again, _ = load_model(model_file)
    assert torch.equal(model(to_tensors(obs))[0], again(to_tensors(obs))[0])


def test_truncated_model_file_gives_an_error_naming_it(model_file: Path) -> None:
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match=str(model_file)) as info:
        load_model(model_file)
    assert "truncated or corrupt" in str(info.value)


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04garbage"])
def test_garbage_model_files_give_an_error_naming_them(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.pt"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=str(path)):
        load_model(path)


def test_foreign_torch_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, path)
    with pytest.raises(ModelError, match="not a relaygen model file"):
        load_model(path)


def test_model_and_checkpoint_files_are_not_confused(tmp_path: Path, model_file: Path) -> None:
    save_checkpoint(tmp_path, {"model": {}, "optimizer": {}, "step": 1, "config": {}, "rng": {}})
    with pytest.raises(ModelError, match="checkpoint file, not a model"):
        load_model(tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="model file, not a checkpoint"):
        load_checkpoint(model_file)


def test_a_model_file_of_another_architecture_is_refused(tmp_path: Path) -> None:
    env = BatchedLevelEnv("maze", "narrow", 1)
    path = save_model(tmp_path / "m.pt", build_model(env, channels=8, hidden=16), {})
    other = build_model(env, channels=16, hidden=16)
    data = torch.load(path, weights_only=True)
    write_payload(path, "model", {"arch": data["arch"], "state": other.state_dict(), "meta": {}})
    with pytest.raises(ModelError, match="does not fit its architecture"):
        load_model(path)
