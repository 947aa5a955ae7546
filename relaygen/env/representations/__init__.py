"""Representations: how an agent edits a level (narrow, turtle, wide, carve, nca, backtrack, legs)."""

from __future__ import annotations

from typing import Any

from relaygen.env.representations.backtrack import Backtrack
from relaygen.env.representations.base import Edits, Representation, RepresentationError
from relaygen.env.representations.carve import Carve
from relaygen.env.representations.legs import Legs
from relaygen.env.representations.narrow import Narrow
from relaygen.env.representations.nca import Nca
from relaygen.env.representations.turtle import Turtle
from relaygen.env.representations.wide import Wide
from relaygen.rules import REPRESENTATIONS, Rules

KINDS: dict[str, type[Representation]] = {r.name: r for r in (Narrow, Turtle, Wide, Carve, Nca, Backtrack, Legs)}
assert tuple(KINDS) == REPRESENTATIONS


def make_representation(name: str, rules: Rules, **options: Any) -> Representation:
    """The representation called ``name`` for ``rules``; clear errors for unknown or unsuitable ones."""
    if name not in KINDS:
        raise RepresentationError(f"unknown representation {name!r}; choose one of {', '.join(KINDS)}")
    return KINDS[name](rules, **options)


__all__ = ["KINDS", "Edits", "Representation", "RepresentationError", "make_representation"]
