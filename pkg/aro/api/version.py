"""What one external api-version of one resource type provides.

Handlers look the version up on the resource's kind (``kind.version(api_version)``) and never branch on
it. Adding an api-version means adding a package under ``aro.api`` that builds a ``Version`` and listing it
in its kind's ``versions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from aro.api.resource import Resource

H = TypeVar("H", bound=Resource)


@dataclass(frozen=True)
class ValidationContext:
    """Facts from the request and the RP that validation needs."""

    resource_id: str  # ARM id from the URL, original casing, e.g. /subscriptions/../openShiftClusters/foo
    subscription_id: str
    resource_group: str
    name: str
    location: str  # the RP's location (e.g. "eastus")
    rp_domain: str = ""  # the RP's DNS zone for cluster domains, "{location}.{clusterDomain}" (eastus.aroapp.io)
    versions: Sequence[str] = ()  # installable product versions ("4.18.34", ...)
    default_version: str = ""
    resource_type: str = ""  # the full ARM type the URL names
    parent: Resource | None = None  # a child's parent, as stored
    features: frozenset[str] = frozenset()  # lower-case AFEC names registered on the subscription
    catalog: Sequence[Any] = ()  # the entries of the kind's versions catalog (``versions_catalog``)
    current: Resource | None = None  # on an update: the resource as it was (set by the pipeline)
    children: Sequence[Resource] = ()  # on an update of a parent: its children as stored (bounded)


class ResourceAPI(Protocol[H]):
    """Per-version conversion, validation and update policy of one hub type.

    Errors are raised as ``aro.api.errors.CloudError`` (400) with a ``target`` JSON path where it applies.
    None of the methods mutates its arguments.
    """

    def to_external(self, hub: H) -> dict[str, Any]:
        """JSON body returned by GET/PUT/PATCH/list: read-only fields included, secrets never."""
        ...

    def put(self, body: Any, current: H | None, ctx: ValidationContext) -> H:
        """Validate a PUT body (create when ``current`` is None, else replace) and return the new
        internal resource. Defaults are filled on create. Read-only fields in the body are ignored;
        ``properties.provisioningState`` equal to the current value is ignored, different -> 400.
        On replace, a change of an immutable field -> 400 PropertyChangeNotAllowed (target = path)."""
        ...

    def patch(self, body: Any, current: H, ctx: ValidationContext) -> H:
        """JSON merge-patch (RFC 7396; ``tags`` replaced whole; list elements merged by ``name``) onto the
        current resource, then the same checks as a replace."""
        ...


ActionRenderer = Callable[[H], dict[str, Any]]
"""A synchronous action: the resource -> the response body (e.g. listCredentials)."""


ActionAccept = Callable[[H, Any, str], None]
"""``(hub, body, operation_id)``: check an async action's request body (400 ``CloudError``) and record the
request on the hub (a copy, written with the operation); ``body`` is the parsed JSON or None."""

ActionResult = Callable[[H, str], dict[str, Any]]
"""``(hub, operation_id)``: the body of a finished async action's result."""


@dataclass(frozen=True)
class AsyncAction(Generic[H]):
    """An action that runs as an asynchronous operation: accepted with 202, carried out by the backend as
    ``request`` (the kind's workflow names a step list for it); ``accept`` checks the request body first
    (None: the body is ignored); ``result`` renders the operation's result once it succeeded (None: 204)."""

    request: str
    result: ActionResult[H] | None = None
    accept: ActionAccept[H] | None = None


@dataclass(frozen=True)
class Version(Generic[H]):
    api_version: str
    resource: ResourceAPI[H]
    # POST .../{name}/{action}; keys are lower-case action names.
    actions: Mapping[str, ActionRenderer[H] | AsyncAction[H]] = field(default_factory=dict)
    # pydantic models describing the bodies, for the OpenAPI document only.
    model: type[BaseModel] | None = None
    update_model: type[BaseModel] | None = None
