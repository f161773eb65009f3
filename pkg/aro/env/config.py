"""Configuration: one typed settings tree, loaded from a YAML file, then ARO_* environment variables,
then command-line overrides (each layer above the one before).

Every key ``a.bKey`` is also the environment variable ``ARO_A_B_KEY`` (``frontend.port`` ->
``ARO_FRONTEND_PORT``). A bad value stops start-up with one ``ConfigError`` line naming the key.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

ENV_PREFIX = "ARO_"
CONFIG_ENV = "ARO_CONFIG"


class ConfigError(Exception):
    """A configuration problem, reported as one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Mode(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class TLSConfig(_Section):
    cert_file: str | None = None
    key_file: str | None = None
    ca_file: str | None = Field(default=None, description="CA that client certificates must chain to")


class AuthConfig(_Section):
    """Production client-certificate identities (subject common names)."""

    arm_client_subject: str | None = None
    admin_client_subject: str | None = None


class LimitsConfig(_Section):
    """Bounds on every connection to the frontend (``aro.util.connbounds``)."""

    handshake_seconds: float = Field(default=10.0, gt=0, le=300)  # TLS handshake
    header_seconds: float = Field(default=10.0, gt=0, le=300)  # a request head, from its first byte
    body_seconds: float = Field(default=30.0, gt=0, le=3600)  # a request body, from its head
    idle_seconds: float = Field(default=60.0, gt=0, le=3600)  # keep-alive between requests (ARM keeps them)
    max_connections: int = Field(default=2048, ge=1, le=1_000_000)
    max_header_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 2**20)
    max_headers: int = Field(default=100, ge=10, le=10_000)


class FrontendConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8443, ge=0, le=65535)  # 0: any free port (the "ready" line names it)
    workers: int = Field(default=1, ge=1, le=64)  # `aro rp`: frontend processes accepting on the one socket
    tls: TLSConfig = Field(default_factory=TLSConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    page_size: int = Field(default=10, ge=1, le=1000)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    retry_after_seconds: int = Field(default=2, ge=0, le=600)  # Retry-After on async responses; 0 = omit
    limits: LimitsConfig = Field(default_factory=LimitsConfig)


class CosmosConfig(_Section):
    endpoint: str | None = None
    key: str | None = None
    database: str = "aro"
    verify: bool = True  # TLS verification of the endpoint
    ca_file: str | None = None  # CA bundle for the endpoint (local protocol servers)


class DatabaseMode(StrEnum):
    EMBEDDED = "embedded"
    COSMOS = "cosmos"


class DatabaseConfig(_Section):
    mode: DatabaseMode = DatabaseMode.EMBEDDED
    cosmos: CosmosConfig = Field(default_factory=CosmosConfig)


class CloudMode(StrEnum):
    SIMULATOR = "simulator"
    AZURE = "azure"


class FrontDoorConfig(_Section):
    """The simulator as ARM's front door: it forwards ``Microsoft.RedHatOpenShift`` requests to an RP."""

    endpoint: str | None = None  # the RP's URL; unset: `aro rp` links its own frontend, `aro simulator` none
    ca_file: str | None = None  # CA of the RP's serving certificate (default: the development CA, else system)
    cert_file: str | None = None  # ARM's client certificate (PEM) the front door presents (production RPs)
    key_file: str | None = None
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)  # ARM: 60 s, then 504 GatewayTimeout

    @model_validator(mode="after")
    def _pair(self) -> FrontDoorConfig:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cloud.simulator.frontDoor.certFile: needs cloud.simulator.frontDoor.keyFile")
        return self


_UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class NetworkChecks(StrEnum):
    ALL = "all"
    HELD = "held"
    OFF = "off"


class SimulatorConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8444, ge=0, le=65535)
    endpoint: str | None = None  # an external simulator; when unset `aro rp` hosts one itself
    ca_file: str | None = None  # CA of an external simulator (default: <dataDirectory>/certs/ca.crt)
    step_delay_seconds: float = Field(default=0.5, ge=0)
    token: str = "aro-simulator-token"
    faults: list[dict[str, Any]] = Field(default_factory=list)
    # The simulator's directory (`az login --service-principal -u {clientId} -p {token} --tenant {tenantId}`):
    # its tenant, the default subscription GET /subscriptions lists, the seeded principal's client id.
    tenant_id: str = Field(default="00000000-0000-0000-0000-000000000000", pattern=_UUID_PATTERN)
    subscription_id: str = Field(default="00000000-0000-0000-0000-000000000001", pattern=_UUID_PATTERN)
    client_id: str = Field(default="00000000-0000-0000-0000-0000000000c1", pattern=_UUID_PATTERN)
    front_door: FrontDoorConfig = Field(default_factory=FrontDoorConfig)
    # The CONNECT proxy for clients with a hard-wired https://management.azure.com (`az aro`): HTTPS_PROXY=
    # http://localhost:{proxyPort}; 0 = any free port; -1 = none.
    proxy_port: int = Field(default=8445, ge=-1, le=65535)
    # The install's network checks (vnet, subnets, NSGs: ARO-RP's dynamic validation) and the NSG attach:
    # all (as Azure: a vnet the simulator does not hold fails the install), held (the default: the vnets the
    # simulator holds are checked, one it does not hold -- the 2019-12-31-preview defaults name a vnet nobody
    # created -- is taken on trust), off. Azure mode always checks all.
    network_checks: NetworkChecks = NetworkChecks.HELD
    # Production mode refuses to host the simulator unless this is set (tests and drills of production's
    # client certificates only).
    hosted_in_production: bool = False


class AzureConfig(_Section):
    """``cloud.mode: azure``. The credential follows from which keys are set: ``clientSecret`` (with
    ``tenantId`` and ``clientId``) -> client secret; ``clientId`` alone -> that user-assigned managed
    identity; none -> ``DefaultAzureCredential`` (environment, workload identity, managed identity, CLI)."""

    arm_endpoint: str = "https://management.azure.com"
    arm_scope: str | None = None  # token audience; default: the known cloud's, else {armEndpoint}/.default
    authority: str = "https://login.microsoftonline.com"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    subscription_id: str | None = None
    ca_file: str | None = None  # extra CA bundle for ARM / Entra / blob endpoints (private or test clouds)
    cluster_domain: str = "aroapp.io"  # cluster API: https://api.{domain}.{location}.{clusterDomain}:6443
    cluster_endpoint_template: str | None = None  # overrides it: {base_url} {subscription_id} ...
    authorization_retry_seconds: float = Field(default=600.0, ge=0)
    authorization_retry_interval_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _credential_keys(self) -> AzureConfig:
        if self.client_secret and not (self.tenant_id and self.client_id):
            raise ValueError("cloud.azure.clientSecret: needs cloud.azure.tenantId and cloud.azure.clientId")
        return self


class BlobConfig(_Section):
    """Blob storage for the encrypted install graph; unset (the default) = not persisted."""

    account_url: str | None = None  # https://{account}.blob.core.windows.net (key or azure-identity auth)
    connection_string: str | None = None  # instead of accountUrl (+ accountKey)
    account_key: str | None = None  # shared key for accountUrl; unset: the RP's azure-identity credential
    container: str = Field(default="aro", min_length=3, max_length=63)

    @property
    def configured(self) -> bool:
        return bool(self.account_url or self.connection_string)


class CloudConfig(_Section):
    mode: CloudMode = CloudMode.SIMULATOR
    simulator: SimulatorConfig = Field(default_factory=SimulatorConfig)
    azure: AzureConfig = Field(default_factory=AzureConfig)
    blob: BlobConfig = Field(default_factory=BlobConfig)
    # The SDK's retries of a 408/429/5xx answer or a connection error (Retry-After honoured, else an
    # exponential backoff from this factor); what outlasts them is a temporary error: the step is re-queued.
    retry_total: int = Field(default=4, ge=0, le=20)
    retry_backoff_factor: float = Field(default=0.8, ge=0, le=60)
    # The Kubernetes API of the management cluster that runs hosted control planes (bearer token of the
    # cloud credential); unset: the simulator's in simulator mode, none in azure mode.
    management_cluster_url: str | None = None


class HcpConfig(_Section):
    """Hosted control planes."""

    versions_file: str | None = None  # the hcpOpenShiftVersions catalog (JSON); unset: the one shipped
    # Which control-plane metrics each hosted control plane exposes (HyperShift's METRICS_SET, matched
    # case-insensitively): Telemetry (the smallest) ⊂ SRE ⊂ All.
    metrics_set: str = Field(default="Telemetry", pattern=r"(?i)^(telemetry|sre|all)$")


class BackendConfig(_Section):
    workers: int = Field(default=200, ge=1, le=10000)
    lease_seconds: float = Field(default=30.0, gt=0)
    heartbeat_seconds: float | None = Field(default=None, gt=0)
    max_dequeues: int = Field(default=5, ge=1)
    poll_seconds: float = Field(default=1.0, gt=0)
    shutdown_seconds: float = Field(default=10.0, ge=0)
    retry_later_seconds: float = Field(default=60.0, gt=0)  # subscription cascade: wait for busy clusters
    condition_timeout_seconds: float = Field(default=1800.0, gt=0)  # e.g. waiting for the cluster API
    condition_poll_seconds: float = Field(default=0.5, gt=0)
    # How often the monitor looks at Succeeded resources between operations (a failed etcd member).
    monitor_seconds: float = Field(default=30.0, gt=0)
    # Operation deadlines (from the operation's start; ARO-HCP: create 60 min, delete 12 h); actions use
    # the update deadline. Past it the operation fails with OperationTimedOut.
    create_deadline_seconds: float = Field(default=3600.0, gt=0)
    update_deadline_seconds: float = Field(default=3600.0, gt=0)
    delete_deadline_seconds: float = Field(default=43200.0, gt=0)
    # A temporary error (429/5xx after the SDK's retries, unreachable) re-queues the step after this delay,
    # doubled per re-queue up to the maximum, while the deadline allows.
    retry_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)

    @property
    def heartbeat(self) -> float:
        return self.heartbeat_seconds if self.heartbeat_seconds is not None else self.lease_seconds / 6


class OidcConfig(_Section):
    """Production: the OIDC issuer whose JWTs the ledger (``/api/accounts_mgmt``) accepts, verified against its
    JWKS (``jwksUrl``, or the issuer's discovery document)."""

    issuer: str | None = None
    jwks_url: str | None = None
    audience: str | None = None
    ca_file: str | None = None  # extra CA bundle for the issuer's endpoints
    username_claim: str = "preferred_username"  # falls back to ``sub``
    organization_claim: str = "org_id"  # an organization id or an Azure tenant id; falls back to ``tid``
    groups_claim: str = "groups"


class LedgerConfig(_Section):
    """The account ledger: AMS-style subscriptions that follow every cluster (docs/ledger.md)."""

    # How often each cluster sends telemetry (written into the cluster at install), and when a subscription
    # whose telemetry stopped becomes Stale, then Archived; how often the backend looks for them.
    telemetry_seconds: float = Field(default=60.0, gt=0, le=86400)
    stale_after_seconds: float = Field(default=3600.0, gt=0)
    archive_after_seconds: float = Field(default=7 * 86400.0, gt=0)
    sweep_seconds: float = Field(default=30.0, gt=0)
    # Where clusters send telemetry (this RP's /api/telemetry/v1/upload, as the clusters reach it) and the CA
    # that verifies it; unset: the frontend's own address and (development) the generated CA.
    telemetry_url: str | None = None
    telemetry_ca_file: str | None = None
    # Capability labels every new organization gets (None: all of them; [] makes every capability opt-in).
    default_capabilities: list[str] | None = None
    # Groups whose members see and manage every organization's objects.
    sre_groups: list[str] = Field(default_factory=lambda: ["aro-sre"])
    # The tenant of a subscription registered without one (development auto-registration) and of
    # `aro login` without --organization.
    default_tenant_id: str = "00000000-0000-0000-0000-000000000000"
    token_seconds: int = Field(default=12 * 3600, ge=60, le=7 * 86400)  # development tokens (`aro login`)
    oidc: OidcConfig = Field(default_factory=OidcConfig)

    @model_validator(mode="after")
    def _order(self) -> LedgerConfig:
        if self.archive_after_seconds <= self.stale_after_seconds:
            raise ValueError("ledger.archiveAfterSeconds: must be longer than ledger.staleAfterSeconds")
        return self


class BackplaneConfig(_Section):
    """The SRE backplane: login through the RP's proxy, cloud console links, managed scripts and jobs
    (docs/backplane.md). Only members of ``ledger.sreGroups`` may use it."""

    enabled: bool = True
    # The managed-scripts catalog (<group>/<name>/metadata.yaml + the script); unset: the shipped one.
    scripts_directory: str | None = None
    # A managed job's pod: its deadline (the script is killed past it) and its limits.
    job_deadline_seconds: int = Field(default=600, ge=10, le=86400)
    job_cpu: str = "500m"
    job_memory: str = "512Mi"
    # Jobs of one cluster that may be Pending or Running at once (more are refused with 429).
    max_active_jobs_per_cluster: int = Field(default=10, ge=1, le=1000)
    # How long a finished job and its logs are kept; the bytes of a job's log that are kept.
    keep_jobs_seconds: int = Field(default=7 * 86400, ge=60)
    max_log_bytes: int = Field(default=10 * 2**20, ge=4096, le=256 * 2**20)
    # The cloud console link's lifetime (backplane sessions: at most an hour).
    console_link_seconds: int = Field(default=900, ge=60, le=3600)
    # The longest one proxied request may stream (a watch, logs -f).
    proxy_max_seconds: float = Field(default=3600.0, gt=0, le=86400)


class SecretsConfig(_Section):
    key_file: str | None = None  # 32-byte AEAD key; generated into dataDirectory when unset


class Config(_Section):
    mode: Mode = Mode.DEVELOPMENT
    data_directory: str = "./.aro"
    location: str = Field(default="eastus", min_length=1)
    log_level: str = "info"
    frontend: FrontendConfig = Field(default_factory=FrontendConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    cloud: CloudConfig = Field(default_factory=CloudConfig)
    backend: BackendConfig = Field(default_factory=BackendConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    hcp: HcpConfig = Field(default_factory=HcpConfig)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    backplane: BackplaneConfig = Field(default_factory=BackplaneConfig)

    @model_validator(mode="after")
    def _mode_rules(self) -> Config:
        if self.mode is Mode.DEVELOPMENT and not _is_loopback(self.frontend.host):
            raise ValueError(
                "frontend.host: development mode serves loopback addresses only "
                f"(got {self.frontend.host!r}); use mode: production to listen elsewhere"
            )
        if self.mode is Mode.PRODUCTION:
            tls = self.frontend.tls
            for name in ("cert_file", "key_file", "ca_file"):
                if not getattr(tls, name):
                    raise ValueError(
                        f"frontend.tls.{to_camel(name)}: production mode requires TLS certificates and a client CA"
                    )
            auth = self.frontend.auth
            for name in ("arm_client_subject", "admin_client_subject"):
                if not getattr(auth, name):  # else it would start, report healthy, and answer 403 to all
                    raise ValueError(
                        f"frontend.auth.{to_camel(name)}: production mode requires the client certificate "
                        "subject it accepts"
                    )
        sim = self.cloud.simulator
        hosted = self.cloud.mode is CloudMode.SIMULATOR and not sim.endpoint
        if self.mode is Mode.PRODUCTION and hosted and not sim.hosted_in_production:
            raise ValueError(
                "cloud.mode: production mode does not host the cloud simulator (its token is a default and it "
                "exposes fault injection): use cloud.mode azure, an external cloud.simulator.endpoint, or "
                "cloud.simulator.hostedInProduction for tests"
            )
        if hosted and not _is_loopback(sim.host):
            raise ValueError(
                f"cloud.simulator.host: the hosted simulator serves loopback addresses only (got {sim.host!r}): "
                "its token is a default and it exposes fault injection"
            )
        if self.backend.heartbeat >= self.backend.lease_seconds:
            raise ValueError("backend.heartbeatSeconds: must be shorter than backend.leaseSeconds")
        return self

    @property
    def data_path(self) -> Path:
        return Path(self.data_directory).expanduser()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- key <-> environment variable -------------------------------------------------------------------


def env_name(path: tuple[str, ...]) -> str:
    """('backend', 'leaseSeconds') -> ARO_BACKEND_LEASE_SECONDS."""
    parts = [re.sub(r"(?<!^)(?=[A-Z])", "_", p).upper() for p in path]
    return ENV_PREFIX + "_".join(parts)


def _leaf_keys(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], bool]]:
    """Yield (key, structured) for every leaf; structured leaves (lists, maps) are YAML in the env."""
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name,)
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _leaf_keys(ann, key)
        else:
            yield key, _structured(ann)


def _structured(ann: Any) -> bool:
    """A list or a map (also optional: ``list[str] | None``): YAML in the environment."""
    if get_origin(ann) in (list, dict):
        return True
    return any(get_origin(a) in (list, dict) for a in get_args(ann))


def all_keys() -> list[tuple[str, ...]]:
    return [k for k, _ in _leaf_keys(Config)]


def _env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    known = {env_name(k): (k, structured) for k, structured in _leaf_keys(Config)}
    sections = {env_name((k[0],)) + "_" for k in all_keys() if len(k) > 1}
    out: dict[str, Any] = {}
    for var, raw in environ.items():
        if var == CONFIG_ENV or not var.startswith(ENV_PREFIX):
            continue
        entry = known.get(var)
        if entry is None:
            if any(var.startswith(s) for s in sections):
                raise ConfigError(f"{var}: unknown configuration variable (see env.example)")
            continue
        key, structured = entry
        if not structured:
            _set(out, key, raw)
            continue
        try:
            _set(out, key, yaml.safe_load(raw) if raw.strip() else [])
        except yaml.YAMLError:
            raise ConfigError(f"{var}: not valid YAML/JSON") from None
    return out


def _set(tree: dict[str, Any], key: tuple[str, ...], value: Any) -> None:
    for part in key[:-1]:
        tree = tree.setdefault(part, {})
        if not isinstance(tree, dict):
            raise ConfigError(f"{'.'.join(key)}: conflicts with a scalar value")
    tree[key[-1]] = value


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    loc = ".".join(str(p) for p in e["loc"])
    msg = str(e["msg"])
    if e["type"] == "extra_forbidden":
        return f"{loc}: unknown configuration key"
    if e["type"] == "value_error":
        # our own validators put the key in the message already
        text = msg.removeprefix("Value error, ")
        return text if ":" in text.split(" ")[0] else f"{loc or 'config'}: {text}"
    return f"{loc}: {msg} (got {e.get('input')!r})"


def load(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Load the configuration: file (``path`` or $ARO_CONFIG) < environment < ``overrides``.

    ``overrides`` uses dotted keys (``{"frontend.port": 9443}``); None values are skipped.
    """
    environ = os.environ if environ is None else environ
    path = path or environ.get(CONFIG_ENV) or None
    tree: dict[str, Any] = {}
    if path:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise ConfigError(f"config file {path}: {e.strerror}") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {path}: not valid YAML ({e.__class__.__name__})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path}: must be a mapping of keys")
        tree = data
    tree = _merge(tree, _env_layer(environ))
    for dotted, value in (overrides or {}).items():
        if value is not None:
            over: dict[str, Any] = {}
            _set(over, tuple(dotted.split(".")), value)
            tree = _merge(tree, over)
    try:
        return Config.model_validate(tree)
    except ValidationError as e:
        raise ConfigError(_first_error(e)) from None
