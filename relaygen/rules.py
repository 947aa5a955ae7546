"""Rules files: one game described as data (TOML), validated, hashed and looked up by name.

A rules file names the game's tiles and their properties, the mechanic (playtester) that plays it,
count constraints per tile, and the objectives that make a level good, with the difficulty knob.
Everything downstream (environment, training, generation, viewer) reads a :class:`Rules`.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Sequence
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from relaygen.errors import UserError

PROPERTIES = ("solid", "pushable", "player", "goal", "key", "door", "exit", "hazard")
"""Tile properties that mechanics read."""
BORDER_FORBIDDEN = frozenset({"pushable", "player", "goal", "key", "door", "exit"})
"""Properties a border tile may not have: the border repeats its tile all around the grid."""

REPRESENTATIONS = ("narrow", "turtle", "wide", "carve", "nca", "backtrack", "legs")
BOM = "\ufeff"
"""A UTF-8 byte-order mark, which some editors put first in a file; files are read without it."""
MAX_TILES = 255
"""Levels store tiles as uint8 and the environment marks outside cells with one more value."""


class RulesError(UserError):
    """A rules file or name that cannot be used; the message names the file, the field and the reason."""


class _Strict(BaseModel):
    # Attribute docstrings become field descriptions, from which the rules-file reference is written.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Tile(_Strict):
    """One kind of tile: how it is written, drawn, and what the mechanics make of it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The tile's name, as constraints, ``border``, ``start_map`` and tile maps name it."""
    char: str = Field(pattern=r"^[^;?\s]$")
    """One character for text maps (not ``;``, ``?`` or whitespace, which text maps reserve)."""
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    """Colour ``#rrggbb`` of the tile where no sprite draws it."""
    sprite: str | None = None
    """A shipped sprite's name, or a PNG file of your own (a path relative to the rules file)."""
    weight: float = Field(default=1.0, ge=0)
    """Relative frequency of the tile in a random starting map."""
    solid: bool = False
    """Blocks movement (a wall)."""
    pushable: bool = False
    """Moves when the player walks into it (a box)."""
    player: bool = False
    """Where the player starts."""
    goal: bool = False
    """A cell a pushable tile must end on."""
    key: bool = False
    """Picked up on the way; it opens the door."""
    door: bool = False
    """Passable only with the key, and reaching it wins (mechanic keys)."""
    exit: bool = False
    """Where the player must arrive."""
    hazard: bool = False
    """Stepping on it loses (an enemy, lava)."""

    @property
    def rgb(self) -> tuple[int, int, int]:
        """The colour as an (r, g, b) triple."""
        return (int(self.color[1:3], 16), int(self.color[3:5], 16), int(self.color[5:7], 16))


class Constraint(_Strict):
    """How many of some tiles a level may hold: a range, or as many as some other tiles."""

    tiles: list[str] = Field(min_length=1)
    """The tiles whose cells are counted together."""
    min: int = Field(default=0, ge=0, strict=True)
    """The least count allowed."""
    max: int | None = Field(default=None, ge=0, strict=True)
    """The greatest count allowed; none for no limit."""
    equal_to: list[str] | None = None
    """Other tiles whose count this count must equal (e.g. boxes and goals)."""
    weight: float = Field(default=1.0, ge=0)
    """Weight of this constraint's term in the quality score."""

    @model_validator(mode="after")
    def _ordered(self) -> Constraint:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    def describe(self) -> str:
        """A short human-readable form, e.g. ``player in [1, 1]``."""
        left = "+".join(self.tiles)
        if self.equal_to:
            return f"{left} == {'+'.join(self.equal_to)}"
        return f"{left} in [{self.min}, {'inf' if self.max is None else self.max}]"


def _check_range(value: tuple[float, float] | None, finite_hi: bool) -> tuple[float, float] | None:
    """A ``[lo, hi]`` range: numbers (no NaN), lo finite, hi not below lo, hi finite unless allowed."""
    if value is None:
        return None
    lo, hi = value
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{list(value)} is not a range of numbers (nan)")
    if not math.isfinite(lo) or (finite_hi and not math.isfinite(hi)):
        bound = "both ends" if finite_hi else "lo"
        raise ValueError(f"{list(value)}: {bound} must be finite")
    if hi < lo:
        raise ValueError(f"{list(value)} has hi below lo")
    return value


class Objective(_Strict):
    """A quality term: a metric, its target range [lo, hi] and its weight in the score."""

    metric: str
    """A metric of the rules' mechanic (see the table of mechanics)."""
    target: tuple[float, float] | None = None
    """The range ``[lo, hi]`` the metric should lie in (``inf`` allowed for hi)."""
    weight: float = Field(default=1.0, gt=0)
    """Weight of this objective's term in the quality score."""
    scale: float | None = Field(default=None, gt=0)
    """Distance from the target at which the term's score reaches 0 (default: max(1, lo))."""
    required: bool = False
    """A level whose metric lies outside the target is unplayable, as if it broke a constraint."""
    easy: tuple[float, float] | None = None
    """With ``hard``, instead of ``target``: the difficulty knob moves this objective's range too."""
    hard: tuple[float, float] | None = None
    """With ``easy``: this objective's range at difficulty 1."""

    @field_validator("target")
    @classmethod
    def _ordered(cls, target: tuple[float, float] | None) -> tuple[float, float] | None:
        return _check_range(target, finite_hi=False)

    @field_validator("easy", "hard")
    @classmethod
    def _finite(cls, target: tuple[float, float] | None) -> tuple[float, float] | None:
        return _check_range(target, finite_hi=True)

    @model_validator(mode="after")
    def _one_kind_of_target(self) -> Objective:
        if (self.easy is None) != (self.hard is None):
            raise ValueError("easy and hard go together")
        if self.easy is not None and self.target is not None:
            raise ValueError("give either target or easy and hard, not both")
        return self


class Difficulty(_Strict):
    """Which objective the difficulty knob (0..1) moves, and its target at the two ends."""

    metric: str
    """The objective's metric that the knob moves (its rank correlation with difficulty is measured)."""
    easy: tuple[float, float]
    """The metric's target range at difficulty 0."""
    hard: tuple[float, float]
    """The metric's target range at difficulty 1."""
    curve: Literal["linear", "saturating"] = "linear"
    """``saturating`` maps d to 2·(1 − 1/(d+1)): fast growth for small d, as in Relay's turn target."""

    @field_validator("easy", "hard")
    @classmethod
    def _ordered(cls, target: tuple[float, float]) -> tuple[float, float] | None:
        """The knob interpolates between easy and hard, so both ends of each must be finite."""
        return _check_range(target, finite_hi=True)

    def ramp(self, easy: tuple[float, float], hard: tuple[float, float], difficulty: np.ndarray) -> np.ndarray:
        """The range from ``easy`` to ``hard`` at each of ``difficulty`` ``(m,)`` on this knob's curve, ``(m, 2)``."""
        d = np.asarray(difficulty, dtype=np.float64)[:, None]
        t = d if self.curve == "linear" else 2.0 * (1.0 - 1.0 / (d + 1.0))
        return np.asarray(easy, dtype=np.float64) + t * (np.asarray(hard, dtype=np.float64) - easy)


class Rules(_Strict):
    """A validated game description. Build with :func:`load_rules`."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
    """Names files (``NAME-0000.json``), so it is a file name that is not hidden: no leading dot."""
    description: str = ""
    """One line saying what the game is."""
    mechanic: str
    """The name of a registered mechanic (:data:`relaygen.mechanics.MECHANICS`) that plays the game."""
    width: int = Field(ge=3, le=64, strict=True)
    """Columns of the grid, border included."""
    height: int = Field(ge=3, le=64, strict=True)
    """Rows of the grid, border included."""
    border: str | None = None
    """Tile that fills the fixed outer ring of the grid, or none for a fully editable grid."""
    start_map: str = "random"
    """``random`` (tiles drawn by weight) or the name of a tile that fills the starting map."""
    representations: list[Literal["narrow", "turtle", "wide", "carve", "nca", "backtrack", "legs"]] = Field(
        default=["narrow", "turtle", "wide"], min_length=1
    )
    """How an agent may edit a level; the first is the default for training."""
    tiles: list[Tile] = Field(min_length=2, max_length=MAX_TILES)
    """The game's tiles (``[[tiles]]``)."""
    constraints: list[Constraint] = []
    """Count constraints (``[[constraints]]``): a level that breaks one is not playable."""
    objectives: list[Objective] = Field(min_length=1)
    """What makes a level good (``[[objectives]]``); the quality score is their weighted mean."""
    difficulty: Difficulty | None = None
    """The difficulty knob (``[difficulty]``); none for rules without one."""
    playable_bonus: float = Field(default=1.0, ge=0)
    """Reward bonus when an edit makes the level playable (and penalty when it breaks it)."""
    script: str | None = None
    """The PuzzleScript file of the game (a path relative to the rules file), for the mechanic that
    plays PuzzleScript games; its tiles are the game's legend glyphs."""

    _folder: str | None = PrivateAttr(default=None)
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("mechanic")
    @classmethod
    def _registered(cls, name: str) -> str:
        from relaygen.mechanics import MECHANICS

        if name not in MECHANICS:
            raise ValueError(f"unknown mechanic {name!r} (known: {', '.join(MECHANICS)})")
        return name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rules) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    @model_validator(mode="after")
    def _consistent(self) -> Rules:
        names = [t.name for t in self.tiles]
        chars = [t.char for t in self.tiles]
        for label, values in (("tile name", names), ("tile char", chars)):
            dup = {v for v in values if values.count(v) > 1}
            if dup:
                raise ValueError(f"duplicate {label} {sorted(dup)}")
        known = set(names)
        for label, tile in (
            ("border", self.border),
            ("start_map", None if self.start_map == "random" else self.start_map),
        ):
            if tile is not None and tile not in known:
                raise ValueError(
                    f"{label}: unknown tile {tile!r} (tiles are {names}{' or random' * (label == 'start_map')})"
                )
        if self.border is not None:
            ring = sorted(BORDER_FORBIDDEN & self.tile_properties[self.tile_index[self.border]])
            if ring:
                raise ValueError(f"border: tile {self.border!r} fills the whole outer ring, so it cannot be {ring[0]}")
        if self.start_map == "random" and not any(t.weight > 0 for t in self.tiles):
            raise ValueError("tiles: every weight is 0, so a random start_map cannot draw a tile")
        for i, c in enumerate(self.constraints):
            for t in c.tiles + (c.equal_to or []):
                if t not in known:
                    raise ValueError(f"constraints[{i}]: unknown tile {t!r} (tiles are {names})")
        metrics = [o.metric for o in self.objectives]
        if len(set(metrics)) != len(metrics):
            raise ValueError(f"objectives: a metric appears twice in {metrics}")
        if self.difficulty is not None and self.difficulty.metric not in metrics:
            raise ValueError(f"difficulty: metric {self.difficulty.metric!r} is not an objective {metrics}")
        for i, o in enumerate(self.objectives):
            knob = self.difficulty is not None and self.difficulty.metric == o.metric
            if o.easy is not None and (self.difficulty is None or knob):
                raise ValueError(
                    f"objectives[{i}]: easy and hard need a [difficulty] block naming another metric"
                    if not knob
                    else f"objectives[{i}]: {o.metric!r} is the difficulty metric: its easy and hard are [difficulty]'s"
                )
            if o.target is None and o.easy is None and not knob:
                raise ValueError(
                    f"objectives[{i}]: {o.metric!r} needs a target, easy and hard, or to be the difficulty metric"
                )
        self._check_capacity()
        return self

    def _check_capacity(self) -> None:
        """Reject constraints that no grid of this size can meet."""
        cells = self.editable_cells
        total_min = 0
        for i, c in enumerate(self.constraints):
            if c.min > cells:
                raise ValueError(
                    f"constraints[{i}]: {c.describe()} needs {c.min} tiles but the "
                    f"{self.width}x{self.height} grid has only {cells} editable cells"
                )
            total_min += c.min
        if total_min > cells:
            raise ValueError(
                f"constraints: together they need at least {total_min} tiles but the "
                f"{self.width}x{self.height} grid has only {cells} editable cells"
            )

    # ----- derived views -------------------------------------------------------------------------

    @property
    def editable_cells(self) -> int:
        """Number of cells an editor may change (the grid minus a fixed border)."""
        if self.border is None:
            return self.width * self.height
        return (self.width - 2) * (self.height - 2)

    @cached_property
    def tile_index(self) -> dict[str, int]:
        """Tile name to its index in :attr:`tiles` (the value stored in a level's grid)."""
        return {t.name: i for i, t in enumerate(self.tiles)}

    @cached_property
    def char_index(self) -> dict[str, int]:
        """Text-map character to tile index."""
        return {t.char: i for i, t in enumerate(self.tiles)}

    def properties_of(self, tile: int) -> frozenset[str]:
        """The set properties of tile index ``tile``."""
        return self.tile_properties[tile]

    @cached_property
    def tile_properties(self) -> tuple[frozenset[str], ...]:
        """Each tile's set properties, by tile index."""
        return tuple(frozenset(p for p in PROPERTIES if getattr(t, p)) for t in self.tiles)

    @cached_property
    def by_properties(self) -> dict[frozenset[str], int]:
        """First tile index for each distinct set of properties."""
        table: dict[frozenset[str], int] = {}
        for i, props in enumerate(self.tile_properties):
            table.setdefault(props, i)
        return table

    def with_property(self, prop: str) -> np.ndarray:
        """Boolean table over tile indices: which tiles have ``prop`` (index it with a grid)."""
        if prop not in PROPERTIES:
            raise KeyError(f"unknown tile property {prop!r}; known: {PROPERTIES}")
        return self._property_tables[prop]

    @cached_property
    def _property_tables(self) -> dict[str, np.ndarray]:
        tables = {p: np.array([getattr(t, p) for t in self.tiles], dtype=bool) for p in PROPERTIES}
        for table in tables.values():
            table.flags.writeable = False
        return tables

    def tile_of(self, **props: bool) -> int:
        """Index of the first tile whose properties equal ``props`` and no other property set."""
        for i, tile in enumerate(self.tiles):
            if all(getattr(tile, p) == props.get(p, False) for p in PROPERTIES):
                return i
        raise KeyError(f"rules {self.name!r} have no tile with exactly {props}")

    def targets(self, difficulty: float) -> dict[str, tuple[float, float]]:
        """Each objective's target range at ``difficulty`` in [0, 1]."""
        if not 0.0 <= difficulty <= 1.0:
            raise ValueError(f"difficulty must be in [0, 1], got {difficulty}")
        return dict(_targets(self, float(difficulty)))

    def knob_ends(self, objective: Objective) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """(easy, hard) target ranges of an objective the difficulty knob moves (the knob's own metric,
        or one with ``easy`` and ``hard``); None for one with a fixed target."""
        knob = self.difficulty
        if knob is None:
            return None
        if objective.metric == knob.metric:
            return knob.easy, knob.hard
        return None if objective.easy is None or objective.hard is None else (objective.easy, objective.hard)

    @property
    def knob_objectives(self) -> list[Objective]:
        """The objectives the difficulty knob moves."""
        return [o for o in self.objectives if self.knob_ends(o) is not None]

    def target_ranges(self, difficulty: np.ndarray) -> np.ndarray:
        """Each objective's target range at each of ``difficulty`` ``(m,)``: ``(m, n_objectives, 2)``."""
        d = np.asarray(difficulty, dtype=np.float64)
        out = np.empty((len(d), len(self.objectives), 2))
        for j, o in enumerate(self.objectives):
            ends = self.knob_ends(o)
            out[:, j] = o.target if ends is None or self.difficulty is None else self.difficulty.ramp(*ends, d)
        return out

    @cached_property
    def digest(self) -> str:
        """A short hash of the rules' content; a level records it to say which rules made it.

        Fields at their default value do not enter it (as in :meth:`to_toml`), so a field added to
        the schema later leaves every existing digest as it was. The content of the files the game is
        made of (:meth:`sources`, e.g. a script) enters it too."""
        blob = json.dumps(self.model_dump(exclude_defaults=True), sort_keys=True, separators=(",", ":"))
        for text in self.sources().values():
            blob += text
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def sources(self) -> dict[str, str]:
        """The text of each file besides the rules file that the game is made of (a script), by the name
        the rules give it; level files carry them, so that a level can be played where its files are not."""
        from relaygen.mechanics import get_mechanic

        return {name: self.source(name) for name in get_mechanic(self.mechanic).source_names(self)}

    def source(self, name: str) -> str:
        """The text of the file ``name`` (relative to the rules file, or to the shipped rulesets), read
        once; :class:`RulesError` if it cannot be read."""
        if name not in self._sources:
            path = (self.folder or Path(str(resources.files("relaygen") / "rulesets"))) / name
            try:
                self._sources[name] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise RulesError(f"{path}: cannot read: {exc}") from None
        return self._sources[name]

    @property
    def folder(self) -> Path | None:
        """The folder of the rules file these rules were read from (sprite files are found relative to
        it); None for built-ins and rules read from text."""
        return None if self._folder is None else Path(self._folder)

    def resized(self, width: int, height: int) -> Rules:
        """These rules for a grid of another size, validated again (the constraints must still fit)."""
        return self._changed({"width": width, "height": height}, f"at size {width}x{height}")

    def with_counts(self, bounds: Sequence[tuple[int, int | None]]) -> Rules:
        """These rules with each count constraint's (min, max) replaced by ``bounds`` (one pair per
        constraint, in order; an ``equal_to`` constraint keeps comparing its counts), validated again."""
        if len(bounds) != len(self.constraints):
            raise RulesError(
                f"rules {self.name!r} have {len(self.constraints)} count constraints, got {len(bounds)} ranges"
            )
        constraints = [
            c.model_dump() | {"min": lo, "max": hi} for c, (lo, hi) in zip(self.constraints, bounds, strict=True)
        ]
        return self._changed({"constraints": constraints}, f"with counts {list(bounds)}")

    def _changed(self, fields: dict, what: str) -> Rules:
        """These rules with ``fields`` replaced, validated again; :class:`RulesError` says ``what`` failed."""
        try:
            rules = Rules.model_validate(self.model_dump() | fields)
        except ValidationError as exc:
            reasons = "; ".join(_describe(e) for e in exc.errors())
            raise RulesError(f"rules {self.name!r} {what}: {reasons}") from None
        rules._folder, rules._sources = self._folder, dict(self._sources)
        return rules

    def to_toml(self) -> str:
        """The rules as TOML text that :func:`load_rules` reads back to equal rules."""
        return self._toml

    @cached_property
    def _toml(self) -> str:
        return _dump_toml(self.model_dump(exclude_defaults=True))


# ----- loading ------------------------------------------------------------------------------------


def size_from_text(text: str) -> tuple[int, int]:
    """``"WxH"`` (e.g. ``"12x10"``) as (width, height); :class:`RulesError` if it is not one."""
    width, x, height = text.strip().lower().partition("x")
    if not (x and width.isdigit() and height.isdigit()):
        raise RulesError(f"size must be WIDTHxHEIGHT, e.g. 12x10, got {text!r}")
    return int(width), int(height)


def builtin_names() -> list[str]:
    """Names of the rulesets shipped inside the package."""
    folder = resources.files("relaygen") / "rulesets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


@lru_cache(maxsize=4096)
def _targets(rules: Rules, difficulty: float) -> tuple[tuple[str, tuple[float, float]], ...]:
    """:meth:`Rules.targets`, kept per rules and difficulty (an episode, a deepening and a report ask for
    the same difficulty many times)."""
    ranges = rules.target_ranges(np.array([difficulty]))[0]
    return tuple((o.metric, (float(lo), float(hi))) for o, (lo, hi) in zip(rules.objectives, ranges, strict=True))


def load_rules(source: str | Path | Rules) -> Rules:
    """Rules from a built-in name, a TOML file path, a PuzzleScript game (``.txt``, read as the rules
    it implies), or a :class:`Rules` (returned as is).

    Raises :class:`RulesError` naming the file, the field and the reason.
    """
    if isinstance(source, Rules):
        return source
    text_source = str(source)
    if text_source in builtin_names():
        text = (resources.files("relaygen") / "rulesets" / f"{text_source}.toml").read_text()
        return parse_rules(text, f"<builtin {text_source}>")
    path = Path(source)
    if not path.exists():
        raise RulesError(
            f"{path}: no such rules file, and not a built-in ruleset (built-ins: {', '.join(builtin_names())})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read: {exc}") from exc
    if path.suffix.lower() == ".txt":
        from relaygen.mechanics.script import is_script, rules_from_script

        if is_script(text):
            return rules_from_script(path)
    return parse_rules(text, str(path), path.parent)


def parse_rules(
    text: str, origin: str = "<string>", folder: Path | None = None, sources: dict[str, str] | None = None
) -> Rules:
    """Rules from TOML text; ``origin`` names the source in error messages, ``folder`` is where files
    the rules name (sprites, a script) are found, ``sources`` holds the text of such files already read
    (as a level file carries them)."""
    try:
        data = tomllib.loads(text.removeprefix(BOM))
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{origin}: TOML syntax error: {exc}") from exc
    except RecursionError:
        raise RulesError(f"{origin}: TOML nested too deeply to read") from None
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesError(f"{origin}: " + "; ".join(_describe(e) for e in exc.errors())) from exc
    rules._folder = None if folder is None else str(folder.resolve())
    rules._sources = dict(sources or {})
    _check_mechanic(rules, origin)
    return rules


def _describe(error: dict) -> str:
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    msg = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        msg = "unknown field"
    return f"{loc or 'file'}: {msg}" if loc else msg


def _check_mechanic(rules: Rules, origin: str) -> None:
    """Check what the mechanic needs: tiles with its properties, and objectives over its metrics."""
    from relaygen.mechanics import SETTINGS, get_mechanic, owner_of

    mechanic = get_mechanic(rules.mechanic)
    for setting, owner in SETTINGS.items():
        if getattr(rules, setting) is not None and owner != rules.mechanic:
            raise RulesError(f"{origin}: {setting}: only mechanic {owner!r} reads it, not {rules.mechanic!r}")
    for prop in mechanic.required_properties:
        if not rules.with_property(prop).any():
            raise RulesError(f"{origin}: tiles: mechanic {rules.mechanic!r} needs a tile with {prop} = true")
    known = set(mechanic.metric_names(rules))
    for i, o in enumerate(rules.objectives):
        if o.metric not in known:
            raise RulesError(
                f"{origin}: objectives[{i}].metric: {o.metric!r} is not a metric of mechanic "
                f"{rules.mechanic!r} (known: {', '.join(sorted(known))})"
            )
    for prop in mechanic.required_properties:
        allowed = [t for t in rules.with_property(prop).nonzero()[0] if not _forbidden(rules, int(t))]
        if not allowed:
            raise RulesError(
                f"{origin}: constraints: the rules cannot be met: mechanic {rules.mechanic!r} needs a {prop} tile, "
                f"but constraints with max 0 forbid every tile with {prop} = true"
            )
    for r in rules.representations:
        owner = owner_of(r)
        if owner is not None and owner != rules.mechanic:
            raise RulesError(
                f"{origin}: representations: {r!r} builds levels of mechanic {owner!r} only; it needs mechanic "
                f"{owner!r}, not {rules.mechanic!r}"
            )
    for problem in mechanic.check_rules(rules):
        raise RulesError(f"{origin}: {problem}")


def _forbidden(rules: Rules, tile: int) -> bool:
    """Whether a constraint with max 0 counts ``tile``, so that no level may hold it."""
    name = rules.tiles[tile].name
    return any(c.max == 0 and name in c.tiles for c in rules.constraints)


def _dump_toml(data: dict) -> str:
    """Minimal TOML writer for the rules' shape: scalars, lists, tables and arrays of tables."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict | list) or _is_plain_list(v)}
    lines = [f"{k} = {_toml_value(v)}" for k, v in scalars.items()]
    for key, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and not _is_plain_list(value):
            for item in value:
                lines += ["", f"[[{key}]]"] + [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _is_plain_list(value: object) -> bool:
    return isinstance(value, list) and not any(isinstance(v, dict) for v in value)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
