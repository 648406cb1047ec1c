"""What every benchmark case shares: timing, results, targets and Markdown tables.

Timing method (the one in the research notes): after a warm-up call, each *round* times
every implementation `repeats` times, one implementation after the other (side by side,
so they see the same machine load), and keeps the median of that round. We report the
median of the round medians, with the smallest and largest round median as the range,
for CPU time (process time) and for wall time. Ratios use CPU time: on a box shared
with other jobs, wall time also counts the time spent waiting for a core, which has
nothing to do with the code measured (one BLAS thread, so CPU time is the work done).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Timing:
    """Seconds per call: median of round medians and min/max round median, wall and CPU."""

    med: float
    lo: float
    hi: float
    cpu: float
    cpu_lo: float
    cpu_hi: float


def measure(
    impls: dict[str, Callable[[], object]],
    rounds: int,
    repeats: int,
    number: int = 1,
) -> dict[str, Timing]:
    """Time each implementation side by side; each sample is `number` calls, per call.

    >>> t = measure({"noop": lambda: None}, rounds=2, repeats=3, number=10)
    >>> t["noop"].med >= 0
    True
    """
    for fn in impls.values():  # warm-up: imports, caches, first allocations
        fn()
    walls: dict[str, list[float]] = {name: [] for name in impls}
    cpus: dict[str, list[float]] = {name: [] for name in impls}
    names = list(impls)
    for r in range(rounds):
        # Rotate the order each round so no implementation always runs first.
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn = impls[name]
            wall, cpu = [], []
            for _ in range(repeats):
                c0, t0 = time.process_time(), time.perf_counter()
                for _ in range(number):
                    fn()
                t1, c1 = time.perf_counter(), time.process_time()
                wall.append((t1 - t0) / number)
                cpu.append((c1 - c0) / number)
            walls[name].append(statistics.median(wall))
            cpus[name].append(statistics.median(cpu))
    return {
        name: Timing(
            med=statistics.median(walls[name]),
            lo=min(walls[name]),
            hi=max(walls[name]),
            cpu=statistics.median(cpus[name]),
            cpu_lo=min(cpus[name]),
            cpu_hi=max(cpus[name]),
        )
        for name in impls
    }


@dataclass
class Target:
    """A ratio (or value) that must stay at or under a limit (or reach it: at_least)."""

    what: str
    value: float
    limit: float
    unit: str = "×"
    at_least: bool = False

    @property
    def passed(self) -> bool:
        if not math.isfinite(self.value):
            return False
        return self.value >= self.limit if self.at_least else self.value <= self.limit


@dataclass
class Check:
    """A correctness check the case ran (a wrong answer makes every timing meaningless)."""

    what: str
    passed: bool
    detail: str = ""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    title: str = ""


@dataclass
class CaseResult:
    """Everything one case reports: tables, targets, checks and notes."""

    key: str
    title: str
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Named numbers for the test and for tooling (all must be positive and finite
    # unless the name says otherwise); the tables show them to people.
    numbers: dict[str, float] = field(default_factory=dict)
    available: bool = True
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for t, target in zip(out["targets"], self.targets, strict=True):
            t["passed"] = target.passed
        return out


def unavailable(key: str, title: str, why: str) -> CaseResult:
    """A case whose dependency has not landed (or is not installed) yet."""
    return CaseResult(key, title, available=False, notes=[f"Not available yet: {why}."])


# ----- formatting -----


def fmt(x: float, digits: int = 3) -> str:
    """A number with `digits` significant figures, no exponent for everyday sizes.

    >>> fmt(0.012345), fmt(1234.5), fmt(3.0)
    ('0.0123', '1230', '3.00')
    """
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    if mag >= digits - 1:
        return f"{round(x, -(mag - digits + 1)):.0f}"
    if mag < -4:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits - 1 - mag}f}"


TIMING_COLUMNS = ["CPU median", "CPU range", "wall median", "wall range"]


def fmt_timing(t: Timing, scale: float = 1.0, bold_wall: bool = False) -> list[str]:
    """The TIMING_COLUMNS: median and min–max of the round medians, CPU then wall."""
    cpu, wall = fmt(t.cpu * scale), fmt(t.med * scale)
    return [
        cpu if bold_wall else f"**{cpu}**",
        f"{fmt(t.cpu_lo * scale)}–{fmt(t.cpu_hi * scale)}",
        f"**{wall}**" if bold_wall else wall,
        f"{fmt(t.lo * scale)}–{fmt(t.hi * scale)}",
    ]


def markdown_table(table: Table) -> str:
    lines = []
    if table.title:
        lines += [f"**{table.title}**", ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "---|" * len(table.columns))
    for row in table.rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def markdown_targets(targets: list[Target]) -> str:
    lines = ["| target | measured | limit | result |", "|---|---|---|---|"]
    for t in targets:
        verdict = "PASS" if t.passed else "**MISS**"
        sign = "≥" if t.at_least else "≤"
        value = fmt(t.value, 4 if t.at_least else 3)  # accuracies: 4 digits
        lines.append(f"| {t.what} | {value}{t.unit} | {sign} {fmt(t.limit)}{t.unit} | {verdict} |")
    return "\n".join(lines)
