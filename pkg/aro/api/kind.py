"""Resource kinds: a resource type is declared, not written.

A ``ResourceKind`` names everything the shared machinery needs to serve one ARM resource type: its type
and route (named parameters, a parent for child types), its hub model and where that lives in its store
document (container, field, secret paths), its api-versions, which requests its state allows (the busy
gate, the parent gate, the actions' gate), its provisioning states, which operation routes report on it,
and what happens to it when its parent goes (``cascade``). ``aro.frontend.resources`` turns every kind
into GET / PUT / PATCH / DELETE / list routes and POST actions; ``aro.backend.operations`` turns (kind,
request) into a step list; ``aro.database.containers`` gives each kind its own container.

``CatalogKind`` is a read-only, location-scoped list (the versions catalogs); ``Kinds`` is a registry
of both, checked for consistency when it is built.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from aro.api import errors
from aro.api.capabilities import Need
from aro.api.errors import CloudError
from aro.api.resource import LIFECYCLE, RESOURCE_PROVIDER, Lifecycle, ProvisioningState, Request, Resource
from aro.api.version import AsyncAction, ValidationContext, Version

H = TypeVar("H", bound=Resource)

LOCATIONS = f"/subscriptions/{{subscriptionId}}/providers/{RESOURCE_PROVIDER}/locations/{{location}}"

Gate = Callable[[H, str], None]
"""``(current, request)``: raise ``CloudError`` if the resource's state does not allow the request."""


# --- api-versions ----------------------------------------------------------------------------------------


def api_version_key(api_version: str) -> tuple[dt.date, int, str]:
    """Sort key: by date; a preview sorts before the stable version of the same day; versions without a
    date (``2.0``) sort first."""
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", api_version)
    try:
        day = dt.date(int(m[1]), int(m[2]), int(m[3])) if m else dt.date.min
    except ValueError:
        day = dt.date.min
    return day, 0 if api_version[10:] else 1, api_version


def sort_api_versions(versions: Iterable[str]) -> list[str]:
    return sorted(versions, key=api_version_key)


def invalid_api_version(type_name: str, api_version: str, supported: Iterable[str]) -> CloudError:
    listed = ", ".join(sort_api_versions(supported))
    return CloudError(
        400,
        errors.INVALID_RESOURCE_TYPE,
        f"The resource type '{type_name}' could not be found in the namespace '{RESOURCE_PROVIDER}' "
        f"for api version '{api_version[:64]}'. The supported api-versions are '{listed}'.",
    )


# --- names -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameRule:
    """What a resource name must look like. The rule is checked on ASCII names only: ``str.lower`` maps some
    non-ASCII letters to ASCII ones (KELVIN SIGN -> "k"), which would let a non-ASCII name alias an ASCII one."""

    pattern: str  # anchored regular expression, e.g. ^[-a-z0-9_().]{0,89}[-a-z0-9_()]\Z
    description: str  # for the error message: "use 1-90 letters, digits, ..."
    lower: bool = False  # the pattern applies to the lower-cased name
    openapi_pattern: str = ""  # the same rule in either case, for the OpenAPI document
    max_length: int = 90

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rx", re.compile(self.pattern))

    def valid(self, name: str) -> bool:
        rx: re.Pattern[str] = self._rx  # type: ignore[attr-defined]
        return name.isascii() and rx.match(name.lower() if self.lower else name) is not None


ARM_NAME = NameRule(
    r"^[-a-z0-9_().]{0,89}[-a-z0-9_()]\Z",  # \Z: "$" also matches before a final "\n"
    "use 1-90 letters, digits, '-', '_', '(', ')' or '.', not ending in '.'",
    lower=True,
    openapi_pattern=r"^[-A-Za-z0-9_().]{0,89}[-A-Za-z0-9_()]$",
)


# --- gates -----------------------------------------------------------------------------------------------


def _verb(request: str) -> str:
    """``Create`` -> ``create``; an action's request as it is."""
    return request.lower() if request in (Request.CREATE, Request.UPDATE, Request.DELETE) else request


def conflict_gate(current: Resource, request: str) -> None:
    """ARO-HCP's rule: nothing but a delete while an operation runs, and no second delete (409)."""
    state = current.properties.provisioning_state
    if request == Request.DELETE:
        if state is ProvisioningState.DELETING:
            raise CloudError(409, errors.CONFLICT, "Resource is already deleting.")
        return
    if not state.terminal:
        raise CloudError(409, errors.CONFLICT, f"Cannot {_verb(request)} resource while resource is {state.value!r}.")


def parent_gate(parent: Resource, request: str) -> None:
    """ARO-HCP's rule for children: no write while the parent is being created or deleted (409)."""
    state = parent.properties.provisioning_state
    if state in (ProvisioningState.CREATING, ProvisioningState.PROVISIONING):
        raise CloudError(
            409, errors.CONFLICT, f"Cannot {_verb(request)} resource while parent resource is provisioning."
        )
    if state is ProvisioningState.DELETING:
        raise CloudError(409, errors.CONFLICT, f"Cannot {_verb(request)} resource while parent resource is deleting.")


@dataclass(frozen=True)
class Claim:
    """A value that must be unique within the subscription (``aro.database.claims``): a resource whose
    ``claims`` name it may only be created while no other live resource holds it. ``check_only``: refuse if
    another resource holds it, but do not claim it (``allowed_holders``: lower-case keys that may)."""

    scope: str  # e.g. "managedResourceGroup"
    value: str  # compared case-insensitively
    target: str  # the request field, for the error
    message: str  # the 400 message when it is taken
    check_only: bool = False
    allowed_holders: frozenset[str] = frozenset()
    code: str = errors.INVALID_REQUEST_CONTENT  # the 400's code (ARO: DuplicateResourceGroup)

    def error(self) -> CloudError:
        return CloudError(400, self.code, self.message, self.target)


AdminPatch = Callable[[Any, Any, ValidationContext], str | None]
"""``(hub, body, ctx) -> the request to run, or None``: apply an admin PATCH (``/admin{resourceId}``) to a
copy of the hub -- 400 ``CloudError`` on a bad body, nothing written -- and name the operation that carries
it out. ``ctx`` is what validation sees of a write (the kind's catalog, the parent, ``current``: the hub as
stored). None: the change only records a setting the backend reads whenever it claims the resource (a
pause): it is written to the stored document directly -- etag-conditional, no operation, 200 with the
document, whatever the resource's state (so a pause can be lifted while an operation waits on it) -- and a
queued operation is woken to look at it at once."""

AdminView = Callable[[Any], Any]
"""``hub -> JSON``: a read-only admin view, ``GET /admin{resourceId}/{view}`` (secrets never included)."""

ClaimRule = Callable[[Any, str], Sequence[Claim]]
"""``(hub, parent key) -> the claims of a resource`` (``parent key``: "" for a top-level kind)."""


def no_claims(hub: Any, parent_key: str) -> Sequence[Claim]:
    return ()


CapabilityRule = Callable[[Any, Any], Sequence[Need]]
"""``(new hub, current hub or None on create) -> the organization capabilities this write needs``
(``aro.api.capabilities``); the frontend refuses the write with 403 when the tenant's organization lacks one."""


def no_capabilities(new: Any, current: Any) -> Sequence[Need]:
    return ()


class Cascade(StrEnum):
    """What a parent's delete does to the children of this kind."""

    DELETE = "delete"  # deleted with the parent (implicit operations, invisible to clients)
    BLOCK = "block"  # the parent's delete is refused (409) while any exists


# --- display (the provider's operations list) ------------------------------------------------------------


@dataclass(frozen=True)
class ActionInfo:
    """A POST action of a kind. ``name`` as ARM spells it (``listCredentials``); unlisted actions are
    served but not advertised in the operations list (legacy aliases)."""

    name: str
    operation: str = ""  # display: "List credentials"
    description: str = ""
    listed: bool = True


@dataclass(frozen=True)
class OperationFamily:
    """The async-operation routes that report on a family of kinds: ``locations/{loc}/{status}/{id}`` and
    ``locations/{loc}/{result}/{id}`` (ARO: operationsstatus/operationresults; ARO-HCP:
    hcpOperationStatuses/hcpOperationResults)."""

    status: str = "operationsstatus"
    result: str = "operationresults"
    status_display: tuple[str, str] = ("Read operation status", "Reads the status of an operation.")
    result_display: tuple[str, str] = ("Read operation results", "Reads the result of an operation.")

    @property
    def status_route(self) -> str:
        return f"{LOCATIONS}/{self.status}/{{operationId}}"

    @property
    def result_route(self) -> str:
        return f"{LOCATIONS}/{self.result}/{{operationId}}"


CLASSIC_OPERATIONS = OperationFamily()


# --- the descriptors ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ResourceKind(Generic[H]):
    name: str  # the type's segment as ARM spells it: "openShiftClusters", "nodePools"
    hub: type[H]
    versions: Sequence[Version[H]]
    document_field: str  # where the hub lives in its store document: "openShiftCluster"
    title: str  # display: "OpenShift cluster"
    secret_paths: tuple[tuple[str, ...], ...] = ()  # camelCase JSON paths sealed at rest, never rendered
    param: str = "resourceName"  # route parameter of the resource's name (unique along the parent chain)
    parent: ResourceKind[Any] | None = None
    container: str = ""  # default: ``name``
    names: NameRule = ARM_NAME
    gate: Gate[Any] = conflict_gate  # writes (PUT/PATCH/DELETE) on an existing resource
    action_gate: Gate[Any] = conflict_gate  # POST actions
    parent_gate: Gate[Any] = parent_gate  # any write of a child, checked against its parent
    cascade: Cascade = Cascade.DELETE
    lifecycle: Lifecycle = LIFECYCLE
    operations: OperationFamily = CLASSIC_OPERATIONS
    actions: Sequence[ActionInfo] = ()
    patch_status: int = 200  # ARO answers a PATCH 200 (+ Azure-AsyncOperation); ARO-HCP 202 (+ Location)
    tracked: bool = True  # a tracked resource (location, tags); else a proxy resource
    versions_catalog: str = ""  # the catalog kind whose enabled entries are the installable versions
    claims: ClaimRule = no_claims  # values unique within the subscription (store-enforced claims)
    capabilities: CapabilityRule = no_capabilities  # organization capabilities a write needs (the ledger's)
    # The admin API beyond the stored document: a PATCH (None: 405), actions run as operations (POST
    # /admin{id}/{name}: 202 + Location) and read-only views (GET /admin{id}/{name}); lower-case names.
    admin_patch: AdminPatch | None = None
    admin_actions: Mapping[str, AsyncAction[Any]] = field(default_factory=dict)
    admin_views: Mapping[str, AdminView] = field(default_factory=dict)
    display: Mapping[str, str] = field(default_factory=dict)  # read/write/delete -> description

    def __post_init__(self) -> None:
        by_version = {v.api_version: v for v in self.versions}
        if len(by_version) != len(self.versions):
            raise ValueError(f"{self.name}: an api-version is listed twice")
        object.__setattr__(self, "_by_version", by_version)

    # --- names and paths -------------------------------------------------------------------------------

    @property
    def type_name(self) -> str:
        """The type below the namespace: ``openShiftClusters``, ``hcpOpenShiftClusters/nodePools``."""
        return self.name if self.parent is None else f"{self.parent.type_name}/{self.name}"

    @property
    def type(self) -> str:
        return f"{RESOURCE_PROVIDER}/{self.type_name}"

    @property
    def container_name(self) -> str:
        return self.container or self.name

    @property
    def chain(self) -> tuple[ResourceKind[Any], ...]:
        """Ancestors first, this kind last."""
        return (self,) if self.parent is None else (*self.parent.chain, self)

    @property
    def collection_route(self) -> str:
        """Route template of the list of this kind under one parent (top level: one resource group)."""
        if self.parent is None:
            return (
                "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
                f"{RESOURCE_PROVIDER}/{self.name}"
            )
        return f"{self.parent.route}/{self.name}"

    @property
    def route(self) -> str:
        return f"{self.collection_route}/{{{self.param}}}"

    @property
    def subscription_route(self) -> str | None:
        """The list across a subscription (top-level kinds only)."""
        return (
            None
            if self.parent is not None
            else f"/subscriptions/{{subscriptionId}}/providers/{RESOURCE_PROVIDER}/{self.name}"
        )

    @property
    def a_title(self) -> str:
        """``an OpenShift cluster``"""
        return ("an " if self.title[:1].lower() in "aeiou" else "a ") + self.title

    def description(self, what: str) -> str:
        defaults = {
            "read": f"Gets or lists {self.title} resources.",
            "write": f"Creates or updates {self.a_title}.",
            "delete": f"Deletes {self.a_title}.",
        }
        return self.display.get(what, defaults[what])

    # --- versions --------------------------------------------------------------------------------------

    @property
    def api_versions(self) -> list[str]:
        return sort_api_versions(v.api_version for v in self.versions)

    def version(self, api_version: str) -> Version[H]:
        """The version bundle, or 400 InvalidResourceType naming only this type's versions."""
        found: Version[H] | None = self._by_version.get(api_version)  # type: ignore[attr-defined]
        if found is None:
            raise invalid_api_version(self.type_name, api_version, self._by_version)  # type: ignore[attr-defined]
        return found

    def action_names(self) -> frozenset[str]:
        """Lower-case names of every action any version serves."""
        return frozenset(name for v in self.versions for name in v.actions)

    def async_action(self, api_version: str, request: str) -> AsyncAction[H] | None:
        """The asynchronous action (of that api-version, or of the admin API) that carries out ``request``."""
        actions = [*self.version(api_version).actions.values(), *self.admin_actions.values()]
        return next((a for a in actions if isinstance(a, AsyncAction) and a.request == request), None)


class CatalogEntry(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def enabled(self) -> bool: ...

    @property
    def default(self) -> bool: ...


CatalogRenderer = Callable[[Any, str], dict[str, Any]]  # (entry, resource id) -> body


@dataclass(frozen=True, eq=False)
class CatalogKind:
    """A read-only list under ``locations/{location}``, e.g. ``openShiftVersions``. ``renderers`` maps each
    api-version to its renderer; None renders the minimal ``{id, name, properties: {version}}``."""

    name: str
    param: str  # route parameter of an entry's name
    renderers: Mapping[str, CatalogRenderer | None]
    title: str  # one entry: "OpenShift version"
    operation: str = ""  # display in the operations list: "Read OpenShift versions"
    description: str = ""
    # Which entries a subscription sees: (entry, its registered features) -> bool; None: the enabled ones.
    visible: Callable[[Any, frozenset[str]], bool] | None = None

    # An entry's resource name (unique in the catalog); None: ``entry.name``.
    entry_name: Callable[[Any], str] | None = None
    # The 404 message for a name the catalog lacks: (name, api-version) -> text; None: "The {title} '{name}' ...".
    missing: Callable[[str, str], str] | None = None

    def missing_message(self, name: str, api_version: str) -> str:
        if self.missing is not None:
            return self.missing(name, api_version)
        return f"The {self.title} '{name}' was not found."

    def name_of(self, entry: Any) -> str:
        return str(entry.name) if self.entry_name is None else self.entry_name(entry)

    def shows(self, entry: Any, features: frozenset[str]) -> bool:
        return bool(entry.enabled) if self.visible is None else self.visible(entry, features)

    @property
    def type(self) -> str:
        return f"{RESOURCE_PROVIDER}/locations/{self.name}"

    @property
    def route(self) -> str:
        return f"{LOCATIONS}/{self.name}"

    def resource_id(self, subscription_id: str, location: str, name: str) -> str:
        return f"/subscriptions/{subscription_id}/providers/{RESOURCE_PROVIDER}/locations/{location}/{self.name}/{name}"

    def renderer(self, api_version: str) -> CatalogRenderer:
        if api_version not in self.renderers:
            raise invalid_api_version(f"locations/{self.name}", api_version, self.renderers)
        return self.renderers[api_version] or _minimal_entry

    def render(self, entry: Any, resource_id: str, api_version: str) -> dict[str, Any]:
        return self.renderer(api_version)(entry, resource_id)


def _minimal_entry(entry: Any, resource_id: str) -> dict[str, Any]:
    return {"id": resource_id, "name": entry.name, "properties": {"version": entry.name}}


class Kinds:
    """The registered kinds, checked: unique types and containers, a child's parent registered before it,
    name parameters unique along each chain, every version of a kind built for its hub type."""

    def __init__(self, resources: Sequence[ResourceKind[Any]], catalogs: Sequence[CatalogKind] = ()):
        self.resources: tuple[ResourceKind[Any], ...] = tuple(resources)
        self.catalogs: tuple[CatalogKind, ...] = tuple(catalogs)
        seen: set[str] = set()
        containers: set[str] = set()
        for kind in self.resources:
            if kind.type.lower() in seen:
                raise ValueError(f"{kind.type}: registered twice")
            if kind.parent is not None and kind.parent.type.lower() not in seen:
                raise ValueError(f"{kind.type}: its parent {kind.parent.type} must be registered first")
            params = [k.param.lower() for k in kind.chain]
            if len(set(params)) != len(params) or {"subscriptionid", "resourcegroupname"} & set(params):
                raise ValueError(f"{kind.type}: route parameter names must be unique along {params}")
            if kind.container_name in containers:
                raise ValueError(f"{kind.type}: container {kind.container_name!r} is taken")
            if not kind.versions:
                raise ValueError(f"{kind.type}: no api-version")
            seen.add(kind.type.lower())
            containers.add(kind.container_name)
        self._by_container = {k.container_name: k for k in self.resources}

    def __iter__(self) -> Any:
        return iter(self.resources)

    def extended(self, resources: Sequence[ResourceKind[Any]] = (), catalogs: Sequence[CatalogKind] = ()) -> Kinds:
        return Kinds([*self.resources, *resources], [*self.catalogs, *catalogs])

    def by_container(self, container: str) -> ResourceKind[Any] | None:
        return self._by_container.get(container)

    def children(self, kind: ResourceKind[Any]) -> tuple[ResourceKind[Any], ...]:
        return tuple(k for k in self.resources if k.parent is kind)

    def top_level(self) -> tuple[ResourceKind[Any], ...]:
        return tuple(k for k in self.resources if k.parent is None)

    def families(self) -> dict[OperationFamily, list[str]]:
        """Each operation family with the api-versions its routes accept (those of its kinds)."""
        out: dict[OperationFamily, set[str]] = {}
        for kind in self.resources:
            out.setdefault(kind.operations, set()).update(kind.api_versions)
        return {family: sort_api_versions(versions) for family, versions in out.items()}

    def type_segments(self) -> frozenset[str]:
        """Lower-case type segments of the namespace that have routes (for the unrouted-path error)."""
        return frozenset(k.name.lower() for k in self.top_level()) | {"locations", "deployments", "operations"}
