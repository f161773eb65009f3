"""A local ARM + cluster-API server the install code cannot tell from Azure.

Public surface::

    from aro.cloud.simulator import SimulatorConfig, FaultRule, create_app
    from aro.cloud.simulator.server import SimulatorServer, main

``create_app(SimulatorConfig(data_directory, token=None, step_delay_seconds=0.0, faults=()))`` returns a
pure ASGI app implementing the ARM REST surface azure-mgmt-resource uses (resource groups, template
deployments as LROs, generic resources, VM scale sets and their instances: ``_vmss``), fault injection
(``/simulator/faults``), an autoscaler knob (``/simulator/autoscaler``), a request log
(``/simulator/requests``), a web console of each resource group behind signed, expiring links
(``_console``; minted at ``/simulator/console/links``), telemetry pushed by every cluster holding an
``aro-telemeter`` secret
(``_telemetry``; switched per cluster at ``/simulator/telemetry``) and Kubernetes APIs real ``kubectl``
uses (``_kube``): each resource group's classic cluster (``/clusters/{sub}/{rg}``), one management
cluster (``/management``) and a hosted cluster per management namespace (``/hostedclusters/{namespace}``)
-- see ``_kubeclusters`` for how each is made and ``_kubeauth`` for client certificates, tokens and
revocation -- and ARM's front door for ``Microsoft.RedHatOpenShift``: those requests are forwarded to a
linked RP as ARM forwards them (``_frontdoor``); what ``az`` asks first -- cloud metadata (``_metadata``),
tenant, subscriptions and principals (``_directory``), providers and regions (``_providers``), Microsoft
Graph (``_graph``) -- and a CONNECT proxy for clients with a hard-wired ``management.azure.com``
(``_proxy``). State persists in ``simulator.db``
(SQLite, WAL) in the data directory. See ``_arm`` for the route table, ``_config`` for the fault rule
format, ``_template`` for the supported template subset. This package imports nothing else from ``aro``.
"""

from ._app import SimulatorApp, create_app
from ._config import OPERATIONS, FaultRule, FrontDoorConfig, SimulatorConfig
from ._proxy import HOSTS as PROXY_HOSTS
from ._proxy import CloudProxy
from ._tls import TlsFiles, ensure_tls, generate_tls

__all__ = [
    "OPERATIONS",
    "PROXY_HOSTS",
    "CloudProxy",
    "FaultRule",
    "FrontDoorConfig",
    "SimulatorApp",
    "SimulatorConfig",
    "TlsFiles",
    "create_app",
    "ensure_tls",
    "generate_tls",
]
