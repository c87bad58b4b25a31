"""The machine's CPU time over a measured window, from /proc/stat (Linux).

On a shared virtual machine the hypervisor lends our CPUs to other guests: that time is
"steal". A tenth of the time stolen in slices of some milliseconds shows up directly in
a latency tail, whatever the code does; the benchmarks print it beside their figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuSample:
    """Jiffies of all CPUs: busy (user, system, ...), idle, steal."""

    busy: int
    idle: int
    steal: int

    @classmethod
    def now(cls) -> CpuSample:
        """Read the first line of /proc/stat (zeros where there is none)."""
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        except OSError:
            return cls(0, 0, 0)
        user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        return cls(user + nice + system + irq + softirq, idle + iowait, steal)

    def until(self, later: CpuSample) -> str:
        """'busy 23%, steal 4%' of the CPU time between this sample and a later one."""
        busy, idle, steal = (
            later.busy - self.busy,
            later.idle - self.idle,
            later.steal - self.steal,
        )
        total = busy + idle + steal
        if total <= 0:
            return "busy ?, steal ?"
        return f"busy {100 * busy / total:.0f}%, steal {100 * steal / total:.0f}%"
