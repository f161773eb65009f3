"""A local ARM + cluster-API server the install code cannot tell from Azure.

Public surface::

    from aro.cloud.simulator import SimulatorConfig, FaultRule, create_app
    from aro.cloud.simulator.server import SimulatorServer, main

``create_app(SimulatorConfig(data_directory, token=None, step_delay_seconds=0.0, faults=()))`` returns a
pure ASGI app implementing the ARM REST surface azure-mgmt-resource uses (resource groups, template
deployments as LROs, generic resources), each managed resource group's cluster API
(``/clusters/{sub}/{rg}/version|readyz|api/v1/nodes``), fault injection (``/simulator/faults``) and a
request log (``/simulator/requests``). State persists in ``simulator.db`` (SQLite, WAL) in the data
directory. See ``_arm`` for the route table, ``_config`` for the fault rule format, ``_template`` for the
supported template subset. This package imports nothing else from ``aro``.
"""

from ._app import SimulatorApp, create_app
from ._config import OPERATIONS, FaultRule, SimulatorConfig
from ._tls import TlsFiles, ensure_tls, generate_tls

__all__ = [
    "OPERATIONS",
    "FaultRule",
    "SimulatorApp",
    "SimulatorConfig",
    "TlsFiles",
    "create_app",
    "ensure_tls",
    "generate_tls",
]
