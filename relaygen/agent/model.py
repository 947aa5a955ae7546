"""The actor-critic network and its file format.

One trunk of convolutions over the observation's tile planes, joined by a small MLP over the
conditioning vector, the cursor position and the log-counts of each plane (how many of each tile
the view holds: what count constraints read, and hard for convolutions to add up), and two
heads: a policy (logits over the representation's actions) and a value V(s). An observation's
``critic`` entry (a blind environment's hidden measures, with ``privileged_critic``) joins the value
head's input and nothing else: the policy drafts without them, the critic judges with them.

- Crop observations (narrow, turtle, carve, backtrack): one narrow convolution at full size, then strided
  ones until the window is at most 8×8, which is flattened, so any crop size works; the heads are
  fully connected.
- Whole-map observations with spatial actions (wide, action = tile·H·W + cell): the trunk keeps
  the map's size (dilated convolutions widen the view) and a 1×1 convolution gives each cell its
  tile logits, so any grid size works; the value reads the pooled features.
- Cellwise actions (nca, one choice per cell): the same trunk over the tile planes plus one
  constant plane per conditioning value (every cell sees the targets from the first layer), and
  the logits stay one row per cell, (B, H, W, A); frozen and outside cells can only keep their
  tile (the last action).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from relaygen.agent.checkpoint import read_payload, write_payload
from relaygen.errors import UserError

Obs = dict[str, torch.Tensor]
OBS_KEYS = ("map", "position", "cond", "critic")
KEEP_BIAS = 2.0
"""Initial logit bias of a cellwise policy's keep action: early policies edit a few cells per step."""


class ModelError(UserError):
    """A model file that cannot be used; the message starts with its path."""


class ActorCritic(nn.Module):
    """Policy and value over a Dict observation: ``map`` (C, h, w), ``position`` (2,), ``cond`` (K,),
    and ``critic`` (``critic_size``,) for the value head alone when ``critic_size`` > 0."""

    def __init__(
        self,
        map_shape: tuple[int, int, int],
        cond_size: int,
        n_actions: int,
        spatial: bool = False,
        channels: int = 32,
        hidden: int = 128,
        cellwise: bool = False,
        critic_size: int = 0,
        *,
        initialise: bool = True,
    ) -> None:
        super().__init__()
        planes, height, width = map_shape
        self.arch = {
            "map_shape": list(map_shape),
            "cond_size": cond_size,
            "n_actions": n_actions,
            "spatial": spatial,
            "channels": channels,
            "hidden": hidden,
            "cellwise": cellwise,
            "critic_size": critic_size,
        }
        self.spatial = spatial = spatial or cellwise
        self.cellwise = cellwise
        self.context = nn.Sequential(nn.Linear(cond_size + 2 + planes, hidden), nn.ReLU())
        if spatial:
            if not cellwise and n_actions % (height * width):
                raise ValueError(f"spatial actions {n_actions} are not a multiple of the map's {height}x{width} cells")
            inputs = planes + cond_size if cellwise else planes
            layers: list[nn.Module] = [_conv(inputs, channels)]
            layers += [_conv(channels, channels, dilation=d) for d in (1, 2, 4)]
            self.trunk = nn.Sequential(*layers)
            self.film = nn.Linear(hidden, channels)
            per_cell = n_actions if cellwise else n_actions // (height * width)
            self.policy_head = nn.Sequential(_conv(channels, channels), nn.Conv2d(channels, per_cell, 1))
            self.value_head = nn.Sequential(
                nn.Linear(2 * channels + critic_size, hidden), nn.ReLU(), nn.Linear(hidden, 1)
            )
        else:
            strides = max(0, math.ceil(math.log2(max(height, width) / 8)))
            widths = [planes, channels // 2] + [channels] * strides
            layers = [_conv(a, b, stride=1 if i == 0 else 2) for i, (a, b) in enumerate(itertools.pairwise(widths))]
            self.trunk = nn.Sequential(*layers, nn.Flatten())
            with torch.no_grad():
                flat = self.trunk(torch.zeros(1, *map_shape)).shape[1]
            self.body = nn.Sequential(nn.Linear(flat + hidden, hidden), nn.ReLU())
            self.policy_head = nn.Linear(hidden, n_actions)
            self.value_head = nn.Linear(hidden + critic_size, 1)
        self.critic_size = critic_size
        if initialise:
            self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.orthogonal_(module.weight, math.sqrt(2))
                nn.init.zeros_(module.bias)
        last_value = self.value_head[-1] if self.spatial else self.value_head
        nn.init.orthogonal_(self.policy_layer.weight, 0.01)
        nn.init.orthogonal_(last_value.weight, 1.0)
        if self.cellwise:
            nn.init.constant_(self.policy_layer.bias[-1:], KEEP_BIAS)

    @property
    def input_layer(self) -> nn.Conv2d:
        """The first convolution: one input channel per map plane (then per condition, if cellwise)."""
        return self.trunk[0][0]

    @property
    def value_input_layer(self) -> nn.Linear:
        """The value head's first layer: its inputs are the pooled (or joint) features, then ``critic``."""
        return self.value_head[0] if self.spatial else self.value_head

    @property
    def policy_layer(self) -> nn.Conv2d | nn.Linear:
        """The policy's last layer: one output row per action (per cell's action, if spatial)."""
        return self.policy_head[-1] if self.spatial else self.policy_head

    @classmethod
    def with_weights(cls, arch: dict[str, Any], state: dict[str, torch.Tensor]) -> ActorCritic:
        """A model of ``arch`` holding the weights ``state`` (built without first drawing the initial
        weights it would overwrite: their orthogonal draws take seconds for a large model)."""
        model = cls(**{**arch, "map_shape": tuple(arch["map_shape"])}, initialise=False)
        model.load_state_dict(state)
        return model

    def resized(self, map_shape: tuple[int, int, int], n_actions: int) -> ActorCritic:
        """This spatial model, same weights, for maps of another size (its layers do not depend on it)."""
        if not self.spatial:
            raise ValueError("only a spatial (fully convolutional) model can change its map size")
        arch = self.arch | {"map_shape": tuple(map_shape), "n_actions": n_actions}
        return ActorCritic.with_weights(arch, self.state_dict()).train(self.training)

    def forward(self, obs: Obs) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (B, n_actions) and values (B,) for a batch of observations."""
        counts = torch.log1p(obs["map"].sum(dim=(2, 3)))
        context = self.context(torch.cat([obs["cond"], obs["position"], counts], dim=1))
        features = self.trunk(self._with_cond_planes(obs) if self.cellwise else obs["map"])
        if self.spatial:
            features = torch.relu(features + self.film(context)[:, :, None, None])
            logits = self.policy_head(features)
            logits = self._keep_fixed(obs["map"], logits.permute(0, 2, 3, 1)) if self.cellwise else logits.flatten(1)
            pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)
            return logits, self._value(pooled, obs)
        joint = self.body(torch.cat([features, context], dim=1))
        return self.policy_head(joint), self._value(joint, obs)

    def _value(self, features: torch.Tensor, obs: Obs) -> torch.Tensor:
        """V(s) from the trunk's ``features`` and, for a privileged critic, the observation's ``critic``."""
        if self.critic_size:
            features = torch.cat([features, obs["critic"]], dim=1)
        return self.value_head(features).squeeze(1)

    @staticmethod
    def _with_cond_planes(obs: Obs) -> torch.Tensor:
        """The map planes plus one constant plane per conditioning value, so every cell sees the targets."""
        planes, cond = obs["map"], obs["cond"]
        return torch.cat([planes, cond[:, :, None, None].expand(-1, -1, *planes.shape[2:])], dim=1)

    @staticmethod
    def _keep_fixed(planes: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Cellwise logits (B, H, W, A) where frozen and outside cells can only keep their tile."""
        fixed = planes[:, -2:].sum(dim=1) > 0
        keep_only = torch.full((logits.shape[-1],), -1e9)
        keep_only[-1] = 0.0
        return torch.where(fixed[..., None], keep_only, logits)


def _conv(inputs: int, outputs: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride=stride, padding=dilation, dilation=dilation), nn.ReLU())


def build_model(env: Any, channels: int, hidden: int) -> ActorCritic:
    """A fresh model shaped for ``env``'s observation and action spaces."""
    from relaygen.env.vector import action_count

    space = env.single_observation_space if hasattr(env, "single_observation_space") else env.observation_space
    actions = env.single_action_space if hasattr(env, "single_action_space") else env.action_space
    base = getattr(env, "unwrapped", env)
    spatial = bool(getattr(base, "spatial_actions", False))
    cellwise = bool(getattr(base, "cellwise_actions", False))
    n_actions = action_count(actions)
    critic_size = space["critic"].shape[0] if "critic" in space.spaces else 0
    return ActorCritic(
        tuple(space["map"].shape), space["cond"].shape[0], n_actions, spatial, channels, hidden, cellwise, critic_size
    )


def to_tensors(obs: dict[str, Any]) -> Obs:
    """Stacked numpy observations as float tensors (no copy where the dtype already fits)."""
    return {key: torch.as_tensor(value, dtype=torch.float32) for key, value in obs.items() if key in OBS_KEYS}


# ----- model files -----------------------------------------------------------------------------


def save_model(path: str | Path, model: ActorCritic, meta: dict[str, Any]) -> Path:
    """Write ``model`` and ``meta`` (rules name and digest, representation, config, steps) atomically."""
    return write_payload(path, "model", {"arch": model.arch, "state": model.state_dict(), "meta": meta})


def load_model(path: str | Path) -> tuple[ActorCritic, dict[str, Any]]:
    """The model in ``path`` and its metadata; :class:`ModelError` names the file if it cannot be used."""
    data = read_payload(path, "model", ModelError)
    try:
        model = ActorCritic.with_weights(dict(data["arch"]), data["state"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{path}: model file does not fit its architecture: {exc}") from None
    model.eval()
    return model, dict(data.get("meta", {}))
