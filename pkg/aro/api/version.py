"""What an external api-version provides, and the registry of versions.

Handlers look up ``VERSIONS[api_version]`` and never branch on the version. Adding an api-version means
adding a package under ``aro.api`` that builds a ``Version`` and registering it in ``aro.api.registry``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from aro.api.cluster import OpenShiftCluster, OpenShiftVersion


@dataclass(frozen=True)
class ValidationContext:
    """Facts from the request and the RP that validation needs."""

    resource_id: str  # ARM id from the URL, original casing, e.g. /subscriptions/../openShiftClusters/foo
    subscription_id: str
    resource_group: str
    name: str
    location: str  # the RP's location (e.g. "eastus")
    versions: Sequence[str] = ()  # installable OpenShift versions ("4.18.34", ...)
    default_version: str = ""


class ClusterAPI(Protocol):
    """Per-version conversion, validation and update policy for OpenShiftCluster.

    Errors are raised as ``aro.api.errors.CloudError`` (400) with a ``target`` JSON path where it applies.
    None of the methods mutates its arguments.
    """

    def to_external(self, oc: OpenShiftCluster) -> dict[str, Any]:
        """JSON body returned by GET/PUT/PATCH/list: read-only fields included, secrets never."""
        ...

    def put(self, body: Any, current: OpenShiftCluster | None, ctx: ValidationContext) -> OpenShiftCluster:
        """Validate a PUT body (create when ``current`` is None, else replace) and return the new
        internal cluster. Defaults are filled on create. Read-only fields in the body are ignored;
        ``properties.provisioningState`` equal to the current value is ignored, different -> 400.
        On replace, a change of an immutable field -> 400 PropertyChangeNotAllowed (target = path)."""
        ...

    def patch(self, body: Any, current: OpenShiftCluster, ctx: ValidationContext) -> OpenShiftCluster:
        """JSON merge-patch (RFC 7396; ``tags`` replaced whole; list elements merged by ``name``) onto the
        current cluster, then the same checks as a replace."""
        ...


CredentialAction = Callable[[OpenShiftCluster], dict[str, Any]]


@dataclass(frozen=True)
class Version:
    api_version: str
    cluster: ClusterAPI
    # POST .../openShiftClusters/{name}/{action} -> response body; keys are lower-case action names.
    actions: Mapping[str, CredentialAction] = field(default_factory=dict)
    # Renders one catalog entry as an ARM proxy resource: (version, resource id) -> body.
    version_to_external: Callable[[OpenShiftVersion, str], dict[str, Any]] | None = None
    # pydantic models describing the bodies, for the OpenAPI document only.
    cluster_model: type[BaseModel] | None = None
    cluster_update_model: type[BaseModel] | None = None
