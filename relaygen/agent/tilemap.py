"""Tile mapping by meaning: a model trained on one rules file, fitted to another's tiles.

A tile means what its properties (solid, pushable, player, goal, key, door, exit, hazard) make
the mechanic do with it; names, characters and the order of the tiles do not matter. So a new
rules file's tile takes the weights of the model tile with exactly its properties (the name
settles a tie), or of the one an explicit ``new=old`` pair names. A tile with no counterpart
gets a new slot in the input and output layers, initialised from the model tile with all its
properties but one (a lava wall from the wall); several tiles that share one model tile split its
probability evenly. :func:`remap_model` then permutes, copies and drops the model's tile planes
and tile actions to match.

The conditioning input grows the same way (:func:`map_conditions`, :func:`remap_conditions`): each
entry of the new rules' ``cond`` (a target, a count range, a measure) takes the weights of the model's
entry of the same meaning (count constraints compared through the tile map); an entry the model
lacks gets new input weights of zero, so the policy starts out as the model did; one the new rules
lack is dropped.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Literal

import torch

from relaygen.agent.model import ActorCritic
from relaygen.errors import UserError
from relaygen.rules import Rules

How = Literal["properties", "given", "nearest"]


class TileMapError(UserError):
    """A rules file whose tiles cannot take the place of a model's; the message names the tile and why."""


@dataclass(frozen=True)
class Match:
    """Where one tile of the new rules takes its weights from."""

    tile: str
    """The tile of the new rules."""
    source: int
    """The index of the model tile whose weights it starts from."""
    source_name: str
    how: How
    """``properties`` (the same), ``given`` (by ``new=old``) or ``nearest`` (all the tile's but one)."""
    dropped: str = ""
    """For ``nearest``: the tile's property that the model tile lacks."""


@dataclass(frozen=True)
class CondMap:
    """Where each ``cond`` entry of the new rules takes its input weights from."""

    names: tuple[str, ...]
    """The new rules' entries (``BatchedLevelEnv.cond_names``)."""
    sources: tuple[int | None, ...]
    """Per entry, the model's entry it takes its weights from; None for a new one (zero weights)."""
    dropped: tuple[str, ...]
    """The model's entries the new rules lack."""

    @property
    def identity(self) -> bool:
        return self.sources == tuple(range(len(self.sources))) and not self.dropped

    def summary(self) -> str:
        """``the same conditions``, or what was added (zero weights) and dropped."""
        if self.identity:
            return "the same conditions"
        added = [n for n, s in zip(self.names, self.sources, strict=True) if s is None]
        kept = len(self.names) - len(added)
        parts = [f"{kept} conditions kept"]
        parts += [f"added {', '.join(added)} (zero weights)"] if added else []
        parts += [f"dropped {', '.join(self.dropped)}"] if self.dropped else []
        return "; ".join(parts)


@dataclass(frozen=True)
class TileMap:
    """Which model tile each tile of the new rules starts from, in the new rules' tile order, and
    (once the model is fitted) where its conditions come from."""

    matches: tuple[Match, ...]
    model_tiles: int
    """How many tiles the model has."""
    conditions: CondMap | None = None

    @property
    def sources(self) -> list[int]:
        """Per tile of the new rules, the model tile index whose planes and actions it takes."""
        return [m.source for m in self.matches]

    @property
    def exact(self) -> bool:
        """Whether the games' tiles correspond one to one (renamed and reordered at most)."""
        one_to_one = sorted(self.sources) == list(range(self.model_tiles))
        return one_to_one and all(m.how != "nearest" for m in self.matches)

    @property
    def identity(self) -> bool:
        """Whether every tile keeps its own model tile: the same tiles, names and order."""
        same = all(m.tile == m.source_name for m in self.matches)
        return same and self.sources == list(range(self.model_tiles))

    def summary(self) -> str:
        """The tile map in one line: ``the same tiles``, or each tile's model tile (and why, when
        not by the same properties alone)."""
        tiles = "the same tiles" if self.identity else "tiles " + "; ".join(self.describe())
        return tiles if self.conditions is None else f"{tiles}; {self.conditions.summary()}"

    def describe(self) -> list[str]:
        """Per tile of the new rules, ``new = old`` and, unless they have the same properties and
        no other tile shares the model tile, why."""
        lines = []
        for m in self.matches:
            sharing = [o.tile for o in self.matches if o.source == m.source and o.tile != m.tile]
            notes = {
                "properties": [],
                "given": ["--tile-map"],
                "nearest": [f"a new tile, initialised from {m.source_name!r}: its properties less {m.dropped}"],
            }[m.how]
            if sharing and m.how != "nearest":
                notes.append(f"a new slot, sharing {m.source_name!r}'s weights with {', '.join(map(repr, sharing))}")
            lines.append(f"{m.tile} = {m.source_name}" + (f" ({'; '.join(notes)})" if notes else ""))
        return lines


def parse_tile_map(text: str | None) -> dict[str, str]:
    """``"new=old,new2=old2"`` (the ``--tile-map`` option) as {new: old}; empty for None."""
    pairs: dict[str, str] = {}
    for item in text.split(",") if text else []:
        new, equals, old = (part.strip() for part in item.partition("="))
        if not (equals and new and old) or new in pairs:
            raise TileMapError(f"--tile-map: {item.strip()!r} is not one new=old pair per new tile (e.g. crate=box)")
        pairs[new] = old
    return pairs


def map_tiles(rules: Rules, model_rules: Rules, given: dict[str, str] | None = None) -> TileMap:
    """Map ``rules``' tiles onto those of ``model_rules`` (the rules a model was trained on) by their
    properties, with ``given`` {new: old} pairs first. Raises :class:`TileMapError` for another
    mechanic, a bad pair, or a tile that matches several model tiles equally or none."""
    if rules.mechanic != model_rules.mechanic:
        raise TileMapError(f"the model plays mechanic {model_rules.mechanic!r}, these rules {rules.mechanic!r}")
    given = given or {}
    names = [t.name for t in model_rules.tiles]
    for new, old in given.items():
        if new not in rules.tile_index:
            raise TileMapError(f"--tile-map {new}={old}: the rules have no tile {new!r}")
        if old not in model_rules.tile_index:
            raise TileMapError(f"--tile-map {new}={old}: the model has no tile {old!r} (its tiles: {', '.join(names)})")
    return TileMap(tuple(_match(rules, i, model_rules, given) for i in range(len(rules.tiles))), len(model_rules.tiles))


def _match(rules: Rules, index: int, model_rules: Rules, given: dict[str, str]) -> Match:
    """The model tile that tile ``index`` of ``rules`` starts from (see :func:`map_tiles`)."""
    name, props = rules.tiles[index].name, rules.properties_of(index)
    if name in given:
        return Match(name, model_rules.tile_index[given[name]], given[name], "given")
    model_props = model_rules.tile_properties
    same = [j for j, p in enumerate(model_props) if p == props]
    near = {j: next(iter(props - p)) for j, p in enumerate(model_props) if p < props and len(props - p) == 1}
    candidates, how = (same, "properties") if same else (list(near), "nearest")
    by_name = [j for j in candidates if model_rules.tiles[j].name == name]
    if len(candidates) > 1 and not by_name:
        tiles = " and ".join(repr(model_rules.tiles[j].name) for j in candidates)
        raise TileMapError(
            f"tile {name!r} ({_described(props)}) could take the place of model tile {tiles} alike; "
            f"choose one with --tile-map {name}=TILE"
        )
    if not candidates:
        tiles = ", ".join(f"{t.name} ({_described(p)})" for t, p in zip(model_rules.tiles, model_props, strict=True))
        raise TileMapError(
            f"tile {name!r} ({_described(props)}): the model has no tile with these properties or all but one "
            f"of them (its tiles: {tiles}); choose one with --tile-map {name}=TILE, or train from scratch"
        )
    source = (by_name or candidates)[0]
    return Match(name, source, model_rules.tiles[source].name, how, near[source] if how == "nearest" else "")


def _described(props: frozenset[str]) -> str:
    return "+".join(sorted(props)) or "no properties"


def remap_model(model: ActorCritic, tiles: TileMap, representation: str) -> ActorCritic:
    """A copy of ``model`` for the new rules' tiles: its first convolution's tile planes and its
    context layer's tile counts permuted, copied or dropped by ``tiles``, and so the policy's tile
    actions (every representation's: narrow/nca's tiles then keep, turtle's moves then tiles,
    wide's tile-major cells; carve's actions name no tile). Tiles that share a model tile share its
    probability: each copy's logit is lowered by log(copies)."""
    from relaygen.env.representations import KINDS

    sources, n_model = tiles.sources, tiles.model_tiles
    fitted = copy.deepcopy(model)
    with torch.no_grad():
        _select(fitted.input_layer, 1, _spliced(fitted.input_layer.in_channels, 0, n_model, sources))
        context = fitted.context[0]
        _select(context, 1, _spliced(context.in_features, model.arch["cond_size"] + 2, n_model, sources))
        offset = KINDS[representation].tile_actions
        head = fitted.policy_layer
        rows = head.weight.shape[0]
        if offset is not None:
            _select(head, 0, _spliced(rows, offset, n_model, sources))
            copies = torch.tensor([math.log(sources.count(s)) for s in sources])
            head.bias[offset : offset + len(sources)] -= copies
    _, height, width = model.arch["map_shape"]
    arch = model.arch | {
        "map_shape": (len(sources) + 2, height, width),
        "n_actions": model.arch["n_actions"] // rows * head.weight.shape[0],
    }
    return ActorCritic.with_weights(arch, fitted.state_dict()).train(model.training)


def map_conditions(names: list[str], model_names: list[str], tiles: TileMap) -> CondMap:
    """Match the new rules' ``cond`` entries ``names`` to the model's ``model_names`` by meaning; a
    count constraint's tiles are read through ``tiles`` (tiles without an exact counterpart are new)."""
    exact = {m.tile: m.source_name for m in tiles.matches if m.how != "nearest"}

    def in_model_terms(name: str) -> str:
        kind, _, rest = name.partition(" ")
        if kind != "count":
            return name
        group, end = rest.rsplit(" ", 1)
        translated = [exact.get(t) for t in group.split("+")]
        return name if None in translated else f"count {'+'.join(translated)} {end}"  # type: ignore[arg-type]

    index = {n: i for i, n in enumerate(model_names)}
    wanted = [in_model_terms(n) for n in names]
    sources = tuple(index.get(n) for n in wanted)
    dropped = tuple(n for n in model_names if n not in set(wanted))
    return CondMap(tuple(names), sources, dropped)


def remap_conditions(model: ActorCritic, conditions: CondMap) -> ActorCritic:
    """A copy of ``model`` whose ``cond`` inputs are ``conditions``' entries: the context layer's cond
    columns (and, for a cellwise model, the first convolution's cond channels) taken from the model's
    entries, zero for new ones."""
    size, planes = model.arch["cond_size"], model.arch["map_shape"][0]
    fitted = copy.deepcopy(model)
    with torch.no_grad():
        _take_inputs(fitted.context[0], 0, size, conditions.sources)
        if model.cellwise:
            _take_inputs(fitted.input_layer, planes, size, conditions.sources)
    arch = model.arch | {"cond_size": len(conditions.sources)}
    return ActorCritic.with_weights(arch, fitted.state_dict()).train(model.training)


def remap_critic(model: ActorCritic, critic: CondMap) -> ActorCritic:
    """A copy of ``model`` whose ``critic`` inputs (the value head's, after the features) are
    ``critic``'s entries: the model's weights for an entry it had, zero for a new one (as when a
    sighted model starts a blind run)."""
    size = model.arch.get("critic_size", 0)
    fitted = copy.deepcopy(model)
    layer = fitted.value_input_layer
    with torch.no_grad():
        _take_inputs(layer, layer.weight.shape[1] - size, size, critic.sources)
    arch = model.arch | {"critic_size": len(critic.sources)}
    return ActorCritic.with_weights(arch, fitted.state_dict()).train(model.training)


def _take_inputs(
    layer: torch.nn.Conv2d | torch.nn.Linear, start: int, count: int, sources: tuple[int | None, ...]
) -> None:
    """Replace ``layer``'s ``count`` inputs from ``start`` by one per source: that input's weights, or
    zeros for None."""
    weight = layer.weight
    zero = torch.zeros_like(weight.narrow(1, 0, 1))
    taken = [zero if s is None else weight.narrow(1, start + s, 1) for s in sources]
    parts = [weight.narrow(1, 0, start), *taken, weight.narrow(1, start + count, weight.shape[1] - start - count)]
    layer.weight = torch.nn.Parameter(torch.cat(parts, dim=1))


def _spliced(size: int, start: int, n_model: int, sources: list[int]) -> list[int]:
    """Indices into a dimension of ``size`` whose ``n_model`` tile entries begin at ``start``: the
    entries before and after them kept, the tile entries replaced by ``sources``."""
    return [*range(start), *(start + s for s in sources), *range(start + n_model, size)]


def _select(layer: torch.nn.Conv2d | torch.nn.Linear, dim: int, index: list[int]) -> None:
    """Keep (in this order, copies allowed) the entries ``index`` of ``layer``'s inputs (dim 1) or
    outputs (dim 0, with its bias)."""
    at = torch.tensor(index)
    layer.weight = torch.nn.Parameter(layer.weight.index_select(dim, at))
    if dim == 0:
        layer.bias = torch.nn.Parameter(layer.bias.index_select(0, at))
