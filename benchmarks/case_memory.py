"""Case 4: memory stays flat over 2,000 SGD steps at N = 256 (no graph kept between
steps, no reference cycles for the garbage collector to find).

The step is case 3's tensorgraph step (fused SVM loss + L2, float64, D = 3073). We read
the resident set size from /proc/self/status (VmRSS now, VmHWM the peak since we reset
it), count the live Tensor objects, and read the collector's own counters
(gc.get_stats: collections run and objects collected) over the loop, then the number of
unreachable objects a final gc.collect() finds. An engine whose nodes form cycles (as
micrograd's closures do) shows thousands collected here.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import numpy as np

import tensorgraph as tg
from benchmarks.case_sgd import LR, REG, K, fused_losses, tg_fused, tg_primitive
from benchmarks.common import CaseResult, Check, Table, Target, fmt

STATUS = Path("/proc/self/status")


def vm(field: str) -> float:
    """A VmRSS / VmHWM line of /proc/self/status, in MB (nan where there is no /proc)."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def live_tensors() -> int:
    # type() rather than isinstance(): isinstance would touch lazy modules (torch warns).
    return sum(1 for o in gc.get_objects() if type(o) is tg.Tensor)


def run(quick: bool) -> CaseResult:
    res = CaseResult("memory", "4. Memory over 2,000 SGD steps (N = 256, float64 SVM)")
    steps, early, N, D = (60, 10, 32, 97) if quick else (2000, 100, 256, 3073)
    res.title = res.title.replace("2,000", f"{steps:,}").replace("256", str(N))
    rng = np.random.default_rng(0)
    X = tg.tensor(rng.standard_normal((N, D)))
    y = rng.integers(0, K, N)
    W = tg.tensor(rng.standard_normal((K, D)) / np.sqrt(D), requires_grad=True)
    b = tg.tensor(np.zeros(K), requires_grad=True)
    losses = fused_losses()
    data_loss = tg_fused if losses else tg_primitive

    def step() -> float:
        scores = X @ W.T + b
        reg = losses.l2(W) if losses else (W * W).sum()
        loss = data_loss("svm", scores, y) + REG * reg
        loss.backward()
        W.data -= LR * W.grad
        b.data -= LR * b.grad
        W.grad = b.grad = None
        return loss.item()

    step()
    gc.collect()
    peak_reset = reset_peak()
    before = gc.get_stats()
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        step()
        if i == early:
            rss_early, tensors_early = vm("VmRSS"), live_tensors()
    seconds = time.perf_counter() - t0
    after = gc.get_stats()
    rss_end, peak, tensors_end = vm("VmRSS"), vm("VmHWM"), live_tensors()
    unreachable = gc.collect()
    runs = sum(a["collections"] - b["collections"] for a, b in zip(after, before, strict=True))
    collected = sum(a["collected"] - b["collected"] for a, b in zip(after, before, strict=True))

    # Contrast, so the zero above means something: micrograd's nodes are closure cycles.
    from benchmarks.case_lecture import run_micrograd

    gc.collect()
    before_mg = gc.get_stats()
    for _ in range(steps):
        run_micrograd()
    after_mg = gc.get_stats()
    collected_mg = (
        sum(a["collected"] - b["collected"] for a, b in zip(after_mg, before_mg, strict=True))
        + gc.collect()
    )

    rows = [
        [f"RSS after step {early}", f"{fmt(rss_early)} MB"],
        [f"RSS after step {steps}", f"{fmt(rss_end)} MB"],
        [f"growth, step {early} → {steps}", f"{rss_end - rss_early:+.2f} MB"],
        [
            "peak RSS (VmHWM) during the loop" + ("" if peak_reset else " (process peak)"),
            f"{fmt(peak)} MB",
        ],
        [f"live Tensor objects after step {early} / {steps}", f"{tensors_early} / {tensors_end}"],
        ["gc collections run during the loop (all generations)", str(runs)],
        ["objects the gc collected during the loop", str(collected)],
        ["unreachable objects found by gc.collect() after the loop", str(unreachable)],
        ["time per step", f"{fmt(seconds / steps * 1e3)} ms"],
        [
            f"contrast: objects the gc collected over {steps} micrograd lecture examples",
            str(collected_mg),
        ],
    ]
    res.tables.append(Table(["measure", "value"], rows))
    growth = rss_end - rss_early
    res.targets.append(Target(f"RSS growth, step {early} → {steps}", growth, 4.0, " MB"))
    res.targets.append(Target("objects collected by gc (cycles)", collected + unreachable, 0, ""))
    res.checks.append(
        Check("the gc count detects cycles (micrograd's > 0)", collected_mg > 0, str(collected_mg))
    )
    res.checks.append(
        Check(
            "no tensors kept between steps",
            tensors_end == tensors_early,
            f"{tensors_early} → {tensors_end}",
        )
    )
    res.numbers.update(
        {"rss early MB": rss_early, "rss end MB": rss_end, "ms per step": seconds / steps * 1e3}
    )
    res.notes.append(
        "A graph kept alive per step would hold its N×K and K×D arrays (≥ 0.25 MB a step "
        f"here), hundreds of MB over {steps} steps: the 4 MB limit is allocator noise. "
        + (
            "Fused losses (tg.svm_loss, tg.l2)."
            if losses
            else "tg.svm_loss not available yet: the SVM loss is built from primitive ops."
        )
    )
    return res
