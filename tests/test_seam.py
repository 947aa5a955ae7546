"""The mechanic seam: every mechanic is registered once and used through the one protocol, and no module
outside ``relaygen/mechanics`` (and the script engine) names a mechanic."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import numpy as np
import pytest

import relaygen
from relaygen.formats import level_to_dict, read_levels
from relaygen.level import Level
from relaygen.mechanics import MECHANICS, Mechanic, get_mechanic
from relaygen.mechanics.base import Tone, replay
from relaygen.playtest import playtest

PACKAGE = Path(relaygen.__file__).parent
EXAMPLES = sorted((PACKAGE.parent / "levels" / "examples").iterdir())
TONES = set(typing.get_args(Tone))


def test_every_mechanic_is_registered_under_its_own_name_and_is_a_mechanic() -> None:
    assert MECHANICS and all(name == m.name and isinstance(m, Mechanic) for name, m in MECHANICS.items())
    with pytest.raises(KeyError, match="unknown mechanic 'fly'"):
        get_mechanic("fly")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_the_playtesters_solution_wins_through_the_protocol(path: Path) -> None:
    level = read_levels(path)[0]
    mechanic = get_mechanic(level.rules.mechanic)
    solution = playtest(level).solution
    assert solution and set(solution.lower()) <= set(mechanic.moves)
    states = replay(mechanic, level, solution.lower())
    assert len(states) == len(solution) + 1 and states[-1].won and not states[0].won
    for state in (states[0], states[-1]):
        drawn = mechanic.draw(level, state)
        assert drawn.shape == level.grid.shape and int(drawn.max()) < len(level.rules.tiles)
        assert all(isinstance(text, str) and tone in TONES for text, tone in mechanic.hud(level, state))
    assert np.array_equal(mechanic.draw(level, states[0]), level.grid), "the start draws as the level"
    trail = mechanic.trail(level, states)
    assert len(trail) == len(states) and trail[0] != trail[-1]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_a_level_payload_is_the_mechanics_and_survives_its_file(path: Path) -> None:
    level = read_levels(path)[0]
    written = level_to_dict(level)
    again = get_mechanic(level.rules.mechanic).read_payload(written, "again")
    assert again == level.payload
    if level.payload is not None:
        assert written.items() >= level.payload.fields().items()
        bare = Level(level.rules, level.grid)
        assert bare.digest() != level.digest(), "the payload is part of what makes a level itself"


def _string_constants(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_no_module_outside_the_mechanics_names_a_mechanic() -> None:
    outside = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in ("mechanics", "script")]
    assert len(outside) > 30
    naming = {str(p.relative_to(PACKAGE)): sorted(_string_constants(p) & set(MECHANICS)) for p in outside}
    assert {k: v for k, v in naming.items() if v} == {}
