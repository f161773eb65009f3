"""Issue 15 item 9: every file a running RP creates in its data directory (the store and its WAL, the key
file, the generated CA and serving keys, the hosted simulator's database) is private to its user: files
0600, directories 0700."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.frontend.helpers import Arm, new_sub


def test_data_files_are_private(rp_factory: Callable[..., Any], tmp_path: Path) -> None:
    data = tmp_path / "data"
    rp = rp_factory(data_dir=data)
    with Arm(rp) as arm:  # a write: the store's WAL and the simulator's database hold something
        arm.register(new_sub())
    paths = [data, *data.rglob("*")]
    names = {p.relative_to(data).as_posix() for p in paths}
    assert {"aro.db", "secret.key", "certs/ca.key", "certs/ca.crt"} <= names, sorted(names)
    assert any(n.startswith("simulator/") for n in names), sorted(names)
    loose = {
        p.relative_to(data).as_posix() or ".": oct(stat.S_IMODE(p.stat().st_mode))
        for p in paths
        if p.stat().st_mode & 0o077
    }
    assert loose == {}, f"readable by group or others: {loose}"
