"""dev.py: what each command installs (the demo is light, the tests have their tools)."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
# What only the tests, the benchmarks or the PyTorch comparison need.
TEST_TOOLS = {"pytest", "hypothesis", "ruff", "torch", "scikit-learn", "micrograd", "playwright"}


def _dev():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["dev_script"] = module
    spec.loader.exec_module(module)
    return module


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings ("torch==2.13.0; ..." -> "torch")."""
    return {re.match(r"[A-Za-z0-9_.\-]+", r).group(0).lower() for r in requirements}


def _requirements(extras: str) -> set[str]:
    """Everything ``pip install -e .[extras]`` asks for, by name."""
    names = _names(PROJECT["dependencies"])
    for extra in filter(None, extras.split(",")):
        names |= _names(PROJECT["optional-dependencies"][extra])
    return names


def test_demo_installs_the_base_package_without_the_test_tools():
    dev = _dev()
    extras, args = dev.extras_for("demo", ["--quick"])
    assert (extras, args) == ("", ["--quick"])
    demo = _requirements(extras)
    assert {"numpy", "networkx", "graphviz", "matplotlib", "tqdm"} <= demo
    assert demo.isdisjoint(TEST_TOOLS), demo & TEST_TOOLS


def test_demo_with_torch_adds_the_pinned_torch_and_nothing_else():
    dev = _dev()
    extras, args = dev.extras_for("demo", ["--with-torch", "--out", "x"])
    assert (extras, args) == ("torch", ["--out", "x"])  # the flag is dev.py's, not the demo's
    assert PROJECT["optional-dependencies"]["torch"] == ["torch==2.13.0"]
    assert _requirements(extras) - _requirements("") == {"torch"}


@pytest.mark.parametrize("command", ["test", "bench"])
def test_test_and_bench_keep_their_tools(command):
    dev = _dev()
    extras, _ = dev.extras_for(command, ["--with-torch"])  # only demo knows the flag
    assert "test" in extras.split(",")
    assert _requirements(extras) >= TEST_TOOLS
    # Every torch the project names is the pinned CPU build: never an unpinned one.
    for reqs in PROJECT["optional-dependencies"].values():
        for r in reqs:
            if _names([r]) == {"torch"}:
                assert r.startswith("torch==2.13.0"), r


def test_pip_progress_is_one_short_line_per_step():
    dev = _dev()
    line = dev._progress_line
    assert line("Collecting pygraphviz>=2.0.4 (from tensorgraph==0.1.0)\n") == (
        "Collecting pygraphviz>=2.0.4"
    )
    assert line("Processing /opt/x/numpy-2.4.6-cp311.whl (from tensorgraph==0.1.0)") == (
        "Processing numpy-2.4.6-cp311.whl"
    )
    assert line("Installing build dependencies: started") is None
    assert line("  Requirement already satisfied: numpy in ./.venv") is None
    assert line("Successfully installed numpy-2.4.6 " + "x" * 300).endswith("...")


def test_install_stamp_skips_a_second_install(tmp_path, monkeypatch):
    dev = _dev()
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname='x'\n")
    venv = root / ".venv"
    monkeypatch.setattr(dev, "ROOT", root)
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "PY", venv / "bin" / "python")
    monkeypatch.setattr(dev, "make_venv", lambda: (venv.mkdir(exist_ok=True), ["pip"])[1])
    targets: list[str] = []
    monkeypatch.setattr(dev, "pip_install", lambda pip, target: targets.append(target))
    dev.install("test")
    dev.install("")  # demo after test: the base is in already
    dev.install("test")
    assert targets == [".[test]"]
    dev.install("torch")  # demo --with-torch: one more extra
    dev.install("test")
    assert targets == [".[test]", ".[torch]"]
    (root / "pyproject.toml").write_text("[project]\nname='y'\n")  # changed: install again
    dev.install("")
    assert targets == [".[test]", ".[torch]", "."]


def test_doctests():
    import doctest

    result = doctest.testmod(_dev())
    assert result.attempted >= 4 and result.failed == 0
