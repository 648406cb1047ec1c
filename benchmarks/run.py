"""Run every benchmark case side by side and rewrite BENCHMARKS.md.

    python3 dev.py bench                  # every case but Fashion-MNIST (a few minutes)
    python3 dev.py bench --full           # and Fashion-MNIST end to end (long)
    python3 dev.py bench --only sgd       # one case (the other sections are kept)
    python3 dev.py bench --only mlp       # the two-layer net's training step
    python3 dev.py bench --quick --out /tmp/b.md   # tiny sizes, few rounds (the test)

BLAS is pinned to one thread (threadpoolctl, and torch.set_num_threads(1)): on a small
shared machine a second BLAS thread mostly waits for a busy core, and one thread makes
the ratios between implementations stable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

# One BLAS/OpenMP thread for every library, set before any of them is loaded (each reads
# these once, when loaded); threadpoolctl below re-applies it to those already loaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` and `tensorgraph` importable
    sys.path.insert(0, str(ROOT))

from benchmarks.common import CaseResult, markdown_table, markdown_targets  # noqa: E402

# Case key -> module. Order is the order of BENCHMARKS.md.
CASES = {
    "lecture": "benchmarks.case_lecture",
    "chain": "benchmarks.case_chain",
    "sgd": "benchmarks.case_sgd",
    "memory": "benchmarks.case_memory",
    "render": "benchmarks.case_render",
    "fashion": "benchmarks.case_fashion",
    "mlp": "benchmarks.case_mlp",
}
DEFAULT = [k for k in CASES if k != "fashion"]  # Fashion-MNIST takes minutes: --full
FINDINGS = Path(__file__).resolve().parent / "findings.md"


def machine() -> dict[str, object]:
    """The machine, the BLAS and the library versions, for the report's header."""
    import numpy as np
    import threadpoolctl
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        text = Path("/proc/cpuinfo").read_text()
        if m := re.search(r"^model name\s*:\s*(.+)$", text, re.M):
            cpu = m.group(1).strip()
    except OSError:
        pass
    blas = []
    for info in threadpoolctl.threadpool_info():
        desc = f"{info.get('internal_api')} {info.get('version') or ''}".strip()
        if info.get("architecture"):
            desc += f" ({info['architecture']})"
        blas.append(
            f"{desc}, {info.get('num_threads')} thread(s) in the run [{info.get('prefix')}]"
        )
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for dist in ("torch", "micrograd", "scikit-learn", "threadpoolctl", "tensorgraph"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        # The checkout is shared while people work: say when the code measured is not
        # exactly the commit named.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "tensorgraph", "viz"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
        changed = [line[3:] for line in dirty if line.strip()]
        if changed:
            commit += " + uncommitted changes to " + ", ".join(changed)
    except OSError:
        commit = ""
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "blas": blas,
        "torch_blas": f"torch {torch.__version__}: MKL {torch.backends.mkl.is_available()}, "
        f"{torch.get_num_threads()} thread(s) during the run",
        "versions": versions,
        "commit": commit,
    }


def run_case(key: str, quick: bool) -> CaseResult:
    import threadpoolctl

    t0 = time.perf_counter()
    module = importlib.import_module(CASES[key])
    # After the case's imports, so a BLAS it loaded (scipy's, for one) is pinned too.
    with threadpoolctl.threadpool_limits(limits=1):
        result: CaseResult = module.run(quick)
    result.seconds = time.perf_counter() - t0
    return result


def render_section(res: CaseResult, stamp: str) -> str:
    parts = [f"## {res.title}", ""]
    if not res.available:
        parts += [*res.notes, ""]
        return "\n".join(parts)
    parts += [f"_{stamp}; {res.seconds:.0f} s._", ""]
    for table in res.tables:
        parts += [markdown_table(table), ""]
    if res.targets:
        parts += [markdown_targets(res.targets), ""]
    if res.checks:
        bad = [c for c in res.checks if not c.passed]
        if bad:
            parts += [f"- **CHECK FAILED**: {c.what} ({c.detail})" for c in bad]
        elif len(res.checks) <= 4:
            parts.append("Checks passed: " + "; ".join(c.what for c in res.checks) + ".")
        else:
            parts.append(f"All {len(res.checks)} correctness checks passed.")
        parts.append("")
    parts += [f"- {n}" for n in res.notes]
    return "\n".join(parts).rstrip() + "\n"


SECTION = re.compile(r"<!-- case:(\w+) -->\n(.*?)<!-- /case:\1 -->\n", re.S)


def write_report(
    out: Path, results: list[CaseResult], info: dict, command: str, load: tuple
) -> None:
    """Rewrite `out`; a case not run this time keeps its section from the old file."""
    old = dict(SECTION.findall(out.read_text())) if out.exists() else {}
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    fresh = {r.key: render_section(r, f"Run {stamp}, commit {info['commit']}") for r in results}
    v = info["versions"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `python3 dev.py bench` (`benchmarks/run.py`); do not edit by hand "
        "(notes go in `benchmarks/findings.md`, which is copied in below).",
        "",
        f"Last command: `{command}` at {stamp}, commit {info['commit']}.",
        "",
        "## Machine",
        "",
        f"- CPU: {info['cpu']}, {info['cores']} logical cores",
        "- BLAS: " + "; ".join(info["blas"]),
        f"- {info['torch_blas']}",
        f"- Load average (1 min) {load[0]:.2f} at the start, {load[1]:.2f} at the end",
        "- Versions: " + ", ".join(f"{k} {v[k]}" for k in v),
        "",
        "## Method",
        "",
        "BLAS pinned to 1 thread (threadpoolctl) and `torch.set_num_threads(1)`. After a "
        "warm-up call, each round times every implementation side by side (same load), "
        "several repeats each; tables show the **median of the round medians** and the "
        "range of the round medians (min–max), for CPU time (this process) and wall time. "
        "Ratios and PASS/MISS use the CPU-time medians measured in the same run: the "
        "machine is shared, and wall time also counts waiting for a core, which the code "
        "measured does not cause (see the load average above). Rendering is the exception: "
        "the system `dot` runs in a child process, so its targets use wall time. The "
        "garbage collector stays on, as in a user's process.",
        "",
    ]
    # Summary: PASS/MISS counted from each section's target table (old sections too).
    lines += ["## Summary", "", "| case | targets met | missed |", "|---|---|---|"]
    for key in CASES:
        body = fresh.get(key, old.get(key))
        if body is None:
            continue
        title = body.split("\n", 1)[0].removeprefix("## ")
        passed, missed = body.count("| PASS |"), body.count("| **MISS** |")
        if passed + missed == 0:
            passed = "—" if "Not available yet" not in body else "not available yet"
        lines.append(f"| {title} | {passed} | {missed or ''} |")
    lines.append("")
    for key in CASES:
        body = fresh.get(key, old.get(key))
        if body is not None:
            lines += [f"<!-- case:{key} -->", body.rstrip("\n"), f"<!-- /case:{key} -->", ""]
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().rstrip("\n"), ""]
    out.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few rounds (the test)")
    parser.add_argument("--full", action="store_true", help="also Fashion-MNIST end to end")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(CASES),
        metavar="CASE",
        help=f"run only this case (repeatable): {', '.join(CASES)}",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md", help="report file")
    parser.add_argument("--json", type=Path, help="also write the raw results as JSON")
    args = parser.parse_args(argv)
    keys = args.only or (list(CASES) if args.full else DEFAULT)

    import numpy  # noqa: F401 - load numpy's BLAS before threadpoolctl pins it
    import threadpoolctl
    import torch

    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    results = []
    with threadpoolctl.threadpool_limits(limits=1):
        info = machine()
        for key in keys:
            print(f"== {key}", flush=True)
            res = run_case(key, args.quick)
            results.append(res)
            for t in res.targets:
                sign = "≥" if t.at_least else "≤"
                print(
                    f"   {t.what}: {t.value:.4g}{t.unit} ({sign} {t.limit:g}) "
                    f"{'PASS' if t.passed else 'MISS'}",
                    flush=True,
                )
            for c in res.checks:
                if not c.passed:
                    print(f"   CHECK FAILED: {c.what} ({c.detail})", flush=True)
            if not res.available:
                print("   " + " ".join(res.notes), flush=True)
    command = "python3 dev.py bench " + " ".join(sys.argv[1:] if argv is None else argv)
    write_report(args.out, results, info, command.strip(), (load0, os.getloadavg()[0]))
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in results], indent=1))
    print(f"wrote {args.out}")
    return 1 if any(not c.passed for r in results for c in r.checks) else 0


if __name__ == "__main__":
    sys.exit(main())
