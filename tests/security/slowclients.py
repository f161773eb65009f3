"""Raw clients that misbehave on purpose (idle, trickling, stopping mid-body), for the connection-bound tests
and the slow-clients drill. Each returns what the server sent and how long until it closed the connection."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PUT_SUBSCRIPTION = (
    b"PUT /subscriptions/00000000-0000-0000-0000-0000000000aa?api-version=2.0 HTTP/1.1\r\n"
    b"Host: localhost\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{"
)
GET_READY = b"GET /healthz/ready HTTP/1.1\r\nHost: localhost\r\n\r\n"


def tls_context(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def tls_connect(port: int, ca: Path, timeout: float = 10) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return tls_context(ca).wrap_socket(raw, server_hostname="localhost")


def until_closed(sock: socket.socket, limit: float) -> tuple[float, bytes]:
    """Read until the server closes (EOF or reset) or ``limit`` seconds pass (then the elapsed time is
    ``limit`` or more): the seconds it took and the bytes received."""
    started = time.monotonic()
    data = b""
    while True:
        left = limit - (time.monotonic() - started)
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except (OSError, ssl.SSLError):
            break  # reset, or a TLS connection ended without close_notify: closed either way
        if not chunk:
            break
        data += chunk
    return time.monotonic() - started, data


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


@dataclass
class Held:
    """An attacking connection held open by the drill: when the server closed it (seconds from the point
    its timeout started), or None while open."""

    kind: str
    started: float
    closed_after: float | None = None


async def hold(kind: str, port: int, ctx: ssl.SSLContext, held: list[Held], limit: float) -> None:
    """Open a TLS connection and misbehave (``idle``: nothing after the handshake; ``slowloris``: a request
    head one byte every 0.2 s; ``body``: a head and one byte of a 200-byte body) until the server closes it
    or ``limit`` seconds pass."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")
    h = Held(kind, time.monotonic())
    held.append(h)
    head = GET_READY[:-2] + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    try:
        if kind == "body":
            writer.write(PUT_SUBSCRIPTION)
            h.started = time.monotonic()  # the body timer starts with the head
        deadline = h.started + limit
        sent = 0
        while time.monotonic() < deadline:
            if kind == "slowloris" and sent < len(head) - 4:
                writer.write(head[sent : sent + 1])
                sent += 1
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.2)
            except TimeoutError:
                continue
            except (OSError, ssl.SSLError):
                chunk = b""
            if not chunk:
                h.closed_after = time.monotonic() - h.started
                return
            # a response (408 for slowloris and bodies): keep reading until the close
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1)
        except (OSError, ssl.SSLError, TimeoutError):
            pass


def read_response(sock: socket.socket, timeout: float = 10) -> bytes:
    """One whole response (its head, then content-length bytes of body)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


async def attack(port: int, ca: Path, kinds: list[str], limit: float, batch: int, every: float) -> list[Held]:
    """Hold a connection of each kind, opened ``batch`` at a time every ``every`` seconds, until the server
    closes each or ``limit`` seconds pass; a connection that could not be made is a Held closed_after -1."""
    ctx = tls_context(ca)
    held: list[Held] = []
    tasks = []
    for i in range(0, len(kinds), batch):
        for kind in kinds[i : i + batch]:
            tasks.append(asyncio.create_task(hold(kind, port, ctx, held, limit)))
        await asyncio.sleep(every)
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, BaseException):
            held.append(Held(f"error: {result!r}", 0.0, -1.0))
    return held


def main(argv: list[str]) -> None:
    """``python -m tests.security.slowclients PORT CA KINDS(JSON) LIMIT BATCH EVERY``: run ``attack`` in a
    process of its own (so that the attackers' TLS work does not share the measuring client's interpreter)
    and print the held connections as JSON."""
    port, ca, kinds, limit, batch, every = argv
    held = asyncio.run(attack(int(port), Path(ca), json.loads(kinds), float(limit), int(batch), float(every)))
    print(json.dumps([[h.kind, h.closed_after] for h in held]))


if __name__ == "__main__":
    main(sys.argv[1:])
