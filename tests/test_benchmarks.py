"""The benchmark harness runs end to end at tiny sizes, so it cannot rot.

It asserts that every case produced its rows, that the numbers are positive and finite
and that every correctness check inside the cases passed; never a time.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASES = ["lecture", "chain", "sgd", "memory", "render", "mlp"]


def test_quick_benchmark_run_produces_every_case(tmp_path: Path) -> None:
    out, raw = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    # Fashion-MNIST too (--full): at --quick it trains on a small slice of the data.
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--full"]
    proc = subprocess.run(
        [*cmd, "--out", str(out), "--json", str(raw)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = {r["key"]: r for r in json.loads(raw.read_text())}
    assert list(results) == [*DEFAULT_CASES[:-1], "fashion", "mlp"]  # the order of run.CASES

    for key in DEFAULT_CASES:
        r = results[key]
        assert r["available"], (key, r["notes"])
        assert r["tables"] and all(t["rows"] for t in r["tables"]), key
        assert r["numbers"], key
        for name, value in r["numbers"].items():
            assert math.isfinite(value) and value > 0, (key, name, value)
        assert r["checks"] and all(c["passed"] for c in r["checks"]), (key, r["checks"])
        for t in r["targets"]:
            assert math.isfinite(t["value"]) and t["limit"] >= 0, (key, t)

    # Case by case, the rows that must be there.
    # tensorgraph, tensorgraph compiled, micrograd, torch
    assert len(results["lecture"]["tables"][0]["rows"]) == 4
    assert len(results["chain"]["tables"][0]["rows"]) == 4
    sgd_configs = {row[0] for row in results["sgd"]["tables"][0]["rows"]}
    assert len(sgd_configs) == 4  # {float64, float32} x {svm, softmax}
    assert len(results["sgd"]["targets"]) == 10  # 2 per config, and compiled for the SVMs
    for case in ("lecture", "chain", "sgd"):
        assert any("compiled" in t["what"] for t in results[case]["targets"]), case
    assert any("gc" in t["what"] for t in results["memory"]["targets"])
    assert len(results["mlp"]["tables"][0]["rows"]) == 5  # 3 steps, the GEMMs, the floor
    assert len(results["mlp"]["targets"]) == 2  # x PyTorch, x numpy

    fashion = results["fashion"]
    if Path("/usr/share/datasets/fashion-mnist").is_dir():
        assert fashion["available"], fashion["notes"]
        assert all(c["passed"] for c in fashion["checks"]), fashion["checks"]
        accs = [v for k, v in fashion["numbers"].items() if "accuracy" in k]
        assert len(accs) == 6 and all(0 < a <= 1 for a in accs), fashion["numbers"]
    else:  # only off CI: .ci/run installs the dataset
        assert not os.environ.get("TENSORGRAPH_STRICT"), "strict mode needs the dataset"

    report = out.read_text()
    assert report.startswith("# Benchmarks")
    for key in results:
        assert f"<!-- case:{key} -->" in report
    assert "PASS" in report or "MISS" in report

    # --only reruns one case and keeps every other section of the report as it was.
    old_sections = report.split("<!-- case:chain -->", 1)[1]
    rerun = subprocess.run(
        [*cmd[:-2], "--quick", "--only", "lecture", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    report = out.read_text()
    assert report.split("<!-- case:chain -->", 1)[1] == old_sections
    assert "--only lecture" in report
    assert report.count("<!-- case:") == len(results)
