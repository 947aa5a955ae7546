"""Shared optimizers: state in shared memory, and every process's gradient reaches the shared model."""

from __future__ import annotations

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from relaygen.agent.shared_optim import SharedAdam, make_optimizer, push_gradients

pytestmark = pytest.mark.slow  # trains or runs subprocesses: the full lane only


def _model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_state_is_made_eagerly_in_shared_memory(name: str) -> None:
    model = _model()
    optimizer = make_optimizer(name, model, 1e-3)
    assert len(optimizer.state) == len(list(model.parameters()))
    assert optimizer.is_shared()
    restored = make_optimizer(name, _model(), 1e-3)
    restored.load_state_dict(optimizer.state_dict())
    assert restored.is_shared()


def test_push_gradients_copies_and_never_aliases() -> None:
    local, shared = _model(), _model()
    local(torch.ones(1, 3)).sum().backward()
    push_gradients([p.grad for p in local.parameters()], shared)
    for mine, theirs in zip(local.parameters(), shared.parameters(), strict=True):
        assert torch.equal(mine.grad, theirs.grad)
        assert mine.grad.data_ptr() != theirs.grad.data_ptr()
    first = [p.grad.clone() for p in shared.parameters()]
    local.zero_grad()
    for theirs, before in zip(shared.parameters(), first, strict=True):
        assert torch.equal(theirs.grad, before)


def _push_one_gradient(index: int, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Worker: a gradient on parameter ``index`` only, then one shared optimizer step."""
    torch.set_num_threads(1)
    grads = [torch.ones_like(p) if i == index else torch.zeros_like(p) for i, p in enumerate(model.parameters())]
    push_gradients(grads, model)
    optimizer.step()


def test_each_worker_process_updates_the_shared_model() -> None:
    model = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False))
    model.share_memory()
    optimizer = SharedAdam(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    context = mp.get_context("spawn")
    workers = [context.Process(target=_push_one_gradient, args=(i, model, optimizer)) for i in range(2)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=300)  # spawn imports torch: slow on a loaded machine
            assert w.exitcode == 0
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
    for param, old in zip(model.parameters(), before, strict=True):
        assert not torch.equal(param.detach(), old), "a worker's gradient did not reach the shared model"
    # Both steps were counted in the one shared step counter of each parameter.
    assert sorted(float(s["step"]) for s in optimizer.state.values()) == [2.0, 2.0]
