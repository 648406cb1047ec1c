"""The README's Python examples run as written, in order, and print what it says."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from viz.cli import main as cli_main

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_python_examples_run_in_order(tmp_path, monkeypatch, capsys):
    code = blocks("python")
    assert len(code) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in code:
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    # The first block's comment promises these gradients.
    assert "-8.0 6.0 2.0 0.0" in out
    assert namespace["f"].item() == -20
    # The in-place example raised and printed the error it promises.
    assert "backward: input 0 of mul (shape (2,), a leaf) was modified in place" in out
    # The drawing examples wrote what they name.
    for name in ("lecture.png", "lecture.svg", "lecture.html"):
        assert (tmp_path / name).stat().st_size > 0
    assert sorted(p.suffix for p in (tmp_path / "frames").iterdir())[0] == ".png"
    # The classifier example evaluated the test split once, with a real accuracy.
    assert namespace["search"].best_model.score(namespace["X_te"], namespace["y_te"]) > 0.9
    # The two-layer net: trained, drawn, equal to PyTorch's loss and gradients.
    assert float(re.search(r"test accuracy ([\d.]+)", out).group(1)) > 0.9
    assert "Linear(in_features=64, out_features=100, bias=True)" in out
    assert out.count("True") >= 2 and "False" not in out
    assert (tmp_path / "two_layer_net.svg").stat().st_size > 0


def test_shell_draw_examples_run(tmp_path, monkeypatch, capsys):
    commands = [
        line
        for block in blocks("sh")
        for line in block.splitlines()
        if line.startswith("tensorgraph draw")
    ]
    assert commands
    monkeypatch.chdir(tmp_path)
    for line in commands:
        argv = shlex.split(line)[1:]
        assert cli_main(argv) == 0, line
        target = argv[argv.index("-o") + 1]
        assert (tmp_path / target).stat().st_size > 0
    assert "-20" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["python3 dev.py demo", "python3 dev.py test"])
def test_the_two_commands_are_documented(command):
    assert command in README.read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "\npython3 dev.py test\n" in ci
