"""What the ``aro cluster`` and ``aro hcp`` clients share: option parsers, resource ids, reading response
bodies, writing private files and the confirmation prompt."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rich.console import Console

from aro.cli.errors import CliError, UsageError

PROVIDER = "Microsoft.RedHatOpenShift"


def parse_tags(values: Iterable[str]) -> dict[str, str]:
    """``k=v`` pairs (repeat the option, or separate pairs with spaces); a lone ``""`` clears the tags."""
    tags: dict[str, str] = {}
    for value in values:
        for pair in value.split():
            key, _, val = pair.partition("=")
            if not key:
                raise UsageError(f"invalid tag {pair!r}: expected KEY=VALUE")
            tags[key] = val
    return tags


def is_resource_id(value: str) -> bool:
    return value.lower().startswith("/subscriptions/")


def rg_resource_id(subscription: str, rg: str, provider_type: str, name: str) -> str:
    """``/subscriptions/{s}/resourceGroups/{rg}/providers/{provider_type}/{name}``."""
    return f"/subscriptions/{subscription}/resourceGroups/{rg}/providers/{provider_type}/{name}"


def subnet_id(subscription: str, rg: str, vnet: str, subnet: str) -> str:
    """``subnet`` itself when it is a resource id, else the id of subnet ``subnet`` of ``vnet`` in ``rg``."""
    if is_resource_id(subnet):
        return subnet
    return rg_resource_id(subscription, rg, "Microsoft.Network/virtualNetworks", vnet) + f"/subnets/{subnet}"


def resource_group_of(resource_id: str) -> str:
    parts = resource_id.split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""


def get_path(obj: Any, *path: str | int) -> Any:
    """``obj[p0][p1]...`` through dicts and lists; None as soon as a step is missing."""
    for key in path:
        if isinstance(obj, dict) and isinstance(key, str):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def _exists(path: Path) -> CliError:
    return CliError(f"{path} already exists", "use --force to overwrite it, or -f to choose another file")


def refuse_existing(path: Path, force: bool) -> None:
    """The check ``write_private_file`` makes, ahead of it (before asking the RP for what to write)."""
    if path.exists() and not force:
        raise _exists(path)


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """``text`` to ``path`` atomically (a temporary file in the same directory, renamed over it), ``mode``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise CliError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), mode)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise CliError(f"cannot write {path}: {e.strerror or e}") from None


def write_private_file(path: Path, text: str | bytes, force: bool) -> None:
    """Write ``text`` (or bytes) to ``path`` with mode 0600; an existing file is an error unless ``force``."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as e:
        raise CliError(f"cannot write {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)  # an overwritten file keeps its old mode otherwise
        f.write(text.encode() if isinstance(text, str) else text)


def confirm(question: str, *, assume_yes: bool, interactive: bool, ask: Callable[[str], bool] | None = None) -> None:
    """Ask ``question`` (y/N) unless ``assume_yes``; without a terminal to ask on, refuse (UsageError)."""
    if assume_yes:
        return
    if not interactive:
        raise UsageError(f"{question.rstrip('?')}: refusing without confirmation (no terminal to ask on); pass --yes")
    if ask is None:
        from rich.prompt import Confirm

        def ask(q: str) -> bool:
            return Confirm.ask(q, default=False, console=Console(stderr=True))

    if not ask(question):
        raise CliError("aborted")
