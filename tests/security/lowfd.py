"""``python -m tests.security.lowfd rp ...``: `aro` with at most 256 open files (``ulimit -n 256``)."""

from __future__ import annotations

import resource

from aro_cmd.main import main

if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    main()
