"""A phone's link to its server, on loopback, that a test can cut (no signal) and restore.

A plain TCP relay (bytes both ways, nothing parsed or buffered: the build's 57 MB cross it
at loopback speed). ``cut()``: every open connection is reset and new ones are reset as
soon as they are accepted, as when the radio loses the cell; ``restore()``: the signal is
back.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.fault.proxy import reset


class Link:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.cut_connections = 0  # connections reset because the link was cut
        self._down = False
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="pwa-link",
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Link:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._relay, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
            for writer in list(self._open):
                reset(writer)
            relays = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            await asyncio.gather(*relays, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def cut(self) -> None:
        """No signal: open connections are reset, new ones too, until ``restore``."""
        def cut_now() -> None:
            self._down = True
            for writer in list(self._open):
                reset(writer)
                self.cut_connections += 1

        self._loop.call_soon_threadsafe(cut_now)

    def restore(self) -> None:
        def restore_now() -> None:
            self._down = False

        self._loop.call_soon_threadsafe(restore_now)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                     ) -> None:
        if self._down:
            self.cut_connections += 1
            reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1",
                                                                 self.upstream_port)
        except OSError:
            reset(writer)
            return
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._open.difference_update((writer, up_writer))
            for w in (writer, up_writer):
                if not w.transport.is_closing():
                    w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof() and not writer.transport.is_closing():
            writer.write_eof()

