"""Process composition: what `aro rp`, `aro frontend`, `aro backend` and `aro simulator` start, and
the order in which they stop (frontend first: no new work; then the backend: running steps reach a
boundary and leases are released; then the cloud simulator and the store). The resource kinds served
come from ``aro.kinds.registry()``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aro.admin.inspect import Inspector
from aro.api.registry import default_catalogs
from aro.backend.backplanejobs import BackplaneJobs
from aro.backend.cascade import Cascades
from aro.backend.ledger import LedgerSweeper
from aro.backend.monitor import Monitor
from aro.backend.operations import OperationBackend, OperationSettings
from aro.backend.pool import Handler, WorkerPool
from aro.backend.subscriptions import SubscriptionBackend
from aro.backplane.scripts import Catalog, CatalogError, load_catalog, shipped_directory
from aro.backplane.service import Backplane, BackplaneSettings
from aro.backplane.target import ClusterAccess, Targets
from aro.cloud.azure import AzureCloud, azure_cloud, graph_store_for, snapshot_store_for
from aro.cloud.base import Cloud
from aro.cloud.credentials import StaticTokenCredential
from aro.cloud.simulator import PROXY_HOSTS, CloudProxy, FrontDoorConfig, SimulatorApp, SimulatorConfig
from aro.cloud.simulator import create_app as create_simulator
from aro.cloud.simulator.server import SimulatorServer
from aro.cluster.access import ClassicAccess
from aro.database import Store
from aro.database.codec import codecs_for
from aro.database.containers import BACKPLANE_JOBS, SUBSCRIPTIONS, containers_for
from aro.env.config import CloudMode, Config, ConfigError, DatabaseMode, Mode
from aro.frontend.app import close_app, create_app
from aro.frontend.services import Readiness, Services
from aro.hcp.access import HostedAccess
from aro.hcp.metrics import MetricsSet
from aro.kinds import Registry, registry
from aro.ledger.identity import ClaimNames, DevelopmentIssuer, Identity, OidcVerifier
from aro.ledger.service import Ledger, LedgerSettings
from aro.ledger.telemetry import UPLOAD_PATH
from aro.steps import StepEnv, Timeouts
from aro.util.connbounds import ConnectionLimits
from aro.util.crypto import Sealer, load_or_create_key
from aro.util.metrics import Metrics
from aro.util.pki import KeyPair, ensure_dev_serving_cert, issue
from aro.util.private import private_files
from aro.util.serve import HTTPSServer, TLSFiles

log = logging.getLogger("aro.run")


@dataclass
class Inherited:
    """What a process `aro rp`'s supervisor (``aro.supervisor``) forks gets from it: the listening sockets it
    bound, its end of the wake-up channel (frontends send a datagram per claimable write, the backend
    receives them: pickup across processes in milliseconds), and whom to tell it is ready."""

    frontend: socket.socket | None = None
    simulator: socket.socket | None = None
    proxy: socket.socket | None = None
    wake: socket.socket | None = None
    ready: Callable[[dict[str, Any]], None] | None = None

    def announce(self, fields: dict[str, Any]) -> None:
        """Log "ready" (unsupervised) or "process ready" and tell the supervisor (which says "ready")."""
        if self.ready is None:
            log.info("ready", extra=fields)
            return
        log.info("process ready", extra=fields)
        self.ready(fields)


def warm_cloud_imports() -> None:
    """The ARM client's modules (``aro.cloud.arm`` imports them on its first call), imported once the process
    is ready rather than on the first install, which would wait ~0.15 s for them."""
    import aiohttp  # noqa: F401
    from azure.mgmt.core.polling.async_arm_polling import AsyncARMPolling  # noqa: F401
    from azure.mgmt.resource.resources.aio import ResourceManagementClient  # noqa: F401


def wake_sender(sock: socket.socket) -> Callable[[str], None]:
    """A claimable write in this process: one datagram to the backend (dropped when its buffer is full --
    it is awake then anyway)."""

    def send(container: str) -> None:
        with contextlib.suppress(OSError):
            sock.send(container.encode()[:200])

    return send


def wake_receiver(sock: socket.socket, store: Store) -> Callable[[], Awaitable[None]]:
    """Wake this process's pool (its claimable-write listeners) on each datagram; returns the undo (for the
    process's closing list)."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)

    def readable() -> None:
        while True:
            try:
                data = sock.recv(256)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                loop.remove_reader(sock.fileno())
                return
            store.notify(data.decode(errors="replace"))

    loop.add_reader(sock.fileno(), readable)

    async def undo() -> None:
        loop.remove_reader(sock.fileno())

    return undo


async def open_store(config: Config, served: Registry | None = None) -> Store:
    """Open the store the configuration names, with the containers of the kinds served: the SQLite file
    (created when absent) or Cosmos DB (database and containers created when absent in development mode,
    only verified in production mode)."""
    containers = containers_for((served or registry()).kinds)
    if config.database.mode is DatabaseMode.EMBEDDED:
        from aro.database.sqlite import SQLiteStore

        return await SQLiteStore(config.data_path / "aro.db", containers).open()
    from aro.database.cosmos import CosmosStore

    cosmos = config.database.cosmos
    if not cosmos.endpoint:
        raise ConfigError("database.cosmos.endpoint: required when database.mode is cosmos")
    return await CosmosStore(
        cosmos.endpoint,
        containers,
        database=cosmos.database,
        key=cosmos.key or None,
        verify=cosmos.verify,
        ca_file=cosmos.ca_file or None,
        create=config.mode is Mode.DEVELOPMENT,
    ).open()


def sealer_for(config: Config) -> Sealer:
    """The AEAD key for secrets at rest and sealed tokens (shared by every process of one RP)."""
    path = Path(config.secrets.key_file) if config.secrets.key_file else config.data_path / "secret.key"
    return Sealer(load_or_create_key(path))


def frontend_tls(config: Config) -> TLSFiles:
    """The configured certificates; in development mode generated into <dataDirectory>/certs."""
    tls = config.frontend.tls
    if tls.cert_file and tls.key_file:
        return TLSFiles(tls.cert_file, tls.key_file, tls.ca_file, require_client_cert=config.mode is Mode.PRODUCTION)
    files = ensure_dev_serving_cert(config.data_path / "certs")
    return TLSFiles(str(files.cert_file), str(files.key_file), str(files.ca_file))


def front_door_config(config: Config) -> FrontDoorConfig:
    """The simulator's routing of Microsoft.RedHatOpenShift to an RP: ``cloud.simulator.frontDoor``, the RP's
    CA defaulting to the development CA while the frontend serves the generated certificate."""
    fd = config.cloud.simulator.front_door
    ca = fd.ca_file
    if ca is None and not config.frontend.tls.cert_file:
        ca = str(ensure_dev_serving_cert(config.data_path / "certs").ca_file)
    return FrontDoorConfig(fd.endpoint, ca, fd.cert_file, fd.key_file, fd.timeout_seconds)


def simulator_app(config: Config) -> SimulatorApp:
    sim = config.cloud.simulator
    return create_simulator(
        SimulatorConfig(
            config.data_path / "simulator",
            token=sim.token,
            step_delay_seconds=sim.step_delay_seconds,
            faults=sim.faults,
            anonymous_node_reads=False,  # the RP lists nodes with the cluster's admin credential
            front_door=front_door_config(config),
            tenant_id=sim.tenant_id,
            subscription_ids=(sim.subscription_id,),
            client_id=sim.client_id,
        )
    )


def simulator_directory(config: Config) -> dict[str, str]:
    """Who the hosted simulator's clients are (the "ready" log line's fields)."""
    sim = config.cloud.simulator
    return {"tenantId": sim.tenant_id, "subscriptionId": sim.subscription_id, "clientId": sim.client_id}


def az_login_hint(config: Config, simulator_url: str) -> str:
    """The commands that point the Azure CLI at the simulator, for a person to copy (the default token is shown,
    any other is not: it is a secret)."""
    sim = config.cloud.simulator
    default = type(sim).model_fields["token"].default
    secret = sim.token if sim.token == default else "<cloud.simulator.token>"
    ca = config.data_path / "certs" / "ca.crt"
    return (
        f"az CLI: export AZURE_CORE_INSTANCE_DISCOVERY=false REQUESTS_CA_BUNDLE={ca}; "
        f"az cloud register -n AroSimulator --endpoint-resource-manager {simulator_url}/ && "
        f"az cloud set -n AroSimulator && az login --service-principal -u {sim.client_id} -p {secret} "
        f"--tenant {sim.tenant_id}  (subscription {sim.subscription_id}); `az aro` calls management.azure.com "
        f"whatever cloud is set: give it HTTPS_PROXY=<the ready line's proxy> NO_PROXY=localhost,127.0.0.1"
    )


def simulator_server(
    config: Config, app: SimulatorApp | None = None, sock: socket.socket | None = None
) -> SimulatorServer:
    sim = config.cloud.simulator
    certs = ensure_dev_serving_cert(config.data_path / "certs")
    app = app if app is not None else simulator_app(config)
    return SimulatorServer(
        app, cert_file=certs.cert_file, key_file=certs.key_file, host=sim.host, port=sim.port, sock=sock
    )


async def start_cloud_proxy(
    config: Config, app: SimulatorApp, server: SimulatorServer, sock: socket.socket | None = None
) -> CloudProxy | None:
    """The simulator's CONNECT proxy (``cloud.simulator.proxyPort``; -1: none) for clients that call
    ``https://management.azure.com`` whatever cloud is set: the simulator presents a certificate for that
    name from the development CA (chosen by SNI) at the other end of each tunnel."""
    sim = config.cloud.simulator
    if sim.proxy_port < 0:
        return None
    certs = ensure_dev_serving_cert(config.data_path / "certs")
    ca = KeyPair(certs.ca_file.read_text(), (config.data_path / "certs" / "ca.key").read_text())
    public = issue(ca, sorted(PROXY_HOSTS)[0], dns_names=tuple(sorted(PROXY_HOSTS)))
    app.serving_certs.put(public.cert_pem + ca.cert_pem, public.key_pem)
    upstream = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(sim.host, sim.host)
    proxy = CloudProxy((upstream, server.port), host=sim.host, port=sim.proxy_port, sock=sock)
    await proxy.start()
    return proxy


def link_front_door(config: Config, app: SimulatorApp, frontend_port: int) -> None:
    """The hosted simulator forwards Microsoft.RedHatOpenShift to this RP's frontend (once it listens), unless
    ``cloud.simulator.frontDoor.endpoint`` names another."""
    fd = front_door_config(config)
    url = fd.endpoint or f"https://localhost:{frontend_port}"
    ca = Path(fd.ca_file).read_text() if fd.ca_file else None
    app.front_door.link(url, ca, (fd.cert_file, fd.key_file) if fd.cert_file and fd.key_file else None)


def make_cloud(config: Config, simulator_url: str | None) -> Cloud:
    """The one ``ArmCloud`` implementation; the modes differ in endpoint and credential only. Either mode
    carries the install-graph blob store when ``cloud.blob`` is configured."""
    sealer = sealer_for(config)
    if config.cloud.mode is CloudMode.SIMULATOR:
        sim = config.cloud.simulator
        url = simulator_url or sim.endpoint
        if not url:
            raise ConfigError(
                "cloud.simulator.endpoint: a backend without a hosted simulator needs the simulator's URL "
                "(`aro simulator` or `aro rp` hosts one)"
            )
        ca = sim.ca_file or str(config.data_path / "certs" / "ca.crt")
        graph = graph_store_for(config, sealer)
        return AzureCloud(
            url,
            StaticTokenCredential(sim.token),
            ca,
            polling_interval=0.05,
            retry_total=config.cloud.retry_total,
            retry_backoff_factor=config.cloud.retry_backoff_factor,
            management_url=config.cloud.management_cluster_url,
            graph_store=graph,
            snapshot_store=snapshot_store_for(config, sealer),
            network_checks=sim.network_checks.value,
        )
    return azure_cloud(config, sealer)


def ledger_for(config: Config, store: Store, sealer: Sealer) -> Ledger:
    """The account ledger over the store. Clusters send telemetry to ``ledger.telemetryUrl``, verified with
    ``ledger.telemetryCaFile``; unset, in development, to this RP's frontend (``set_frontend_port`` corrects
    the port once it is bound), verified by the generated CA; in production only to a configured URL."""
    c = config.ledger
    ca = ""
    if c.telemetry_ca_file:
        try:
            ca = Path(c.telemetry_ca_file).read_text()
        except OSError as e:
            raise ConfigError(f"ledger.telemetryCaFile: {e.strerror}") from None
    elif config.mode is Mode.DEVELOPMENT and not c.telemetry_url and not config.frontend.tls.cert_file:
        ca = ensure_dev_serving_cert(config.data_path / "certs").ca_file.read_text()
    url = c.telemetry_url
    if url is None and config.mode is Mode.DEVELOPMENT:
        url = f"https://localhost:{config.frontend.port}{UPLOAD_PATH}"
    settings = LedgerSettings(
        telemetry_seconds=c.telemetry_seconds,
        stale_after_seconds=c.stale_after_seconds,
        archive_after_seconds=c.archive_after_seconds,
        sweep_seconds=c.sweep_seconds,
        telemetry_url=url,
        telemetry_ca=ca,
        default_tenant_id=c.default_tenant_id,
    )
    if c.default_capabilities is not None:
        settings.default_capabilities = tuple(c.default_capabilities)
    return Ledger(store, sealer, settings)


def set_frontend_port(config: Config, ledger: Ledger, port: int) -> None:
    if config.ledger.telemetry_url is None and ledger.settings.telemetry_url:
        ledger.settings.telemetry_url = f"https://localhost:{port}{UPLOAD_PATH}"


def identity_for(config: Config, ledger: Ledger, sealer: Sealer) -> tuple[Identity, DevelopmentIssuer | None]:
    """Who may call the ledger: in development tokens this RP issues (`aro login`), in production those of
    ``ledger.oidc.issuer`` (none configured: every ledger request is 401, saying so)."""
    oidc = config.ledger.oidc
    names = ClaimNames(oidc.username_claim, oidc.organization_claim, oidc.groups_claim)
    if config.mode is Mode.DEVELOPMENT:
        issuer = DevelopmentIssuer(sealer.derive("ledger-token"), config.ledger.token_seconds)
        return Identity(issuer, ledger.organizations, config.ledger.sre_groups, names, accounts=ledger.accounts), issuer
    if not oidc.issuer:
        log.warning("ledger.oidc.issuer is not set: the account ledger's API refuses every request")
        reason = "This RP has no token issuer configured (ledger.oidc.issuer)"
        return Identity(None, ledger.organizations, config.ledger.sre_groups, names, reason, ledger.accounts), None
    verifier = OidcVerifier(oidc.issuer, oidc.audience, oidc.jwks_url, oidc.ca_file)
    return Identity(verifier, ledger.organizations, config.ledger.sre_groups, names, accounts=ledger.accounts), None


def make_inspector(
    config: Config, store: Store, served: Registry, codecs: Mapping[str, Any], cloud: Cloud, sim_url: str | None
) -> Inspector:
    """The admin API's inspector; in simulator mode it reads the simulator's request log too."""
    simulator = None
    if config.cloud.mode is CloudMode.SIMULATOR and sim_url:
        ca = config.cloud.simulator.ca_file or str(config.data_path / "certs" / "ca.crt")
        simulator = httpx.AsyncClient(
            base_url=sim_url,
            headers={"Authorization": f"Bearer {config.cloud.simulator.token}"},
            verify=ssl.create_default_context(cafile=ca),
            timeout=30,
        )
    return Inspector(store, served.kinds, codecs, cloud, MetricsSet.parse(config.hcp.metrics_set), simulator)


def scripts_catalog(config: Config) -> Catalog:
    """The managed-scripts catalog (``backplane.scriptsDirectory``, else the shipped one), validated: an
    invalid one stops the process with a ``ConfigError`` naming the file and the field."""
    directory = config.backplane.scripts_directory
    try:
        return load_catalog(Path(directory) if directory else shipped_directory())
    except CatalogError as e:
        raise ConfigError(f"backplane.scriptsDirectory: {e}") from None


def backplane_for(
    config: Config, store: Store, codecs: Mapping[str, Any], cloud: Cloud | None, catalog: Catalog | None = None
) -> Backplane | None:
    """The SRE backplane of a process (None when ``backplane.enabled`` is off): both cluster kinds' access
    (a hosted cluster's API needs the cloud: without one, hosted clusters can be logged in to but not
    proxied) and, with a cloud, its console links."""
    b = config.backplane
    if not b.enabled:
        return None
    access: dict[str, ClusterAccess] = {}
    if "openShiftClusters" in codecs:
        access["openshiftclusters"] = ClassicAccess(store, codecs["openShiftClusters"])
    if "hcpOpenShiftClusters" in codecs:
        access["hcpopenshiftclusters"] = HostedAccess(store, codecs["hcpOpenShiftClusters"], cloud)
    settings = BackplaneSettings(
        job_deadline_seconds=b.job_deadline_seconds,
        job_cpu=b.job_cpu,
        job_memory=b.job_memory,
        max_active_jobs_per_cluster=b.max_active_jobs_per_cluster,
        keep_jobs_seconds=b.keep_jobs_seconds,
        max_log_bytes=b.max_log_bytes,
        console_link_seconds=b.console_link_seconds,
        proxy_max_seconds=b.proxy_max_seconds,
    )
    console_link = cloud.console_link if cloud is not None else None
    scripts = catalog if catalog is not None else scripts_catalog(config)
    return Backplane(Targets(store, access), settings, console_link=console_link, catalog=scripts)


def connection_limits(config: Config) -> ConnectionLimits:
    lim = config.frontend.limits
    return ConnectionLimits(
        handshake_seconds=lim.handshake_seconds,
        header_seconds=lim.header_seconds,
        body_seconds=lim.body_seconds,
        idle_seconds=lim.idle_seconds,
        max_connections=lim.max_connections,
        max_header_bytes=lim.max_header_bytes,
        max_headers=lim.max_headers,
    )


async def stop_together(stops: Sequence[Awaitable[None]], seconds: float) -> None:
    """Run the stops concurrently; past ``seconds`` cancel what is left (said in the log)."""
    tasks = [asyncio.ensure_future(s) for s in stops]
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=seconds)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.wait(pending)
        log.warning("stop: cancelled after %.1f s", seconds, extra={"pending": len(pending)})
    for t in done:
        if not t.cancelled() and t.exception() is not None:
            log.error("stop failed", exc_info=t.exception())


def stop_signals() -> Callable[[], Awaitable[None]]:
    """Catch SIGTERM/SIGINT from now on (before the process says it is ready: a supervisor may stop it at
    once); the returned ``wait()`` returns when one came."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def wait() -> None:
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    return wait


def catalogs_for(config: Config) -> dict[str, Sequence[Any]]:
    try:
        return default_catalogs(config.hcp.versions_file)
    except (OSError, ValueError) as e:
        raise ConfigError(f"hcp.versionsFile: {e}") from None


def make_pool(
    config: Config,
    store: Store,
    sealer: Sealer,
    cloud: Cloud,
    metrics: Metrics,
    served: Registry,
    catalogs: Mapping[str, Sequence[Any]] | None = None,
    ledger: Ledger | None = None,
    backplane: Backplane | None = None,
) -> tuple[WorkerPool, Monitor]:
    """The worker pool (one operation backend per kind, its workflow, and the subscription cascade) and
    the monitor that starts repairs between operations."""
    b = config.backend
    codecs = codecs_for(served.kinds, sealer)
    env = StepEnv(
        store,
        cloud,
        Timeouts(b.condition_timeout_seconds, b.condition_poll_seconds),
        catalogs if catalogs is not None else catalogs_for(config),
        codecs,
        ledger if ledger is not None else ledger_for(config, store, sealer),
    )
    settings = OperationSettings.of(b)
    handlers = [
        Handler(
            w.kind.container_name,
            OperationBackend(w, served.kinds, store, env, codecs, settings, config.location, metrics).handle,
        )
        for w in served.workflows
    ]
    cascades = Cascades(store, served.kinds, codecs, config.location)
    handlers.append(Handler(SUBSCRIPTIONS.name, SubscriptionBackend(cascades, b.retry_later_seconds).handle))
    if backplane is not None:  # managed jobs
        handlers.append(Handler(BACKPLANE_JOBS.name, BackplaneJobs(backplane.targets, b.max_dequeues).handle))
    monitor = Monitor(store, served.workflows, codecs, cascades, env, b.monitor_seconds)
    return WorkerPool(store, b, handlers, metrics), monitor


async def run_rp(
    config: Config, *, frontend: bool = True, backend: bool = True, inherited: Inherited | None = None
) -> None:
    """Run until SIGTERM/SIGINT, then stop cleanly. ``inherited``: what the supervisor gave this process."""
    started = time.monotonic()
    inherited = inherited or Inherited()
    private_files(config.data_path)
    served = registry()
    catalogs = catalogs_for(config)
    scripts = scripts_catalog(config) if config.backplane.enabled else Catalog()
    sealer = sealer_for(config)
    store: Store = await open_store(config, served)
    ledger = ledger_for(config, store, sealer)
    readiness = Readiness(store_open=True, backend_polling=not backend)
    metrics = Metrics()
    server: HTTPSServer | None = None
    simulator: SimulatorServer | None = None
    sim_app: SimulatorApp | None = None
    proxy: CloudProxy | None = None
    cloud: Cloud | None = None
    pool: WorkerPool | None = None
    closing: list[Callable[[], Awaitable[None]]] = []
    try:
        if backend:
            if config.cloud.mode is CloudMode.SIMULATOR and not config.cloud.simulator.endpoint and frontend:
                sim_app = simulator_app(config)
                simulator = simulator_server(config, sim_app, inherited.simulator)
                await simulator.start()
                proxy = await start_cloud_proxy(config, sim_app, simulator, inherited.proxy)
                if proxy is not None:
                    closing.append(proxy.stop)
            cloud = make_cloud(config, simulator.base_url if simulator else None)
            jobs = backplane_for(config, store, codecs_for(served.kinds, sealer), cloud, scripts)
            pool, monitor = make_pool(config, store, sealer, cloud, metrics, served, catalogs, ledger, jobs)
            sweeper = LedgerSweeper(ledger)
            if inherited.wake is not None:
                closing.append(wake_receiver(inherited.wake, store))
            await pool.start()
            await monitor.start()
            await sweeper.start()
            closing += [monitor.stop, sweeper.stop]
        if frontend:
            if cloud is None:  # `aro frontend`: a cloud client for the admin API's inspector, if configured
                with contextlib.suppress(ConfigError):
                    cloud = make_cloud(config, None)
            codecs = codecs_for(served.kinds, sealer)
            identity, token_issuer = identity_for(config, ledger, sealer)
            if isinstance(identity.verifier, OidcVerifier):
                closing.append(identity.verifier.close)
            inspector = None
            if cloud is not None:
                sim_url = simulator.base_url if simulator else config.cloud.simulator.endpoint
                inspector = make_inspector(config, store, served, codecs, cloud, sim_url)
                closing.append(inspector.close)
            services = Services(
                config=config,
                store=store,
                sealer=sealer,
                kinds=served.kinds,
                catalogs=catalogs,
                metrics=metrics,
                readiness=readiness,
                codecs=codecs,
                inspector=inspector,
                ledger=ledger,
                identity=identity,
                token_issuer=token_issuer,
                backplane=backplane_for(config, store, codecs, cloud, scripts),
            )
            app = create_app(services)
            closing.append(lambda: close_app(app))
            server = HTTPSServer(
                app,
                config.frontend.host,
                config.frontend.port,
                frontend_tls(config),
                limits=connection_limits(config),
                drain_seconds=config.backend.shutdown_seconds,
                sock=inherited.frontend,
            )
            if inherited.wake is not None and not backend:
                store.on_claimable(wake_sender(inherited.wake))
            await server.start()
            set_frontend_port(config, ledger, server.port)
            if sim_app is not None:  # the simulator becomes ARM's front door for this RP
                link_front_door(config, sim_app, server.port)
        if pool is not None:
            await pool.polling.wait()
        readiness.backend_polling = True
        stopped = stop_signals()
        inherited.announce(
            {
                "listen": f"https://{config.frontend.host}:{server.port}" if server else None,
                "simulator": simulator.base_url if simulator else None,
                "proxy": proxy.url if proxy else None,
                "startSeconds": round(time.monotonic() - started, 3),
                "mode": config.mode.value,
                **(simulator_directory(config) if simulator else {}),
            }
        )
        if simulator is not None:
            log.info(az_login_hint(config, simulator.base_url))
        if backend:
            warm_cloud_imports()
        await stopped()
        log.info("shutting down")
    finally:
        # The frontend drains while the backend's steps reach a boundary; then the rest, in order (the
        # simulator last but the store: the backend's steps use it while they stop). All within
        # backend.shutdownSeconds + 1 s; the store is closed whatever happened before.
        deadline = time.monotonic() + config.backend.shutdown_seconds + 1
        await stop_together([s.stop() for s in (server, pool) if s is not None], config.backend.shutdown_seconds + 0.5)

        async def close_rest() -> None:
            for close in closing:
                await close()
            if cloud is not None:
                await cloud.close()
            if simulator is not None:
                await simulator.stop()

        await stop_together([close_rest()], max(0.1, deadline - time.monotonic()))
        await store.close()
    log.info("stopped")


async def run_simulator(config: Config, inherited: Inherited | None = None, frontend_port: int | None = None) -> None:
    """`aro simulator`: the cloud simulator alone (for several backend processes to share). Supervised by
    `aro rp`, it is ARM's front door for that RP's frontend (``frontend_port``)."""
    inherited = inherited or Inherited()
    private_files(config.data_path)
    app = simulator_app(config)
    server = simulator_server(config, app, inherited.simulator)
    await server.start()
    proxy = await start_cloud_proxy(config, app, server, inherited.proxy)
    if frontend_port is not None:
        link_front_door(config, app, frontend_port)
    extra = {"simulator": server.base_url, "proxy": proxy.url if proxy else None, **simulator_directory(config)}
    if inherited.ready is not None:  # the supervisor's "ready" line is followed by the hint
        extra["azLogin"] = az_login_hint(config, server.base_url)
    stopped = stop_signals()
    inherited.announce(extra)
    if inherited.ready is None:
        log.info(az_login_hint(config, server.base_url))
    with contextlib.suppress(asyncio.CancelledError):
        await stopped()
    if proxy is not None:
        await proxy.stop()
    await server.stop()
    log.info("stopped")
