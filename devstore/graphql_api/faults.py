"""Switchable failures: 429 with Retry-After, 503, slow answers, connections dropped mid-body."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Fault(StrEnum):
    HTTP_429 = "http_429"
    HTTP_503 = "http_503"
    SLOW = "slow_ms"
    DROP_CONNECTION = "drop_connection"


@dataclass
class FaultRule:
    probability: float = 0.0
    every_nth: int = 0
    count: int = 0

    def fires(self, rng: random.Random) -> bool:
        self.count += 1
        if self.every_nth > 0 and self.count % self.every_nth == 0:
            return True
        return self.probability > 0 and rng.random() < self.probability


@dataclass
class FaultDecision:
    status: int | None = None
    delay_ms: int = 0
    drop_connection: bool = False


@dataclass
class FaultModes:
    """What fails and how often. `configure` takes the JSON of `POST /_devstore/faults`:

    `{"seed": 7, "http_429": {"probability": 0.1}, "http_503": {"every_nth": 5},
      "slow_ms": {"ms": 800, "probability": 0.5}, "drop_connection": {"every_nth": 3},
      "retry_after_seconds": 2.0}`; a bare number is a probability; `{}` or `null` clears a mode.
    """

    rules: dict[Fault, FaultRule] = field(default_factory=dict)
    slow_ms: int = 0
    retry_after_seconds: float = 2.0
    seed: int = 0
    _rng: random.Random = field(default_factory=lambda: random.Random(0))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, settings: dict[str, Any]) -> None:
        with self._lock:
            if "seed" in settings:
                self.seed = int(settings["seed"])
                self._rng = random.Random(self.seed)
            if "retry_after_seconds" in settings:
                self.retry_after_seconds = float(settings["retry_after_seconds"])
            for fault in Fault:
                if fault.value not in settings:
                    continue
                value = settings[fault.value]
                if not value:
                    self.rules.pop(fault, None)
                    continue
                if isinstance(value, int | float):
                    value = {"probability": float(value)}
                if fault is Fault.SLOW:
                    self.slow_ms = int(value.get("ms", self.slow_ms or 1000))
                    if "probability" not in value and "every_nth" not in value:
                        value = {**value, "probability": 1.0}
                self.rules[fault] = FaultRule(
                    probability=float(value.get("probability", 0.0)), every_nth=int(value.get("every_nth", 0))
                )

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self._rng = random.Random(self.seed)

    def decide(self) -> FaultDecision:
        decision = FaultDecision()
        with self._lock:
            rules = dict(self.rules)
            if (rule := rules.get(Fault.SLOW)) and rule.fires(self._rng):
                decision.delay_ms = self.slow_ms
            if (rule := rules.get(Fault.DROP_CONNECTION)) and rule.fires(self._rng):
                decision.drop_connection = True
            elif (rule := rules.get(Fault.HTTP_429)) and rule.fires(self._rng):
                decision.status = 429
            elif (rule := rules.get(Fault.HTTP_503)) and rule.fires(self._rng):
                decision.status = 503
        return decision

    def as_json(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"seed": self.seed, "retry_after_seconds": self.retry_after_seconds}
        for fault, rule in self.rules.items():
            entry: dict[str, Any] = {"probability": rule.probability, "every_nth": rule.every_nth}
            if fault is Fault.SLOW:
                entry["ms"] = self.slow_ms
            settings[fault.value] = entry
        return settings
