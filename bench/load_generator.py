"""An HTTP/1.1 load generator for the benchmarks: open loop at a fixed rate, or closed loop at saturation.

Open loop: request ``i`` is due at ``start + i / rate`` and leaves then, whatever earlier requests are
doing: on an idle keep-alive connection, or on a new one when none is idle (up to ``max_connections``,
after which it waits for the first connection to come free). Its latency is counted from when it was
due, not from when it left, so a server or a generator that falls behind is charged for the wait
(coordinated omission is counted). Closed loop (``rate=None``): every request is due at once and
``max_connections`` connections send the next one as soon as the last answer arrived; its figure is
throughput, and latency there is counted from the send.

Requests are whole byte strings built before the run (headers, signature and body); answers are parsed by
httptools (the C parser uvicorn itself uses); the loop is uvloop's when installed. A request that never
gets an answer (refused, reset, timed out) counts as a failure and as an infinite latency.

``python bench/load_generator.py null-server --port N`` serves a canned 200 to every request with the
same parser: what the generator can do against a server that costs next to nothing (its own ceiling).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import httptools

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None  # type: ignore[assignment]

T = TypeVar("T")

now = time.perf_counter  # uvloop's loop.time() counts whole milliseconds

NO_ANSWER = 0
NULL_ANSWER = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}'


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when it is installed (as uvicorn runs the servers measured)."""
    factory = uvloop.new_event_loop if uvloop is not None else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coroutine)


def loop_name() -> str:
    return "uvloop" if uvloop is not None else "asyncio"


@dataclass(slots=True)
class Outcome:
    index: int
    due: float
    sent: float
    done: float
    status: int

    @property
    def answered(self) -> bool:
        return self.status != NO_ANSWER


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest value at or above ``share`` of them (``inf`` counts as a value)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def percentiles_ms(seconds: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 (nearest rank) of durations in seconds, in milliseconds."""
    return percentile(seconds, 0.50) * 1000, percentile(seconds, 0.99) * 1000


def load_average_line() -> str:
    return f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"


def goal_line(
    label: str,
    seconds: Sequence[float],
    *,
    baseline: Sequence[float],
    baseline_name: str,
    goal_ms: float,
    noun: str,
) -> str:
    """``label: p50 … (…x baseline), p99 … (…x baseline); goal p99 < …: met|missed (n noun)``: each figure
    beside the baseline measured in the same run (the machine may be shared)."""
    p50, p99 = percentiles_ms(seconds)
    b50, b99 = percentiles_ms(baseline)
    return (
        f"{label}: p50 {p50:.1f} ms ({p50 / b50:.2f}x {baseline_name}), "
        f"p99 {p99:.1f} ms ({p99 / b99:.2f}x {baseline_name}); "
        f"goal p99 < {goal_ms:g} ms: {'met' if p99 < goal_ms else 'missed'} ({len(seconds)} {noun})"
    )


async def open_loop(count: int, rate: float, one: Callable[[int], Awaitable[None]]) -> None:
    """``one(i)`` started when it is due (``start + i / rate``), whatever the earlier ones are doing; returns
    when all have finished (the in-process benchmarks' sender; ``send_all`` is the HTTP/1.1 one)."""
    begun = now()
    tasks = []
    for i in range(count):
        await asyncio.sleep(max(0.0, begun + i / rate - now()))
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)


@dataclass(frozen=True, slots=True)
class Summary:
    requests: int
    ok: int  # 2xx answers
    failed: int  # no answer, or an answer other than 2xx
    seconds: float  # first due → last answer
    p50_ms: float
    p99_ms: float
    lag_p99_ms: float  # how late requests left after they were due (the generator's own delay)

    @property
    def ok_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else math.nan


def summarise(outcomes: Sequence[Outcome], *, from_due: bool) -> Summary:
    """Latency from when each request was due (open loop) or from when it left (closed loop)."""
    if not outcomes:
        return Summary(0, 0, 0, 0.0, math.nan, math.nan, math.nan)
    ok = [o for o in outcomes if 200 <= o.status < 300]
    latencies = [
        ((o.done - (o.due if from_due else o.sent)) * 1000 if 200 <= o.status < 300 else math.inf)
        for o in outcomes
    ]
    lags = [(o.sent - o.due) * 1000 for o in outcomes if o.sent >= o.due]
    first = min(o.due for o in outcomes)
    last = max(o.done for o in outcomes)
    return Summary(
        requests=len(outcomes),
        ok=len(ok),
        failed=len(outcomes) - len(ok),
        seconds=last - first,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        lag_p99_ms=percentile(lags, 0.99) if from_due else math.nan,
    )


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time on it (no pipelining, as Shopify sends)."""

    def __init__(self, generator: _Generator) -> None:
        self.generator = generator
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.request: tuple[int, float, float] | None = None  # index, due, sent

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.close()

    def on_message_complete(self) -> None:
        self.generator.answered(self, self.parser.get_status_code(), self.parser.should_keep_alive())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.generator.lost(self)

    def send(self, index: int, due: float, payload: bytes, sent: float) -> None:
        assert self.transport is not None
        self.request = (index, due, sent)
        self.transport.write(payload)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _Generator:
    def __init__(
        self,
        host: str,
        port: int,
        requests: Sequence[bytes],
        max_connections: int,
        answer_wait_seconds: float,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port = host, port
        self.requests = requests
        self.max_connections = max_connections
        self.answer_wait_seconds = answer_wait_seconds
        self.idle: list[_Connection] = []  # a stack: the most recently used connection goes first
        self.connections = 0  # open or opening
        self.backlog: deque[tuple[int, float]] = deque()
        self.outcomes: list[Outcome] = []
        self.all_done = self.loop.create_future()
        self.failed_connects = 0
        self.every_connection: set[_Connection] = set()
        self.finished = False

    def dispatch(self, index: int, due: float) -> None:
        if self.idle:
            connection = self.idle.pop()
            connection.send(index, due, self.requests[index], now())
            return
        self.backlog.append((index, due))
        if self.connections < self.max_connections:
            self.open_connection()

    def open_connection(self) -> None:
        self.connections += 1
        task = self.loop.create_task(
            self.loop.create_connection(lambda: _Connection(self), self.host, self.port)
        )
        task.add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task[tuple[asyncio.Transport, _Connection]]) -> None:
        if self.finished and not task.cancelled() and task.exception() is None:
            task.result()[1].close()
            return
        if task.cancelled() or task.exception() is not None:
            self.connections -= 1
            self.failed_connects += 1
            if self.backlog:  # the request that wanted this connection gets no answer
                index, due = self.backlog.popleft()
                ended = now()
                self.record(Outcome(index, due, ended, ended, NO_ANSWER))
            return
        self.ready(task.result()[1])

    def ready(self, connection: _Connection) -> None:
        self.every_connection.add(connection)
        if self.backlog:
            index, due = self.backlog.popleft()
            connection.send(index, due, self.requests[index], now())
        else:
            self.idle.append(connection)

    def answered(self, connection: _Connection, status: int, keep_alive: bool) -> None:
        request, connection.request = connection.request, None
        if request is not None:
            index, due, sent = request
            self.record(Outcome(index, due, sent, now(), status))
        if keep_alive:
            self.ready(connection)
        else:
            connection.close()

    def lost(self, connection: _Connection) -> None:
        self.connections -= 1
        self.every_connection.discard(connection)
        if connection in self.idle:
            self.idle.remove(connection)
        if connection.request is not None:
            index, due, sent = connection.request
            connection.request = None
            self.record(Outcome(index, due, sent, now(), NO_ANSWER))
        if self.backlog and self.connections < self.max_connections:
            self.open_connection()

    def record(self, outcome: Outcome) -> None:
        if self.finished:
            return
        self.outcomes.append(outcome)
        if len(self.outcomes) == len(self.requests) and not self.all_done.done():
            self.all_done.set_result(None)

    async def warm(self, count: int) -> None:
        """Open ``count`` connections before the clock starts (a sender keeps its connections)."""
        for _ in range(min(count, self.max_connections)):
            self.connections += 1
            try:
                _, connection = await self.loop.create_connection(
                    lambda: _Connection(self), self.host, self.port
                )
            except OSError:
                self.connections -= 1
                raise
            self.every_connection.add(connection)
            self.idle.append(connection)

    async def drive(self, rate: float | None) -> list[Outcome]:
        start = now() + 0.005
        for index in range(len(self.requests)):
            due = start if rate is None else start + index / rate
            delay = due - now()
            if delay > 0:
                await asyncio.sleep(delay)
            self.dispatch(index, due)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.all_done), self.answer_wait_seconds)
        # what is still waiting when the timeout struck gets no answer
        self.finished = True
        ended = now()
        self.outcomes.extend(Outcome(index, due, ended, ended, NO_ANSWER) for index, due in self.backlog)
        self.backlog.clear()
        for connection in list(self.every_connection):
            if connection.request is not None:
                index, due, sent = connection.request
                connection.request = None
                self.outcomes.append(Outcome(index, due, sent, ended, NO_ANSWER))
            connection.close()
        self.outcomes.sort(key=lambda o: o.index)
        return self.outcomes


async def send_all(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    rate: float | None,
    max_connections: int,
    warm_connections: int = 8,
    answer_wait_seconds: float = 60.0,
) -> list[Outcome]:
    """Send ``requests`` open loop at ``rate`` per second, or closed loop over ``max_connections`` when
    ``rate`` is None; one outcome per request, in order. Answers are waited for ``answer_wait_seconds``
    after the last request was due; what has none by then counts as unanswered."""
    generator = _Generator(host, port, requests, max_connections, answer_wait_seconds)
    await generator.warm(warm_connections)
    outcomes = await generator.drive(rate)
    await asyncio.sleep(0)  # let the closed connections go
    return outcomes


class _NullServer(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    def on_message_complete(self) -> None:
        if self.transport is not None:
            self.transport.write(NULL_ANSWER)


async def serve_null(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_NullServer, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    null = commands.add_parser("null-server", help="answer 200 to every request, at next to no cost")
    null.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    handlers: dict[str, Callable[[], int]] = {"null-server": lambda: run(serve_null(args.port)) or 0}
    return handlers[args.command]()


if __name__ == "__main__":
    raise SystemExit(main())
