"""Every connection is bounded (issue 15, items 1, 2 and 8): a TLS handshake that never starts, a connection
that never sends a request, a trickled request head, a body that stops, an idle keep-alive connection, one
connection over the cap, a header section too large or with too many fields -- against `aro rp` with short
configured timeouts, and the simulator's server in-process; and SIGTERM does not wait for idle clients nor
answer a request cut mid-body with a 500."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aro.cloud.simulator import SimulatorConfig, create_app
from aro.cloud.simulator._tls import ensure_tls
from aro.cloud.simulator.server import SimulatorServer
from aro.util.connbounds import ConnectionLimits
from tests.conftest import RPProcess, free_port
from tests.security.slowclients import (
    GET_READY,
    PUT_SUBSCRIPTION,
    read_response,
    status_of,
    tls_connect,
    until_closed,
)

HANDSHAKE, HEADER, BODY, IDLE, CAP = 1.0, 1.0, 1.0, 2.0, 10
LIMITS = {
    "ARO_FRONTEND_LIMITS_HANDSHAKE_SECONDS": str(HANDSHAKE),
    "ARO_FRONTEND_LIMITS_HEADER_SECONDS": str(HEADER),
    "ARO_FRONTEND_LIMITS_BODY_SECONDS": str(BODY),
    "ARO_FRONTEND_LIMITS_IDLE_SECONDS": str(IDLE),
    "ARO_FRONTEND_LIMITS_MAX_CONNECTIONS": str(CAP),
}
SLACK = 1.5  # a loaded test machine: the close comes at the timeout, plus at most this


@pytest.fixture(scope="module")
def rp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RPProcess]:
    p = RPProcess(tmp_path_factory.mktemp("bounds") / "data", free_port(), "rp", env=LIMITS)
    p.start()
    yield p
    p.kill()


def error_body(response: bytes) -> dict[str, str]:
    body = json.loads(response.split(b"\r\n\r\n", 1)[1])
    assert set(body) == {"error"}, body
    return dict(body["error"])


def test_handshake_never_started_is_closed_within_the_handshake_timeout(rp: RPProcess) -> None:
    sock = socket.create_connection(("127.0.0.1", rp.port))
    with sock:
        elapsed, data = until_closed(sock, HANDSHAKE + SLACK + 3)
    assert data == b"" and elapsed < HANDSHAKE + SLACK, elapsed


def test_connection_without_a_request_is_closed_within_the_header_timeout(rp: RPProcess) -> None:
    with tls_connect(rp.port, rp.ca_file) as sock:
        elapsed, data = until_closed(sock, HEADER + SLACK + 3)
    assert data == b"" and HEADER - 0.2 < elapsed < HEADER + SLACK, elapsed


def test_idle_keep_alive_connection_is_closed_after_the_idle_timeout(rp: RPProcess) -> None:
    with tls_connect(rp.port, rp.ca_file) as sock:
        sock.sendall(GET_READY)
        assert status_of(read_response(sock)) == 200
        elapsed, data = until_closed(sock, IDLE + SLACK + 3)
    assert data == b"" and IDLE - 0.2 < elapsed < IDLE + SLACK, elapsed


def test_trickled_request_head_is_answered_408_within_the_header_timeout(rp: RPProcess) -> None:
    head = GET_READY[:-2] + b"X-Slow: " + b"a" * 100 + b"\r\n\r\n"
    with tls_connect(rp.port, rp.ca_file) as sock:
        started = time.monotonic()
        sock.settimeout(0.1)
        response = b""
        for byte in head[:-4]:  # never complete
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            try:
                response = sock.recv(65536)
                break
            except TimeoutError:
                continue
        _, rest = until_closed(sock, 3)
    took = time.monotonic() - started
    response += rest
    assert status_of(response) == 408 and error_body(response)["code"] == "RequestTimeout", response
    assert took < HEADER + SLACK, took


def test_body_that_stops_is_answered_408_within_the_body_timeout(rp: RPProcess) -> None:
    with tls_connect(rp.port, rp.ca_file) as sock:
        sock.sendall(PUT_SUBSCRIPTION)
        elapsed, response = until_closed(sock, BODY + SLACK + 3)
    assert status_of(response) == 408 and error_body(response)["code"] == "RequestTimeout", response
    assert BODY - 0.2 < elapsed < BODY + SLACK, elapsed
    assert "Exception in ASGI application" not in rp.log()


def test_connection_over_the_cap_is_closed_at_once(rp: RPProcess) -> None:
    held = []
    try:
        for _ in range(CAP):  # each made a request: idle keep-alive connections for IDLE seconds
            sock = tls_connect(rp.port, rp.ca_file)
            held.append(sock)
            sock.sendall(GET_READY)
            assert status_of(read_response(sock)) == 200
        with tls_connect(rp.port, rp.ca_file) as extra:
            try:
                extra.sendall(GET_READY)
            except OSError:
                pass
            elapsed, data = until_closed(extra, 5)
        assert data == b"" and elapsed < 1, (elapsed, data)
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5  # the server sees the closes: room again
    while True:
        with tls_connect(rp.port, rp.ca_file) as again:
            again.sendall(GET_READY)
            _, data = until_closed(again, 0.5)
        if status_of(data) == 200 or time.monotonic() > deadline:
            break
    assert status_of(data) == 200


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        (b"X-Big: " + b"a" * 100 * 1024 + b"\r\n", 431, "RequestHeaderFieldsTooLarge"),
        (b"".join(b"X-Big-%d: " % i + b"a" * 1000 + b"\r\n" for i in range(70)), 431, "RequestHeaderFieldsTooLarge"),
        (b"".join(b"X-Many-%d: 1\r\n" % i for i in range(150)), 400, "TooManyRequestHeaders"),
    ],
    ids=["one-100KiB-header", "70-headers-of-1KiB", "150-headers"],
)
def test_header_caps_answer_an_arm_error(rp: RPProcess, headers: bytes, status: int, code: str) -> None:
    with tls_connect(rp.port, rp.ca_file) as sock:
        try:
            sock.sendall(GET_READY[:-2] + headers + b"\r\n")
        except OSError:
            pass  # the server may answer and close before reading it all
        _, response = until_closed(sock, 5)
    assert status_of(response) == status, response[:200]
    assert error_body(response)["code"] == code
    with tls_connect(rp.port, rp.ca_file) as sock:  # a request within the caps is served
        sock.sendall(GET_READY[:-2] + b"X-Fine: " + b"a" * 8000 + b"\r\n\r\n")
        assert status_of(read_response(sock)) == 200


def test_sigterm_with_an_idle_client_and_a_request_mid_body(tmp_path: Path) -> None:
    p = RPProcess(tmp_path / "data", free_port(), "rp")  # the default limits: idle connections kept 60 s
    p.start()
    try:
        idle = tls_connect(p.port, p.ca_file)
        idle.sendall(GET_READY)
        assert status_of(read_response(idle)) == 200
        partial = tls_connect(p.port, p.ca_file)
        partial.sendall(PUT_SUBSCRIPTION)
        time.sleep(0.3)  # the head has reached the app (nothing observable to wait for from outside)
        assert p.proc is not None
        started = time.monotonic()
        p.proc.send_signal(signal.SIGTERM)
        code = p.proc.wait(10)
        took = time.monotonic() - started
        _, response = until_closed(partial, 2)
        idle.close()
        partial.close()
    finally:
        p.kill()
    print(f"\nSIGTERM to exit with an idle keep-alive client and a request mid-body: {took:.2f}s")
    assert code == 0
    assert took < 1.5, took
    assert status_of(response) == 503 and error_body(response)["code"] == "ServiceUnavailable", response
    log = p.log()
    assert "Exception in ASGI application" not in log and '"status": 500' not in log, log[-2000:]


def test_simulator_server_is_bounded(tmp_path: Path) -> None:
    tls = ensure_tls(tmp_path / "tls")
    limits = ConnectionLimits(handshake_seconds=1, header_seconds=1, body_seconds=1, idle_seconds=1)

    async def probe() -> tuple[float, float, bytes]:
        app = create_app(SimulatorConfig(tmp_path / "sim"))
        server = SimulatorServer(app, cert_file=tls.cert_file, key_file=tls.key_file, limits=limits)
        async with server:
            fresh = await asyncio.to_thread(_fresh, server.port, tls.ca_file)
            raw = await asyncio.to_thread(_no_handshake, server.port)
            big = await asyncio.to_thread(_big_header, server.port, tls.ca_file)
        return fresh, raw, big

    fresh, raw, big = asyncio.run(probe())
    assert fresh < 1 + SLACK and raw < 1 + SLACK, (fresh, raw)
    assert status_of(big) == 431 and error_body(big)["code"] == "RequestHeaderFieldsTooLarge"


def _fresh(port: int, ca: Path) -> float:
    with tls_connect(port, ca) as sock:
        return until_closed(sock, 5)[0]


def _no_handshake(port: int) -> float:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        return until_closed(sock, 5)[0]


def _big_header(port: int, ca: Path) -> bytes:
    with tls_connect(port, ca) as sock:
        try:
            sock.sendall(GET_READY[:-2] + b"X-Big: " + b"a" * 100 * 1024 + b"\r\n\r\n")
        except OSError:
            pass
        return until_closed(sock, 5)[1]


def test_accept_errors_are_logged_once_per_interval_not_per_attempt(tmp_path: Path) -> None:
    """`ulimit -n 256` and 300 connections: accept() fails with EMFILE over and over; the log says so once
    (per 10 s), with the count it left out; once the connections go, requests are served again."""
    p = RPProcess(tmp_path / "data", free_port(), "rp", module="tests.security.lowfd")
    p.start()
    socks = []
    try:
        for _ in range(300):
            try:
                socks.append(socket.create_connection(("127.0.0.1", p.port), timeout=5))
            except OSError:
                break
        time.sleep(3)  # EMFILE for 3 s: asyncio retries every accept after 1 s, per listening socket
        for s in socks:
            s.close()
        deadline = time.monotonic() + 15
        status = 0
        while time.monotonic() < deadline and status != 200:
            with contextlib.suppress(OSError), tls_connect(p.port, p.ca_file, timeout=2) as sock:
                sock.sendall(GET_READY)
                status = status_of(read_response(sock, 2))
        log = p.log()
    finally:
        p.kill()
    lines = [line for line in log.splitlines() if "out of system resource" in line or "cannot accept" in line]
    print(f"\n{len(socks)} connections held for 3 s with ulimit -n 256: {len(lines)} accept-error log lines")
    assert status == 200
    assert 1 <= len(lines) <= 2, lines[:5]
