"""The options of a level-construction environment, declared once for the single and the batched one.

:class:`~relaygen.env.level_env.LevelEnv` and :class:`~relaygen.env.vector.BatchedLevelEnv` take
these as keyword arguments (as ``gymnasium.make`` passes them); :meth:`EnvOptions.split` separates
them from the representation's own options (narrow's ``order``, carve's ``penalty``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from relaygen.level import Level

REWARD_SCALE = 10.0
"""Default multiplier of the score difference: an episode's return is O(1..10)."""


@dataclass(frozen=True)
class EnvOptions:
    """How an environment runs its episodes; each field a keyword argument of both environments."""

    difficulty: float | None = None
    """Difficulty in [0, 1] of every episode; None draws one uniformly per episode."""
    crop_size: int | None = None
    """Side (odd) of the egocentric view of narrow, turtle and carve; None: ``2 * max(H, W) - 1``."""
    change_limit: float | None = None
    """Share in (0, 1] of the editable cells an episode may change before it is truncated; None: the
    representation's default (0.2; carve and nca 1.0)."""
    max_steps: int | None = None
    """Steps after which an episode is truncated; None: the representation's default (three times
    the editable cells; nca 16)."""
    pinned_share: float = 0.0
    """Share in [0, 1) of the editable cells frozen at random each episode."""
    solver_budget: int = 2000
    """Search nodes the solver may spend on a level at each step; a level it gives up on counts as
    unplayable."""
    search_at_end: bool = False
    """Search a level for its solution only at the step that ends its episode; the steps before are
    scored without a search (counts and the other metrics, the level not yet playable). An episode's
    return is still the score its last level earns; for games whose search is costly (PuzzleScript
    games), it spends one search per episode instead of one per edit."""
    start_level: Level | None = None
    """A level every episode starts from instead of a drawn map: its grid, or with a pinned mask its
    pinned cells (kept and frozen) and random others."""
    reward_scale: float = REWARD_SCALE
    """Multiplier of the score difference in the reward."""
    observe_budget: bool = False
    """Add the share of the episode's edits left to the ``cond`` observation."""
    observe_metrics: bool = False
    """Add each count constraint's count and each objective's value, against their target ranges,
    to the ``cond`` observation (as controllable PCGRL shows its agent the metrics and targets)."""
    vary_counts: bool = False
    """Draw each episode's count ranges at random within the rules' (e.g. exactly 2 boxes where the
    rules allow 1 to 3) and score the episode by them, so that with ``observe_metrics`` one policy
    learns to meet any ranges inside the trained ones."""
    blind: bool = False
    """The policy sees none of the metrics only a search measures (their ``cond`` measures read 0)
    and an episode does not end when its objectives are met, whether or not the reward searches
    every edit: a model trained this way with a search per edit (a dense reward) drafts as well
    with ``search_at_end`` (one search per episode), which is how generation runs it."""
    privileged_critic: bool = False
    """With ``blind``: put the hidden measures in the observation's ``critic`` entry, which only the
    model's value head reads (an asymmetric actor-critic)."""
    keep_best: bool = False
    """Hand out the best level an episode built (playable first, then the highest score), not its last."""

    @classmethod
    def split(cls, options: dict[str, Any]) -> tuple[EnvOptions, dict[str, Any]]:
        """The environment options among keyword arguments ``options``, and the rest (the representation's)."""
        names = {f.name for f in fields(cls)}
        return (
            cls(**{k: v for k, v in options.items() if k in names}),
            {k: v for k, v in options.items() if k not in names},
        )
