"""The ``aro cluster`` client: ``az aro`` for the local RP (library side; the typer wiring is aro_cmd.cluster).

- ``settings``: endpoint, CA bundle, subscription, location (flags > ``AROCLI_*`` env > client.yaml > defaults)
- ``client``: the one HTTPS client per invocation and the one request/error helper
- ``lro``: polling an ``Azure-AsyncOperation`` with a live progress display
- ``clusters``: the operations and the bodies az aro sends
- ``hcp``: the ``aro hcp`` operations (hosted clusters, node pools, versions); ``hcpbodies`` their bodies,
  ``hcpcreds`` the break-glass key, CSR and kubeconfig
- ``admin``: the ``aro admin`` day-2 operations over the RP's admin API (``/admin`` + a resource id)
- ``common``: option parsers, resource ids, private files and the prompt both clients use
- ``output``: ``-o json|table`` on stdout; progress, notes and errors on stderr

``run`` is the single entry the commands go through: it resolves the settings, opens the client, runs the
command and turns every error into its message and exit code (ARM/client error 1, usage 2, Ctrl-C 130).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aro.cli.admin import Admin
from aro.cli.client import ArmClient
from aro.cli.clusters import Clusters
from aro.cli.errors import EXIT_INTERRUPTED, ArmError, CliError
from aro.cli.hcp import Hcp
from aro.cli.output import Format, Printer
from aro.cli.settings import Settings, resolve

__all__ = ["Admin", "ArmClient", "Clusters", "Format", "Hcp", "Invocation", "Printer", "Settings", "run"]


@dataclass
class Invocation:
    settings: Settings
    arm: ArmClient
    printer: Printer
    clusters: Clusters
    hcp: Hcp
    admin: Admin


def run(action: Callable[[Invocation], None], flags: Mapping[str, str | None], printer: Printer | None = None) -> int:
    """Run one command; returns its exit code (0 on success) after printing any error."""
    printer = printer or Printer()
    try:
        settings = resolve(flags)
        with ArmClient(settings) as arm:
            action(Invocation(settings, arm, printer, Clusters(arm, printer), Hcp(arm, printer), Admin(arm, printer)))
        return 0
    except (ArmError, CliError) as e:
        printer.error(e)
        return e.exit_code
    except KeyboardInterrupt:
        printer.note("interrupted: an operation already accepted goes on in the RP (see its `show`)", "yellow")
        return EXIT_INTERRUPTED
