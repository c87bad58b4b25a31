"""A printer's own pace: how long to wait for its status answers and its job confirmation.

Fixed timeouts fail on slow printers and make fast ones wait for nothing. Each printer's
``Pace`` is learned from its own jobs (an exponential moving average of how long a status
answer took and how many bytes a second it printed until it confirmed) and decides the waits
of the next job, within bounds. The service keeps it per printer in the database, so every
process driving that printer in turn starts from what the others learned.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Before anything is learned: a cheap printer prints a 20 KB raster ticket in about 2 s; wait
# for three times that, plus a fixed allowance for the cut and the answer.
DEFAULT_BYTES_PER_S = 8_000.0
CONFIRM_BASE_S = 3.0
CONFIRM_MAX_S = 60.0
STATUS_FACTOR = 3.0
STATUS_MAX_S = 10.0
_ALPHA = 0.3  # weight of the newest job in the moving averages


@dataclass(frozen=True)
class Pace:
    """What one printer's jobs taught: status answer latency and printing speed."""

    status_s: float | None = None
    bytes_per_s: float | None = None
    jobs: int = 0

    def status_wait(self, configured: float) -> float:
        """How long to wait for one status answer: the setting, or 3× the learned latency."""
        learned = STATUS_FACTOR * self.status_s if self.status_s else 0.0
        return min(STATUS_MAX_S, max(configured, learned))

    def confirm_wait(self, nbytes: int, configured: float = 0.0) -> float:
        """How long to wait for the job's confirmation (``configured`` > 0 fixes it)."""
        if configured > 0:
            return configured
        speed = self.bytes_per_s or DEFAULT_BYTES_PER_S
        return min(CONFIRM_MAX_S, CONFIRM_BASE_S + 3.0 * nbytes / speed)

    def learn(self, timings: dict[str, float], nbytes: int) -> Pace:
        """The pace after a job that took ``timings`` (``status_s``, ``confirm_s``)."""
        status_s = self.status_s
        if timings.get("status_s") is not None:
            status_s = _average(status_s, timings["status_s"])
        speed = self.bytes_per_s
        confirm_s = timings.get("confirm_s")
        if confirm_s is not None and confirm_s > 0 and nbytes > 0:
            speed = _average(speed, nbytes / confirm_s)
        return Pace(status_s, speed, self.jobs + 1)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly dict (stored with the printer's lease)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Pace:
        """The pace stored in ``data`` (a fresh one for None or rubbish)."""
        if not isinstance(data, dict):
            return cls()
        try:
            status_s = data.get("status_s")
            speed = data.get("bytes_per_s")
            return cls(
                float(status_s) if status_s else None,
                float(speed) if speed else None,
                int(data.get("jobs") or 0),
            )
        except (TypeError, ValueError):
            return cls()


def _average(old: float | None, new: float) -> float:
    return new if old is None else (1 - _ALPHA) * old + _ALPHA * new
