"""The training configuration: documented fields, TOML round trip, clear errors."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from relaygen.agent.cli import RESUME_OPTIONS
from relaygen.agent.config import ConfigError, TrainConfig, field_docs
from relaygen.agent.run import prepare


def test_every_field_has_a_one_line_docstring() -> None:
    docs = field_docs()
    for f in fields(TrainConfig):
        assert docs.get(f.name), f"field {f.name} has no docstring"
        assert "\n" not in docs[f.name]


def test_toml_round_trip(tmp_path: Path) -> None:
    config = TrainConfig(
        rules="dungeon",
        representation="turtle",
        workers=3,
        learning_rate=1e-3,
        anneal_lr=False,
        max_minutes=2.5,
        init_from="runs/a/model.pt",
    )
    path = tmp_path / "c.toml"
    path.write_text(config.to_toml())
    assert TrainConfig.from_toml(path) == config


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('rules = "sokoban"\nworkers = 4\n')
    config = TrainConfig.from_toml(path, workers=1, seed=None)
    assert (config.rules, config.workers, config.seed) == ("sokoban", 1, TrainConfig().seed)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("wrokers = 2\n", "unknown field"),
        ("workers = 0\n", "workers must be positive"),
        ("channels = 0\n", "channels must be positive"),
        ("max_minutes = 0\n", "max_minutes must be positive"),
        ('workers = "two"\n', "workers"),
        ("gamma = 1.5\n", "gamma must be in [0, 1]"),
        ("workers = [\n", "TOML syntax error"),
    ],
)
def test_bad_files_name_the_file_and_field(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_toml(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_learning_rate_anneals_linearly_to_zero() -> None:
    config = TrainConfig(total_steps=1000, learning_rate=1e-3)
    assert config.lr_at(0) == pytest.approx(1e-3)
    assert config.lr_at(250) == pytest.approx(7.5e-4)
    assert config.lr_at(2000) == 0.0
    assert TrainConfig(anneal_lr=False, learning_rate=1e-3).lr_at(10**9) == pytest.approx(1e-3)


def test_unset_model_widths_get_the_defaults() -> None:
    _, config = prepare(TrainConfig(rules="maze", hidden=64))
    assert (TrainConfig().channels, TrainConfig().hidden) == (None, None)
    assert (config.channels, config.hidden, config.representation) == (32, 64, "backtrack")


def test_resume_options_are_config_fields() -> None:
    names = {f.name for f in fields(TrainConfig)}
    assert set(RESUME_OPTIONS) <= names
    assert "max_minutes" in RESUME_OPTIONS


def test_the_solver_budget_reaches_the_reward_and_is_checked() -> None:
    from relaygen.agent.worker import make_env
    from relaygen.rules import load_rules

    config = TrainConfig(rules="sokoban", representation="wide", solver_budget=12_345)
    assert make_env(config, load_rules("sokoban"), 1).scorer.budget.max_nodes == 12_345
    with pytest.raises(ConfigError, match="solver_budget must be positive"):
        TrainConfig(rules="sokoban", solver_budget=0)


def test_searching_at_the_end_reaches_the_reward_and_the_drafts_of_its_model() -> None:
    from relaygen.agent.policy import Policy
    from relaygen.agent.worker import make_env
    from relaygen.rules import load_rules

    rules = load_rules("sokoban")
    config = TrainConfig(rules="sokoban", representation="wide", search_at_end=True)
    assert make_env(config, rules, 1).search_at_end
    assert not make_env(TrainConfig(rules="sokoban", representation="wide"), rules, 1).search_at_end
    policy = Policy(None, rules, "wide", {"config": config.to_dict()})  # type: ignore[arg-type]
    assert policy.make_env(1).search_at_end, "a model trained so drafts so"


def test_a_blind_model_trains_with_a_search_per_edit_and_drafts_with_one_per_episode() -> None:
    from relaygen.agent.policy import Policy
    from relaygen.agent.worker import make_env
    from relaygen.rules import load_rules

    rules = load_rules("sokoban")
    config = TrainConfig(rules="sokoban", representation="wide", observe_metrics=True, blind=True)
    trained = make_env(config, rules, 1)
    assert trained.blind and not trained.search_at_end
    policy = Policy(None, rules, "wide", {"config": config.to_dict()})  # type: ignore[arg-type]
    drafting = policy.make_env(1)
    assert drafting.blind and drafting.search_at_end
    assert not Policy(None, rules, "wide", {"config": {}}).make_env(1).search_at_end  # type: ignore[arg-type]


@pytest.mark.parametrize("blind", [False, True])
def test_a_fine_tune_drafts_as_blind_as_the_model_it_starts_from(blind: bool) -> None:
    from relaygen.agent.policy import load_policy
    from relaygen.drafters import shipped_models

    path = next(p for p in shipped_models() if p.stem == "boxoban")
    start = load_policy(path)
    start.meta = start.meta | {"config": start.meta["config"] | {"blind": blind}}
    _, config = prepare(TrainConfig(rules="boxoban", init_from=str(path)), start)
    assert config.blind == blind
