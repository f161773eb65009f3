"""An HTTP ``CONNECT`` proxy that sends Azure's public ARM host to the simulator.

Some clients ignore a registered cloud's endpoints and call ``https://management.azure.com`` whatever
``az cloud set`` says: the Azure CLI's ``az aro`` commands build their SDK client with
``base_url_bound=False``, so the SDK falls back to the public cloud. Run such a client with
``HTTPS_PROXY=http://localhost:<proxy port>`` (and ``NO_PROXY=localhost,127.0.0.1``): each ``CONNECT
management.azure.com:443`` becomes a byte tunnel to the simulator's own HTTPS port, whose certificate for
that name (issued by the development CA the client already trusts, chosen by SNI) ends the TLS handshake.
Nothing is decrypted here; the simulator sees ``Host: management.azure.com`` and answers with URLs on it,
which come back through the proxy too.

Bounds: loopback clients only; only ``CONNECT`` to the hosts in ``HOSTS`` on port 443 (else ``403``; any
other method ``405``); the request head at most 8 KiB within 10 s; at most ``max_tunnels`` at once (then
``503``); a tunnel with no byte in either direction for ``idle_seconds`` is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket

log = logging.getLogger("aro.simulator.proxy")

HOSTS = frozenset({"management.azure.com"})
HEAD_MAX_BYTES = 8 * 1024
HEAD_SECONDS = 10.0
CHUNK = 64 * 1024


def _answer(status: str) -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()


class CloudProxy:
    """``await proxy.start()``; ``proxy.url``; ``await proxy.stop()``. ``upstream`` is the simulator's
    (host, port)."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_tunnels: int = 256,
        idle_seconds: float = 300.0,
        sock: socket.socket | None = None,
    ) -> None:
        """``sock``: a listening socket bound already (by `aro rp`'s supervisor)."""
        self.upstream = upstream
        self._sock = sock
        self.host, self._port = host, port
        self.max_tunnels, self.idle_seconds = max_tunnels, idle_seconds
        self._server: asyncio.Server | None = None
        self._tunnels: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        try:
            if self._sock is not None:
                self._server = await asyncio.start_server(self._accept, sock=self._sock, limit=HEAD_MAX_BYTES)
            else:
                self._server = await asyncio.start_server(self._accept, self.host, self._port, limit=HEAD_MAX_BYTES)
        except OSError as e:
            raise RuntimeError(f"simulator proxy cannot listen on {self.host}:{self._port}: {e}") from e

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tunnels):
            task.cancel()
        if self._tunnels:
            await asyncio.gather(*self._tunnels, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tunnels.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            self._tunnels.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("",)
        try:
            loopback = ipaddress.ip_address(str(peer[0]).split("%")[0]).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            return  # not even an answer for a caller off this machine
        if len(self._tunnels) > self.max_tunnels:
            writer.write(_answer("503 Service Unavailable"))
            return
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_SECONDS)
        except asyncio.LimitOverrunError:
            writer.write(_answer("431 Request Header Fields Too Large"))
            return
        method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
        if method.upper() != "CONNECT":
            writer.write(_answer("405 Method Not Allowed"))
            return
        target = rest.partition(" ")[0].lower()
        host, _, port = target.rpartition(":")
        if host not in HOSTS or port != "443":
            writer.write(_answer("403 Forbidden"))
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.upstream), HEAD_SECONDS)
        except (OSError, TimeoutError):
            writer.write(_answer("502 Bad Gateway"))
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        try:
            await writer.drain()
            await self._pipe(reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()
            with contextlib.suppress(Exception):
                await up_writer.wait_closed()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while True:
                chunk = await asyncio.wait_for(src.read(CHUNK), self.idle_seconds)
                if not chunk:
                    with contextlib.suppress(OSError):
                        if dst.can_write_eof():
                            dst.write_eof()
                    return
                dst.write(chunk)
                await dst.drain()

        # either direction's end (or idle timeout) ends the tunnel; the other copy is cancelled
        tasks = [asyncio.create_task(copy(reader, up_writer)), asyncio.create_task(copy(up_reader, writer))]
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            if not any(t.exception() for t in done):
                # one side finished cleanly: let the other drain what is in flight, within the idle bound
                await asyncio.wait(pending, timeout=self.idle_seconds)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
