"""Checkpoints and the file format they share with model files, written atomically.

A relaygen torch file is a dict with ``format = "relaygen"``, a ``kind`` (``checkpoint`` or
``model``), a version and (from version 2) a ``digest`` of everything else it holds, weights
included; reading one that is truncated, corrupt (a flipped byte anywhere in its weights), foreign
or of the other kind raises an error whose message starts with the file's path. Version 1 files,
written before the digest, are still read.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path
from typing import Any

import torch

from relaygen.errors import UserError
from relaygen.files import atomic_write

FORMAT = "relaygen"
VERSION = 2
VERSIONS = (1, 2)
"""Versions this code reads: 1 has no digest."""
CHECKPOINT_NAME = "checkpoint.pt"
ZIP_MAGIC = b"PK\x03\x04"


class CheckpointError(UserError):
    """A checkpoint (or model) file that cannot be used; the message starts with its path."""


def write_payload(path: str | Path, kind: str, payload: dict[str, Any]) -> Path:
    """Serialize ``payload`` (tensors, containers, plain values) as a relaygen ``kind`` file.

    Tensors are copied first: a shared model's weights and optimizer moments change under the
    workers' updates, and the digest must describe the bytes that are written."""
    payload = _snapshot(payload)
    buffer = io.BytesIO()
    torch.save(
        {"format": FORMAT, "kind": kind, "version": VERSION, **payload, "digest": payload_digest(payload)}, buffer
    )
    return atomic_write(path, buffer.getvalue())


def _snapshot(value: Any) -> Any:
    """``value`` with every tensor in it (within dicts, lists and tuples) copied."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {key: _snapshot(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_snapshot(item) for item in value)
    return value


def payload_digest(payload: Any) -> str:
    """A hash of a payload's content: every tensor's dtype, shape and bytes, and every plain value."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f"tensor {tensor.dtype} {tuple(tensor.shape)}".encode())
            digest.update(tensor.view(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
        elif isinstance(value, dict):
            digest.update(f"dict {len(value)}".encode())
            for key in sorted(value, key=repr):
                feed(key)
                feed(value[key])
        elif isinstance(value, list | tuple):
            digest.update(f"{type(value).__name__} {len(value)}".encode())
            for item in value:
                feed(item)
        else:
            digest.update(f"{type(value).__name__} {value!r}".encode())

    feed(payload)
    return digest.hexdigest()[:32]


def read_payload(path: str | Path, kind: str, error: type[ValueError] = CheckpointError) -> dict[str, Any]:
    """The payload of a relaygen ``kind`` file, or ``error("PATH: reason")``."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {kind} file")
    with open(path, "rb") as handle:
        torch_file = handle.read(4) == ZIP_MAGIC  # torch files are zip archives
    if not torch_file:
        raise error(f"{path}: not a relaygen {kind} file (not a torch file at all)")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # weights_only refuses arbitrary Python objects
        raise error(f"{path}: not a relaygen {kind} file (it holds Python objects relaygen never writes)") from None
    except Exception as exc:  # torch raises many types for damaged files
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{path}: not a readable {kind} file (truncated or corrupt?): {reason}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise error(f"{path}: not a relaygen {kind} file (no relaygen format marker)")
    if data.get("kind") != kind:
        raise error(f"{path}: this is a relaygen {data.get('kind')} file, not a {kind} file")
    if data.get("version") not in VERSIONS:
        raise error(f"{path}: {kind} format version {data.get('version')} is not supported (expected {VERSION})")
    if data["version"] >= 2:
        body = {k: v for k, v in data.items() if k not in ("format", "kind", "version", "digest")}
        if data.get("digest") != payload_digest(body):
            raise error(f"{path}: damaged {kind} file: its content does not match the digest it was saved with")
    return data


def save_checkpoint(run_dir: str | Path, state: dict[str, Any]) -> Path:
    """Write the run's checkpoint (model, optimizer, step, RNG states, config) atomically."""
    return write_payload(Path(run_dir) / CHECKPOINT_NAME, "checkpoint", state)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint from a file or a run folder; :class:`CheckpointError` names the file if it is bad."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    data = read_payload(path, "checkpoint")
    missing = {"model", "optimizer", "step", "config", "rng"} - set(data)
    if missing:
        raise CheckpointError(f"{path}: checkpoint lacks {sorted(missing)}")
    return data
