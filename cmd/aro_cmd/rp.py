"""`aro rp`, `aro frontend`, `aro backend`: the server processes."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file (or $ARO_CONFIG)")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="dataDirectory")]
PortOpt = Annotated[int | None, typer.Option("--port", help="frontend.port")]
LocationOpt = Annotated[str | None, typer.Option("--location", help="location")]


def load_config(config: Path | None, overrides: dict[str, Any]) -> Any:
    from aro.env import ConfigError, load

    try:
        return load(config, overrides=overrides)
    except ConfigError as e:
        typer.echo(f"aro: configuration error: {e}", err=True)
        raise typer.Exit(2) from None


def _serve(config: Any, run: Callable[[], int]) -> None:
    """Run a server until it stops; a configuration error exits 2 (one line naming the key), an OS error 1."""
    from aro.env import ConfigError
    from aro.util import log

    log.setup(config.log_level)
    try:
        code = run()
    except ConfigError as e:
        typer.echo(f"aro: configuration error: {e}", err=True)
        sys.exit(2)
    except (OSError, RuntimeError) as e:  # e.g. address already in use
        typer.echo(f"aro: {e}", err=True)
        sys.exit(1)
    # Stopped cleanly (the log says "stopped"): exit now. The interpreter's own teardown of every module
    # takes another 0.5-1.5 s that would only delay a restart (docs/reliability.md: graceful stop).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _supervise(config: Any) -> None:
    """`aro rp`: the supervisor of the RP's processes (``aro.supervisor``)."""
    started = time.monotonic()
    from aro.supervisor import supervise

    _serve(config, lambda: supervise(config, started))


def _run(config: Any, frontend: bool, backend: bool, simulator: bool = False) -> None:
    from aro.run import run_rp, run_simulator

    def run() -> int:
        asyncio.run(run_simulator(config) if simulator else run_rp(config, frontend=frontend, backend=backend))
        return 0

    _serve(config, run)


def register(app: typer.Typer) -> None:
    @app.command("rp")
    def rp_cmd(
        config: ConfigOpt = None,
        data_dir: DataDirOpt = None,
        port: PortOpt = None,
        location: LocationOpt = None,
        one_process: Annotated[
            bool, typer.Option("--one-process", help="frontend, backend and simulator in this one process")
        ] = False,
    ) -> None:
        """Run the whole RP: the cloud simulator, the backend and frontend.workers frontends, each in its own
        process (restarted if it dies), or all in one process with --one-process."""
        cfg = load_config(
            config, {"dataDirectory": data_dir and str(data_dir), "frontend.port": port, "location": location}
        )
        if one_process:
            _run(cfg, frontend=True, backend=True)
        else:
            _supervise(cfg)

    @app.command("frontend")
    def frontend_cmd(
        config: ConfigOpt = None,
        data_dir: DataDirOpt = None,
        port: PortOpt = None,
        location: LocationOpt = None,
    ) -> None:
        """Run only the ARM frontend."""
        cfg = load_config(
            config, {"dataDirectory": data_dir and str(data_dir), "frontend.port": port, "location": location}
        )
        _run(cfg, frontend=True, backend=False)

    @app.command("simulator")
    def simulator_cmd(config: ConfigOpt = None, data_dir: DataDirOpt = None, port: PortOpt = None) -> None:
        """Run only the cloud simulator (ARM + cluster APIs) on cloud.simulator.port."""
        cfg = load_config(config, {"dataDirectory": data_dir and str(data_dir), "cloud.simulator.port": port})
        _run(cfg, frontend=False, backend=False, simulator=True)

    @app.command("backend")
    def backend_cmd(config: ConfigOpt = None, data_dir: DataDirOpt = None, location: LocationOpt = None) -> None:
        """Run only the backend worker pool (several may share one store)."""
        cfg = load_config(config, {"dataDirectory": data_dir and str(data_dir), "location": location})
        _run(cfg, frontend=False, backend=True)
