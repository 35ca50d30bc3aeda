"""A fault-injecting HTTP proxy on loopback, between the phones and the real server.

``FaultProxy`` is an asyncio TCP server (in its own thread) that reads each HTTP/1.1
request from a device, decides a ``Fault`` for it with a seeded RNG (``FaultPlan`` rates,
or a targeted ``rule``), and forwards it over a fresh TCP connection to the server
(uvicorn). What a device can see:

* ``drop_request``   – the request never reaches the server; the device's connection is
  reset (RST) without an answer;
* ``reset_request``  – the server gets the head and part of the body, then both
  connections are reset (the server never sees the rest);
* ``drop_response``  – the server handles the request (and commits), the answer is lost;
* ``reset_response`` – the answer is cut off in the middle of its body;
* ``duplicate``      – the request reaches the server twice: at the same time, or once more
  later (a stale copy arriving after the device moved on); the device gets one answer;
* ``delay``          – the request and/or the answer are held up a little;
* ``error_before``   – 500, 502 or 503 (with ``Retry-After``) without reaching the server;
* ``error_after``    – the server handles the request, the device gets 500/502/503.
* ``cut``            – a flaky link: the request goes through at ``link_bytes_per_s`` (if
  set) until ``cut_after_s`` seconds or ``cut_after_bytes`` bytes of it have passed,
  then both connections are reset; if the whole request and its answer make it in
  time, the answer is delivered.

A slow link (``link``, a ``Link``): every request and answer crosses it — half the round
trip each way, then its bytes at the link's rate, one message at a time per direction
(concurrent requests share the bandwidth, as on a real 2G/3G uplink).

``outage(s)`` is no signal for a while: new requests are reset; with ``cut_open`` the
requests in flight (a long poll held open, an upload) are reset too. With ``blackhole``
nothing is reset: requests and answers simply vanish (as when a phone's radio loses the
cell without telling anyone) — the device hears nothing until its own timeouts.

When the server is down, a request is answered 502 or reset, as a load balancer would.
Everything is counted (``stats``, per fault kind) and logged (``log``), so a test can
check the faults it asked for were really injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class Fault(StrEnum):
    PASS = "pass"
    DROP_REQUEST = "drop_request"
    RESET_REQUEST = "reset_request"
    DROP_RESPONSE = "drop_response"
    RESET_RESPONSE = "reset_response"
    DUPLICATE = "duplicate"
    DELAY = "delay"
    ERROR_BEFORE = "error_before"
    ERROR_AFTER = "error_after"
    CUT = "cut"


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    seq: int = 0

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def decoded(self) -> bytes:
        """The body as the server reads it (a phone's push may be gzip-encoded)."""
        if (self.header("content-encoding") or "").strip().lower() == "gzip":
            return gzip.decompress(self.body)
        return self.body

    def encode(self, body: bytes | None = None) -> bytes:
        """The request as sent upstream (one request per connection)."""
        body = self.body if body is None else body
        lines = [f"{self.method} {self.target} HTTP/1.1"]
        for k, v in self.headers:
            if k.lower() not in ("connection", "content-length", "keep-alive"):
                lines.append(f"{k}: {v}")
        lines += ["Connection: close", f"Content-Length: {len(body)}", "", ""]
        return "\r\n".join(lines).encode("latin-1") + body


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def decoded(self) -> bytes:
        """The body as the device's HTTP client reads it (gzip undone)."""
        encoding = next((v for k, v in self.headers if k.lower() == "content-encoding"), "")
        return gzip.decompress(self.body) if encoding.strip().lower() == "gzip" else self.body

    def encode(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Status')}"]
        for k, v in self.headers:
            if k.lower() not in ("connection", "content-length", "transfer-encoding",
                                 "keep-alive"):
                lines.append(f"{k}: {v}")
        lines += [f"Content-Length: {len(self.body)}", "", ""]
        return "\r\n".join(lines).encode("latin-1") + self.body


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request",
            401: "Unauthorized", 404: "Not Found", 409: "Conflict", 413: "Payload Too Large",
            422: "Unprocessable Entity", 426: "Upgrade Required", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class FaultPlan:
    """Probabilities of each fault for requests under ``prefixes`` (others pass)."""

    rates: dict[Fault, float] = field(default_factory=dict)
    prefixes: tuple[str, ...] = ("/api/v1/sync/", "/api/v1/photos/")
    max_delay_s: float = 0.2
    max_retry_after_s: int = 1

    def choose(self, rng: random.Random, req: Request) -> Fault:
        if not req.path.startswith(self.prefixes):
            return Fault.PASS
        x = rng.random()
        for fault, rate in self.rates.items():
            if x < rate:
                return fault
            x -= rate
        return Fault.PASS

    @classmethod
    def everything(cls, total: float, **kw: object) -> FaultPlan:
        """Every fault kind, ``total`` probability in all (delays twice as often)."""
        kinds = [f for f in Fault if f != Fault.PASS]
        share = total / (len(kinds) + 1)
        rates = {f: share * (2 if f == Fault.DELAY else 1) for f in kinds}
        return cls(rates=rates, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Link:
    """A slow link: ``up``/``down`` in bytes per second (None: unlimited), ``rtt_s`` the
    round trip."""

    up_bytes_per_s: float | None = None
    down_bytes_per_s: float | None = None
    rtt_s: float = 0.0

    @classmethod
    def kbit(cls, up_kbit_s: float, down_kbit_s: float, rtt_ms: float) -> Link:
        return cls(up_kbit_s * 1000 / 8, down_kbit_s * 1000 / 8, rtt_ms / 1000)


Rule = Callable[[Request], Fault | None]
Mutator = Callable[[Request], bytes | None]


class UpstreamDown(Exception):
    pass


class FaultProxy:
    """``FaultProxy(upstream_port, seed=…)``; ``start()``, ``url``, ``stop()``.

    ``plan`` (random faults), ``rule`` (a targeted choice per request, None: use the plan)
    and ``mutate`` (new body bytes for the upstream copy, e.g. a flipped byte) can be
    changed at any time; ``upstream_port`` too (a restarted server).
    """

    def __init__(self, upstream_port: int, *, seed: int, plan: FaultPlan | None = None
                 ) -> None:
        self.upstream_port = upstream_port
        self.rng = random.Random(seed)
        self.plan = plan or FaultPlan()
        self.rule: Rule | None = None
        self.mutate: Mutator | None = None
        #: Status of injected errors (None: 500, 502 or 503 at random).
        self.error_status: int | None = None
        #: ``Retry-After`` of injected 503s (None: 0 to ``plan.max_retry_after_s``).
        self.retry_after_s: int | None = None
        #: How duplicates travel: "together" (both copies at once), "late" (the device's
        #: answer first, a stale copy after it), None: alternately.
        self.duplicate_mode: str | None = None
        self.late_after_s = 0.3
        #: The ``cut`` fault: how long / how many request bytes a connection lasts, and
        #: the link's speed (None: no limit).
        self.cut_after_s: float | None = None
        self.cut_after_bytes: int | None = None
        self.link_bytes_per_s: int | None = None
        self.stats: Counter[str] = Counter()
        self.by_path: Counter[tuple[str, str]] = Counter()
        self.body_bytes: Counter[str] = Counter()  # request body bytes from devices, by path
        self.log: list[tuple[int, str, str, str, int | None]] = []
        #: Answers that reached a device, for paths under ``capture`` (method, path, body).
        self.capture: tuple[str, ...] = ("/api/v1/sync/push",)
        self.answers: list[tuple[int, str, bytes]] = []
        #: A slow link every request crosses (None: loopback speed).
        self.link: Link | None = None
        self.link_stats: Counter[str] = Counter()  # bytes carried up / down
        self.port = 0
        self._up_lock: asyncio.Lock | None = None
        self._down_lock: asyncio.Lock | None = None
        self._open_writers: set[asyncio.StreamWriter] = set()
        self._outage_until = 0.0
        self._blackhole = False
        self._seq = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> FaultProxy:
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()
        failed: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._handle, "127.0.0.1", 0))
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # pragma: no cover - reported below
                failed.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failed:
            raise failed[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in self._tasks if not t.done()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if thread.is_alive():
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        loop.close()
        self._loop = self._thread = None

    def clean(self) -> None:
        """No more faults from now on (plan, rule and mutation off)."""
        self.plan = FaultPlan()
        self.rule = None
        self.mutate = None
        self.error_status = None
        self.retry_after_s = None
        self.duplicate_mode = None

    def outage(self, seconds: float, *, cut_open: bool = False, blackhole: bool = False
               ) -> None:
        """No signal for a while: every request is dropped (counted as ``outage``); with
        ``cut_open`` the requests in flight are reset as well; with ``blackhole`` no
        request or answer gets through and nothing is reset."""
        self._blackhole = blackhole
        self._outage_until = time.monotonic() + seconds
        loop = self._loop
        if cut_open and loop is not None:
            def cut() -> None:
                for writer in list(self._open_writers):
                    reset(writer)
                    self.stats["outage_cut"] += 1

            loop.call_soon_threadsafe(cut)

    def signal_back(self) -> None:
        """End an outage now."""
        self._outage_until = 0.0

    async def _vanish(self, writer: asyncio.StreamWriter) -> bool:
        """In a blackhole outage: hold the connection until the signal is back, then
        reset it (nothing crossed). False when there is no such outage."""
        if not (self._blackhole and time.monotonic() < self._outage_until):
            return False
        self.stats["blackholed"] += 1
        while time.monotonic() < self._outage_until and not writer.transport.is_closing():
            await asyncio.sleep(0.05)
        reset(writer)
        return True

    async def _cross(self, nbytes: int, *, up: bool) -> None:
        """Carry ``nbytes`` over the slow link: half a round trip, then the bytes at the
        link's rate, one message at a time in each direction."""
        link = self.link
        if link is None:
            return
        if link.rtt_s:
            await asyncio.sleep(link.rtt_s / 2)
        rate = link.up_bytes_per_s if up else link.down_bytes_per_s
        self.link_stats["up" if up else "down"] += nbytes
        if not rate:
            return
        if self._up_lock is None or self._down_lock is None:
            self._up_lock, self._down_lock = asyncio.Lock(), asyncio.Lock()
        async with self._up_lock if up else self._down_lock:
            await asyncio.sleep(nbytes / rate)

    def injected(self, *kinds: Fault) -> int:
        return sum(self.stats[k.value] for k in kinds)

    def push_statuses(self) -> Counter[str]:
        """Op results (applied, duplicate, …) in the push answers devices received."""
        out: Counter[str] = Counter()
        for _, path, body in self.answers:
            if path == "/api/v1/sync/push" and body.startswith(b"{"):
                out.update(r["status"] for r in json.loads(body).get("results", ()))
        return out

    # -- one device connection --------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            while True:
                req = await _read_request(reader)
                if req is None:
                    break
                self._open_writers.add(writer)
                try:
                    if not await self._serve(req, writer):
                        return  # the connection was aborted on purpose
                finally:
                    self._open_writers.discard(writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except BaseException:  # cancelled (the proxy stops), or a fault of the proxy's own
            reset(writer)
            raise
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
        _close(writer)

    def _decide(self, req: Request) -> tuple[Request, Fault, float, int]:
        with self._lock:
            self._seq += 1
            req = Request(req.method, req.target, req.headers, req.body, self._seq)
            fault = self.rule(req) if self.rule is not None else None
            if fault is None:
                fault = self.plan.choose(self.rng, req)
            key = fault.value
            if time.monotonic() < self._outage_until and not self._blackhole:
                fault, key = Fault.DROP_REQUEST, "outage"
            delay = self.rng.uniform(0, self.plan.max_delay_s or 0.2)
            status = self.error_status or self.rng.choice((500, 502, 503))
            self.stats[key] += 1
            self.by_path[(req.path, key)] += 1
            self.body_bytes[req.path] += len(req.body)
        return req, fault, delay, status

    async def _serve(self, req: Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the device's connection was cut."""
        req, fault, delay, error_status = self._decide(req)
        upstream_body = self.mutate(req) if self.mutate is not None else None
        if upstream_body is None:
            upstream_body = req.body
        answered: int | None = None
        try:
            if await self._vanish(writer):
                return False
            if self.link is not None and fault != Fault.DROP_REQUEST:
                await self._cross(len(req.encode(upstream_body)), up=True)
                if writer.transport.is_closing():
                    return False  # the link was cut while the request crossed it
            if fault == Fault.DROP_REQUEST:
                reset(writer)
                return False
            if fault == Fault.ERROR_BEFORE:
                resp = self._error(error_status)
            elif fault == Fault.RESET_REQUEST:
                await self._forward_partial(req, upstream_body)
                reset(writer)
                return False
            elif fault == Fault.CUT:
                cut = await self._forward_cut(req, upstream_body)
                if cut is None:
                    reset(writer)
                    return False
                resp = cut
            else:
                if fault == Fault.DELAY:
                    await asyncio.sleep(delay / 2)
                try:
                    resp = await self._forward_maybe_twice(req, upstream_body, fault)
                except UpstreamDown:
                    if req.seq % 2:
                        reset(writer)
                        return False
                    resp = self._error(502)
                if fault == Fault.DELAY:
                    await asyncio.sleep(delay / 2)
                if fault == Fault.DROP_RESPONSE:
                    reset(writer)
                    return False
                if fault == Fault.RESET_RESPONSE:
                    raw = resp.encode()
                    cut = len(raw) - max(1, len(resp.body) // 2) if resp.body else len(raw) // 2
                    writer.write(raw[:cut])
                    await writer.drain()
                    reset(writer)
                    return False
                if fault == Fault.ERROR_AFTER:
                    resp = self._error(error_status)
            answered = resp.status
            raw = resp.encode()
            await self._cross(len(raw), up=False)
            if writer.transport.is_closing() or await self._vanish(writer):
                return False
            writer.write(raw)
            await writer.drain()
            if req.path.startswith(self.capture):
                with self._lock:
                    self.answers.append((req.seq, req.path, resp.decoded()))
            return True
        finally:
            with self._lock:
                self.log.append((req.seq, req.method, req.target, fault.value, answered))

    def _error(self, status: int) -> Response:
        headers: list[tuple[str, str]] = []
        if status == 503:
            wait = self.retry_after_s
            if wait is None:
                wait = self.rng.randint(0, self.plan.max_retry_after_s)
            headers.append(("Retry-After", str(wait)))
        if status == 500:
            body = json.dumps({"code": "INTERNAL_ERROR", "message": "injected fault",
                               "details": {}}).encode()
            headers.append(("Content-Type", "application/json"))
        else:
            body = b"<html><body>upstream unavailable</body></html>"
            headers.append(("Content-Type", "text/html"))
        return Response(status, tuple(headers), body)

    # -- upstream ---------------------------------------------------------------------
    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError as exc:
            raise UpstreamDown(str(exc)) from exc

    async def _forward(self, req: Request, body: bytes) -> Response:
        reader, writer = await self._open()
        try:
            writer.write(req.encode(body))
            await writer.drain()
            resp = await _read_response(reader, req.method)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            reset(writer)
            raise UpstreamDown(str(exc)) from exc
        except BaseException:  # cancelled (the proxy stops) while a long poll is held
            reset(writer)
            raise
        _close(writer)
        return resp

    async def _forward_maybe_twice(self, req: Request, body: bytes, fault: Fault
                                   ) -> Response:
        if fault != Fault.DUPLICATE:
            return await self._forward(req, body)
        together = req.seq % 2 == 1 if self.duplicate_mode is None else (
            self.duplicate_mode == "together")
        if together:  # both copies at once
            got = await asyncio.gather(self._forward(req, body), self._forward(req, body),
                                       return_exceptions=True)
            ok = [r for r in got if isinstance(r, Response)]
            if not ok:
                raise UpstreamDown("both copies failed")
            with self._lock:
                return self.rng.choice(ok)
        # One copy now, a stale one later (the device will have moved on by then).
        resp = await self._forward(req, body)

        async def late() -> None:
            await asyncio.sleep(self.late_after_s)
            with contextlib.suppress(UpstreamDown):
                await self._forward(req, body)

        task = asyncio.get_running_loop().create_task(late())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return resp

    async def _forward_cut(self, req: Request, body: bytes) -> Response | None:
        """Send the request over a slow link that drops after ``cut_after_s`` seconds or
        ``cut_after_bytes`` bytes; None when it dropped before the answer came back."""
        deadline = time.monotonic() + (self.cut_after_s if self.cut_after_s else 3600.0)
        budget = self.cut_after_bytes
        rate = self.link_bytes_per_s
        try:
            reader, writer = await self._open()
        except UpstreamDown:
            return None
        raw = req.encode(body)
        sent, step = 0, 16 * 1024
        try:
            while sent < len(raw):
                n = min(step, len(raw) - sent)
                if budget is not None:
                    n = min(n, budget - sent)
                if n <= 0:
                    raise TimeoutError("byte budget spent")
                writer.write(raw[sent:sent + n])
                await writer.drain()
                sent += n
                if rate:
                    await asyncio.sleep(n / rate)
                if time.monotonic() >= deadline:
                    raise TimeoutError("link dropped")
            resp = await asyncio.wait_for(_read_response(reader, req.method),
                                          timeout=max(0.0, deadline - time.monotonic()))
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            reset(writer)
            return None
        except BaseException:  # cancelled (the proxy stops): the upstream socket goes too
            reset(writer)
            raise
        _close(writer)
        return resp

    async def _forward_partial(self, req: Request, body: bytes) -> None:
        """Send the head and part of the body, then reset the server's connection."""
        try:
            _reader, writer = await self._open()
        except UpstreamDown:
            return
        raw = req.encode(body)
        cut = len(raw) - max(1, len(body) // 2) if body else len(raw) // 2
        try:
            writer.write(raw[:cut])
            await writer.drain()
            await asyncio.sleep(0.02)
        except ConnectionError:
            pass
        finally:  # cancelled (the proxy stops) included
            reset(writer)


# -- HTTP/1.1 framing ---------------------------------------------------------------
async def _read_head(reader: asyncio.StreamReader) -> list[str] | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    return raw.decode("latin-1").split("\r\n")[:-2]


def _headers(lines: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for line in lines:
        k, _, v = line.partition(":")
        out.append((k.strip(), v.strip()))
    return tuple(out)


def _get(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


async def _read_body(reader: asyncio.StreamReader, headers: tuple[tuple[str, str], ...],
                     *, until_eof: bool) -> bytes:
    length = _get(headers, "content-length")
    if length is not None:
        return await reader.readexactly(int(length))
    if (_get(headers, "transfer-encoding") or "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(parts)
            parts.append((await reader.readexactly(size + 2))[:-2])
    return await reader.read() if until_eof else b""


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    lines = await _read_head(reader)
    if lines is None:
        return None
    method, target, _ = lines[0].split(" ", 2)
    headers = _headers(lines[1:])
    body = await _read_body(reader, headers, until_eof=False)
    return Request(method, target, headers, body)


async def _read_response(reader: asyncio.StreamReader, method: str) -> Response:
    lines = await _read_head(reader)
    if lines is None:
        raise asyncio.IncompleteReadError(b"", None)
    status = int(lines[0].split(" ", 2)[1])
    headers = _headers(lines[1:])
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        body = await _read_body(reader, headers, until_eof=True)
    return Response(status, headers, body)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (no FIN, no pending data sent)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close(writer: asyncio.StreamWriter) -> None:
    if not writer.transport.is_closing():
        writer.close()
