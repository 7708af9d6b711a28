"""One guard per upstream, wrapped once around its transport: every call gets a timeout, a
concurrency cap, a circuit breaker (purgatory) and, for reads only, retries with jittered
exponential backoff (tenacity). Writes are never retried here: the outbox retries them with a
natural idempotency key, which is the only safe place to do it.

The guard also keeps the upstream's health (last success, last failure, breaker state) for the
freshness warnings that GraphQL responses carry when the read model may be stale, and tells its
observers (the gateway's metrics) of every attempt: how long it took and how it ended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from adapters.errors import CircuitOpen, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable

T = TypeVar("T")
# (upstream name, seconds, the failure or None): called once per attempt, refused ones included.
CallObserver = Callable[[str, float, BaseException | None], None]


@dataclass(frozen=True, slots=True)
class ResiliencePolicy:
    timeout: float = 5.0  # seconds per call
    read_retries: int = 2  # extra attempts for a read that found the upstream unavailable
    backoff: float = 0.2  # first wait; doubles, jittered, up to backoff_max
    backoff_max: float = 5.0
    concurrency: int = 8  # calls in flight to this upstream, per process
    breaker_threshold: int = 5  # consecutive failures that open the circuit
    breaker_reset: float = 30.0  # seconds open before one trial call


@dataclass(slots=True)
class UpstreamHealth:
    name: str
    last_ok: datetime | None = None
    last_failure: datetime | None = None
    last_error: str | None = None
    breaker: str = "closed"  # purgatory's: closed, opened, half-opened

    @property
    def available(self) -> bool:
        if self.breaker == "opened":
            return False
        return self.last_failure is None or (self.last_ok is not None and self.last_ok >= self.last_failure)


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, UpstreamUnavailable) and not isinstance(exc, CircuitOpen)


class Guard:
    def __init__(self, name: str, policy: ResiliencePolicy | None = None) -> None:
        self.name = name
        self.policy = policy or ResiliencePolicy()
        self.health = UpstreamHealth(name)
        self.calls = 0  # attempts that reached the upstream, for tests and benchmarks
        self.observers: list[CallObserver] = []
        self._slots = asyncio.Semaphore(self.policy.concurrency)
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=self.policy.breaker_threshold,
            default_ttl=self.policy.breaker_reset,
            exclude=[UpstreamRejected],  # a "no" from a healthy upstream is not an outage
        )

    async def call(self, attempt: Callable[[], Awaitable[T]], *, idempotent: bool) -> T:
        if not idempotent or self.policy.read_retries == 0:
            return await self._once(attempt)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.read_retries + 1),
            wait=wait_random_exponential(multiplier=self.policy.backoff, max=self.policy.backoff_max),
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        async for trial in retrying:
            with trial:
                return await self._once(attempt)
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    def observe(self, observer: CallObserver) -> None:
        self.observers.append(observer)

    async def _once(self, attempt: Callable[[], Awaitable[T]]) -> T:
        started = time.perf_counter()
        try:
            result = await self._guarded(attempt)
        except BaseException as exc:
            self._tell(time.perf_counter() - started, exc)
            raise
        self._tell(time.perf_counter() - started, None)
        return result

    def _tell(self, seconds: float, error: BaseException | None) -> None:
        for observer in self.observers:
            observer(self.name, seconds, error)

    async def _guarded(self, attempt: Callable[[], Awaitable[T]]) -> T:
        breaker = await self._breakers.get_breaker(self.name)
        try:
            async with breaker, self._slots:
                self.calls += 1
                try:
                    async with asyncio.timeout(self.policy.timeout):
                        result = await attempt()
                except TimeoutError:
                    raise UpstreamTimeout(
                        f"{self.name} did not answer within {self.policy.timeout:g} s"
                    ) from None
        except OpenedState:
            self.health.breaker = "opened"
            raise CircuitOpen(f"{self.name} is unavailable (circuit open)") from None
        except UpstreamRejected:
            self._ok()
            raise
        except Exception as exc:
            self.health.last_failure = datetime.now(UTC)
            self.health.last_error = str(exc) or type(exc).__name__
            self.health.breaker = breaker.context.state
            raise
        self._ok()
        self.health.breaker = breaker.context.state
        return result

    def _ok(self) -> None:
        self.health.last_ok = datetime.now(UTC)
