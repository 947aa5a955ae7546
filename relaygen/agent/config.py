"""The training configuration: one dataclass, each field documented, read from and written to TOML."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from relaygen.errors import UserError


class ConfigError(UserError):
    """A configuration file or value that cannot be used; the message names the field."""


DEFAULT_CHANGE_LIMIT = 0.5
"""The least share of the editable cells a training episode may change when the config leaves
``change_limit`` unset (room to fix counts and connect); a representation whose own limit is higher
(carve, backtrack, nca: 1.0) keeps its own (see :func:`training_change_limit`)."""
DEFAULT_WIDTHS = {"channels": 32, "hidden": 128}
"""Model widths of a run that neither sets them nor starts from a model."""


def training_change_limit(representation: str) -> float:
    """The change limit a run of ``representation`` trains with when its config sets none: the
    representation's own (its class holds it), but never below :data:`DEFAULT_CHANGE_LIMIT`."""
    from relaygen.env.representations import KINDS

    return max(DEFAULT_CHANGE_LIMIT, KINDS[representation].change_limit)


@dataclass
class TrainConfig:
    """Everything that shapes an A3C training run. The defaults train on a 2-core machine."""

    rules: str = "maze"
    """Built-in ruleset name or path of a rules TOML file."""
    representation: str | None = None
    """How the agent edits the level (narrow, turtle, wide, carve, nca, backtrack); default: the rules' first."""
    seed: int = 1
    """Seed of the run; worker i seeds itself with seed + i."""
    workers: int = 2
    """Worker processes (or Ray actors), each with its own environments and model copy."""
    envs_per_worker: int = 8
    """Environments each worker steps together, so that its forward pass is batched."""
    total_steps: int = 3_000_000
    """Environment steps (summed over all environments) after which training stops."""
    t_max: int = 5
    """Steps each environment takes between two updates (the n of the n-step return)."""
    max_minutes: float | None = None
    """Wall-clock budget: stop (with a checkpoint) after this many minutes; None for no limit."""
    learning_rate: float = 1e-3
    """Initial learning rate of the shared optimizer."""
    anneal_lr: bool = True
    """Anneal the learning rate linearly to 0 over total_steps."""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    """Shared optimizer, its statistics in shared memory: adam or rmsprop."""
    gamma: float = 0.99
    """Discount factor γ."""
    gae_lambda: float = 0.95
    """λ of generalized advantage estimation; 1.0 gives the plain n-step advantage."""
    ent_coef: float = 0.01
    """Entropy bonus coefficient β."""
    vf_coef: float = 0.5
    """Weight of the squared value error in the loss."""
    max_grad_norm: float = 0.5
    """Gradient-norm clipping threshold."""
    channels: int | None = None
    """Width of the convolutional trunk; None: the init_from model's, else 32."""
    hidden: int | None = None
    """Width of the fully connected layers; None: the init_from model's, else 128."""
    init_from: str | None = None
    """Model file whose weights start the run (fine-tuning); its tiles must map, its representation and shapes fit."""
    tile_map: str | None = None
    """With init_from: "new=old,..." pairs of tiles mapped by hand; the others are mapped by their properties."""
    difficulty: float | None = None
    """Fixed difficulty in [0, 1] for every episode; None samples it per episode."""
    change_limit: float | None = None
    """Share of the editable cells an episode may change; None: 0.5 (room to fix counts and connect), or the representation's own limit where higher (carve, backtrack, nca 1.0)."""
    episode_steps: int | None = None
    """Steps after which an episode is cut short; None: the representation's default (three times the editable cells, nca 16)."""
    crop_size: int | None = None
    """Side of the egocentric crop (odd); None: the environment's default (the whole map in view)."""
    solver_budget: int | None = None
    """States the playtester may expand per level in the reward and in drafting (a level it gives up on is unplayable); None: 2,000."""
    search_at_end: bool = False
    """Search each episode's last level only, its other steps scored without a search (one search per episode, not per edit: for games whose search is costly)."""
    blind: bool = False
    """Hide from the policy the metrics only a search measures, and end episodes only when their edits run out: the reward may search every edit (dense credit), yet the model drafts with one search per episode (generation then searches only each draft's last level)."""
    privileged_critic: bool = False
    """With ``blind``: the value head (never the policy) also sees the metrics hidden from the policy, an asymmetric actor-critic; measured on boxoban it cut the value error 3.5-fold but learned the difficulty knob more slowly (see the training guide)."""
    observe_budget: bool = False
    """Show the policy the share of its episode's edits left (in ``cond``), so it can finish in time."""
    sizes: str | None = None
    """Map sizes "WxH,..." to train on, one batch of environments per size stepped in turn; None: the rules' size."""
    observe_metrics: bool = False
    """Show the policy each count and objective value against its target range (in ``cond``)."""
    vary_counts: bool = False
    """Draw each episode's count ranges inside the rules' (e.g. exactly 2 of 1-3 boxes); with observe_metrics one model serves them all."""
    checkpoint_minutes: float = 3.0
    """Minutes between two periodic checkpoints."""
    log_seconds: float = 5.0
    """Seconds between two writes of TensorBoard scalars."""
    runs_dir: str = "runs"
    """Folder under which each run gets its own folder."""
    backend: Literal["local", "ray"] = "local"
    """local: worker processes on this machine; ray: Ray actors on a cluster."""
    ray_address: str | None = None
    """Address of a running Ray cluster (None starts a local one)."""
    progress: bool = True
    """Show a progress bar in the terminal."""

    def __post_init__(self) -> None:
        self.validate()

    @property
    def batch_steps(self) -> int:
        """Environment steps in one worker update."""
        return self.envs_per_worker * self.t_max

    def env_options(self) -> dict[str, Any]:
        """Keyword arguments of the environment that this config sets."""
        options = {
            "difficulty": self.difficulty,
            "change_limit": self.change_limit,
            "crop_size": self.crop_size,
            "max_steps": self.episode_steps,
            "solver_budget": self.solver_budget,
        }
        return {k: v for k, v in options.items() if v is not None} | {
            "observe_budget": self.observe_budget,
            "observe_metrics": self.observe_metrics,
            "vary_counts": self.vary_counts,
            "search_at_end": self.search_at_end,
            "blind": self.blind,
            "privileged_critic": self.privileged_critic,
        }

    def map_sizes(self) -> list[tuple[int, int]] | None:
        """``sizes`` as (width, height) pairs, or None for the rules' size."""
        if self.sizes is None:
            return None
        from relaygen.rules import RulesError, size_from_text

        try:
            return [size_from_text(text) for text in self.sizes.split(",")]
        except RulesError as exc:
            raise ConfigError(f"sizes: {exc} (sizes are comma-separated, e.g. 9x6,13x9)") from None

    def lr_at(self, step: int) -> float:
        """The learning rate after ``step`` environment steps."""
        if not self.anneal_lr:
            return self.learning_rate
        return self.learning_rate * max(0.0, 1.0 - step / self.total_steps)

    def validate(self) -> None:
        """Raise :class:`ConfigError` for a value no run can use."""
        positive = ("workers", "envs_per_worker", "total_steps", "t_max", "learning_rate", "channels", "hidden")
        positive += ("episode_steps", "max_minutes", "solver_budget")
        for name in positive:
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"{name} must be positive, got {value}")
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("ent_coef", "vf_coef", "max_grad_norm", "checkpoint_minutes", "log_seconds"):
            if not (getattr(self, name) >= 0 and math.isfinite(getattr(self, name))):
                raise ConfigError(f"{name} must be a finite number >= 0, got {getattr(self, name)}")
        if self.seed < 0:
            raise ConfigError(f"seed must be 0 or more, got {self.seed}")
        if self.difficulty is not None and not 0.0 <= self.difficulty <= 1.0:
            raise ConfigError(f"difficulty must be in [0, 1], got {self.difficulty}")
        if self.tile_map is not None and self.init_from is None:
            raise ConfigError("tile_map maps the rules' tiles onto init_from's model; give init_from too")
        self.map_sizes()  # a malformed sizes list raises here
        if self.optimizer not in ("adam", "rmsprop"):
            raise ConfigError(f"optimizer must be adam or rmsprop, got {self.optimizer!r}")
        if self.backend not in ("local", "ray"):
            raise ConfigError(f"backend must be local or ray, got {self.backend!r}")
        if self.ray_address is not None and self.backend != "ray":
            raise ConfigError(f"ray_address {self.ray_address!r} is a Ray cluster's; it needs backend ray")

    # ----- TOML ---------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (None values included)."""
        return dataclasses.asdict(self)

    def to_toml(self) -> str:
        """TOML text, one commented line per field; fields that are None are left out."""
        docs = field_docs()
        lines = []
        for name, value in self.to_dict().items():
            lines.append(f"# {docs.get(name, '')}")
            lines.append(f"{name} = {_toml_value(value)}" if value is not None else f"# {name} = (unset)")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<dict>") -> TrainConfig:
        """A config from a dict; unknown keys and bad values raise :class:`ConfigError` naming ``origin``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{origin}: unknown field(s) {unknown}; known: {sorted(known)}")
        hints = {f.name: f.type for f in fields(cls)}
        for key, value in data.items():
            if value is not None and not _type_ok(value, hints[key]):
                raise ConfigError(f"{origin}: {key} = {value!r} does not have type {hints[key]}")
        try:
            return cls(**data)
        except ConfigError as exc:
            raise ConfigError(f"{origin}: {exc}") from None

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> TrainConfig:
        """A config from a TOML file, with ``overrides`` (not None) taking precedence."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: TOML syntax error: {exc}") from exc
        except RecursionError:
            raise ConfigError(f"{path}: TOML nested too deeply to read") from None
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(data, str(path))

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (values that are None are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def field_docs() -> dict[str, str]:
    """Each field's one-line docstring, read from the class source (CleanRL style)."""
    tree = ast.parse(inspect.getsource(TrainConfig))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            docs[node.target.id] = str(after.value.value).strip()  # type: ignore[union-attr]
    return docs


_TYPES = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def _type_ok(value: Any, hint: str) -> bool:
    """Whether ``value`` fits a field annotation written as a string (``from __future__``)."""
    if hint.startswith("Literal"):
        return isinstance(value, str)
    base = hint.split("|")[0].strip()
    if isinstance(value, bool) and base != "bool":
        return False
    return isinstance(value, _TYPES[base])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
