"""The metering head-end (主站前置机) interface, and a simulated head-end that behaves
like the real protocol.

The real path: the server hands a frame to the head-end (``Gateway.send``); the head-end
forwards it to the meter over the AMI network when it can; the meter executes it or not;
an acknowledgement comes back *later*, as a signed POST to
``/api/v1/meter-commands/acks``. Frames get lost, acks come late, twice, or out of
order, and a meter refuses a frame older than the newest it executed (``stale``).

``SimulatedHeadEnd`` keeps a relay and the last executed sequence number per meter and
queues its acks; ``take_acks`` hands them out (in order, shuffled, or repeated) for
delivery. ``lose_next`` drops the next n frames on the floor, ``refuse`` makes the meters
given refuse to switch (a relay fault), ``unreachable`` makes ``send`` fail outright.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from server.billing.signing import sign
from shared.timeutil import utcnow


@dataclass(frozen=True)
class Frame:
    command_id: str
    meter_no: str
    seq: int
    kind: str  # disconnect | reconnect
    attempt: int


class GatewayError(Exception):
    """The head-end could not take the frame (network down): try again later."""


class Gateway(Protocol):
    def send(self, frame: Frame) -> None: ...


@dataclass
class SimulatedHeadEnd:
    seed: int = 5
    duplicate_acks: bool = False
    lose_next: int = 0
    unreachable: bool = False
    refuse: set[str] = field(default_factory=set)
    relays: dict[str, tuple[int, str]] = field(default_factory=dict)  # meter -> (seq, on|off)
    received: list[Frame] = field(default_factory=list)
    _acks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def send(self, frame: Frame) -> None:
        if self.unreachable:
            raise GatewayError("head-end unreachable")
        if self.lose_next > 0:
            self.lose_next -= 1
            return  # accepted, never reaches the meter, no ack ever
        self.received.append(frame)
        last_seq, relay = self.relays.get(frame.meter_no, (0, "on"))
        if frame.meter_no in self.refuse:
            result = "failed"
        elif frame.seq < last_seq:  # the same frame again is executed again, harmlessly
            result = "stale"
        else:
            relay = "off" if frame.kind == "disconnect" else "on"
            self.relays[frame.meter_no] = (frame.seq, relay)
            result = "ok"
        ack = {"command_id": frame.command_id, "meter_no": frame.meter_no, "seq": frame.seq,
               "result": result, "relay": relay, "at": utcnow().isoformat()}
        self._acks.append(ack)
        if self.duplicate_acks:
            self._acks.append(dict(ack))

    def relay(self, meter_no: str) -> str:
        return self.relays.get(meter_no, (0, "on"))[1]

    def take_acks(self, *, shuffle: bool = False) -> list[dict[str, Any]]:
        acks, self._acks = self._acks, []
        if shuffle:
            self._rng.shuffle(acks)
        return acks


def signed_ack(key: bytes, ack: dict[str, Any], at: datetime | None = None
               ) -> tuple[bytes, str]:
    """The body and X-Signature header the head-end sends with an ack."""
    body = json.dumps(ack, separators=(",", ":"), sort_keys=True).encode()
    return body, sign(key, body, at or utcnow())
