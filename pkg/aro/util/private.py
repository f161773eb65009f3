"""Files of the RP are private to its user: ``private_files`` sets the process umask so every file it
creates (the SQLite store and its WAL, the simulator's database, keys, generated certificates, the
ledger's stores) is mode 0600 and every directory 0700, and tightens the data directory itself."""

from __future__ import annotations

import os
from pathlib import Path

UMASK = 0o077


def private_files(data_directory: Path) -> None:
    os.umask(UMASK)
    data_directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if data_directory.stat().st_uid == os.getuid():
        data_directory.chmod(0o700)
