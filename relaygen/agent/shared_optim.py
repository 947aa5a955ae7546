"""Optimizers whose statistics live in shared memory, stepped by every worker without locks (Hogwild).

The state tensors are made when the optimizer is, and moved to shared memory, so that worker
processes that receive the optimizer (pickled with the shared model, under the spawn start method)
all update the same moments. Each worker copies its own gradients into the shared parameters'
``.grad`` before each step (see :func:`push_gradients`); the ``.grad`` tensors themselves are
private to each process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn


class _Shared:
    """Mixin: make every parameter's state now, with ``init_state``, and share it."""

    param_groups: list[dict[str, Any]]
    state: dict[torch.Tensor, dict[str, Any]]

    def init_state(self, param: torch.Tensor, group: dict[str, Any]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _share_state(self) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                state = self.state[param]
                if not state:
                    state.update(self.init_state(param, group))
                for value in state.values():
                    if isinstance(value, torch.Tensor):
                        value.share_memory_()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load saved statistics, then move them back into shared memory."""
        super().load_state_dict(state_dict)  # type: ignore[misc]
        self._share_state()

    def is_shared(self) -> bool:
        """Whether every state tensor lives in shared memory."""
        return all(
            value.is_shared()
            for state in self.state.values()
            for value in state.values()
            if isinstance(value, torch.Tensor)
        )


def _zeros(param: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(param, memory_format=torch.preserve_format)


class SharedAdam(_Shared, torch.optim.Adam):
    """Adam with its step count and moments in shared memory."""

    def __init__(
        self,
        params: Iterable[nn.Parameter],
        lr: float = 7e-4,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=False)
        self._share_state()

    def init_state(self, param: torch.Tensor, group: dict[str, Any]) -> dict[str, torch.Tensor]:
        return {"step": torch.zeros((), dtype=torch.float32), "exp_avg": _zeros(param), "exp_avg_sq": _zeros(param)}


class SharedRMSprop(_Shared, torch.optim.RMSprop):
    """RMSprop (the A3C paper's shared variant: one g statistic for all workers) in shared memory."""

    def __init__(
        self,
        params: Iterable[nn.Parameter],
        lr: float = 7e-4,
        alpha: float = 0.99,
        eps: float = 1e-5,
    ) -> None:
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, foreach=False)
        self._share_state()

    def init_state(self, param: torch.Tensor, group: dict[str, Any]) -> dict[str, torch.Tensor]:
        return {"step": torch.zeros((), dtype=torch.float32), "square_avg": _zeros(param)}


OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"adam": SharedAdam, "rmsprop": SharedRMSprop}


def make_optimizer(name: str, model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """The shared optimizer ``name`` (adam or rmsprop) over ``model``'s parameters."""
    return OPTIMIZERS[name](model.parameters(), lr=lr)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group (this process's copy of the groups)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def push_gradients(grads: Iterable[torch.Tensor | None], shared: nn.Module) -> None:
    """Copy ``grads`` (in parameter order) into ``shared``'s ``.grad``: fresh copies, never aliases."""
    for grad, param in zip(grads, shared.parameters(), strict=True):
        if grad is None:
            param.grad = None
        elif param.grad is None:
            param.grad = grad.detach().clone()
        else:
            param.grad.copy_(grad)
