"""The `tensorgraph` command: draw (a safe expression language) and demo, run in-process."""

from __future__ import annotations

import ast
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch

from viz import cli
from viz.course import demo as course_demo
from viz.expr import ExpressionError, evaluate, parse, parse_value

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LECTURE = "2*(x*y + max(z, w))"


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def printed(out: str) -> dict[str, str]:
    """`name = value` entries of the output as a dict (a value may span lines)."""
    return dict(re.findall(r"^(\S+) = (.+?)\n(?=\S+ = |wrote |\(|\Z)", out, flags=re.M | re.S))


def test_draw_the_lecture(capsys, tmp_path: Path) -> None:
    target = tmp_path / "lecture.png"
    code, out, err = run(capsys, "draw", LECTURE, "x=3", "y=-4", "z=2", "w=-1", "-o", str(target))
    assert code == 0, err
    values = printed(out)
    x, y, z, w = (
        torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3.0, -4.0, 2.0, -1.0)
    )
    f = 2 * (x * y + torch.maximum(z, w))
    f.backward()
    assert float(values["f"]) == f.item()
    for name, t in zip("xyzw", (x, y, z, w), strict=True):
        assert float(values[f"df/d{name}"]) == t.grad.item()
    png = target.read_bytes()
    assert png[:8] == PNG_SIGNATURE and len(png) > 5000
    assert f"wrote {target}" in out


def test_draw_matrices_against_torch(capsys, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(2, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    target = tmp_path / "m.svg"
    code, out, err = run(
        capsys,
        "draw",
        "sum(relu(X @ W + b)) / 2",
        f"X={X.tolist()}",
        f"W={W.T.tolist()}",
        f"b={b.tolist()}",
        "-o",
        str(target),
        "--rankdir",
        "TB",
    )
    assert code == 0, err
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (X, W.T, b))
    tf = torch.relu(tx @ tw + tb).sum() / 2
    tf.backward()
    values = printed(out)
    assert float(values["f"]) == pytest.approx(tf.item(), rel=1e-9)
    grad_w = np.array(ast.literal_eval(values["df/dW"]))
    np.testing.assert_allclose(grad_w, tw.grad.numpy(), rtol=1e-6, atol=1e-9)
    assert target.read_text().lstrip().startswith("<?xml")


def test_draw_without_output_only_prints(capsys) -> None:
    code, out, _ = run(capsys, "draw", "x ** 2 + 2 ** x", "x=3")
    assert code == 0
    assert float(printed(out)["f"]) == 9 + 8
    assert float(printed(out)["df/dx"]) == pytest.approx(6 + 8 * np.log(2), rel=1e-9)


def test_non_scalar_output_is_seeded_with_ones(capsys) -> None:
    code, out, _ = run(capsys, "draw", "x * x", "x=[1, 2, 3]")
    assert code == 0 and "seeded with ones" in out
    assert ast.literal_eval(printed(out)["df/dx"]) == [2.0, 4.0, 6.0]


@pytest.mark.parametrize(
    ("expr", "named"),
    [
        ("__import__('os')", "__import__"),
        ("__import__('os').system('true')", "attribute access"),
        ("x.__class__", "attribute access"),
        ("q * x", "unknown name 'q'"),
        ("exp * x", "exp is a function"),
        ("(lambda: 1)()", "lambda"),
        ("sum([x for _ in [1]])", "comprehensions"),
        ("x[x]", "subscripts"),
        ("sum(x, axis=0)", "keyword arguments"),
        ("x ** 100000", "exponent"),
        ("2 ** 2 ** 100000", "exponent"),
        ("x if x else x", "if-expressions"),
        ("x < 1", "comparisons"),
        ("x // 2", "operator"),
        ("'os'", "only numbers"),
        ("exp(x, x)", "exp() takes 1"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("(" * 60 + "x" + ")" * 60 + " + " + "-" * 60 + "x", "nest"),
        ("-" * 1900 + "x", "nest"),
        ("x +", "not a valid expression"),
        ("", "empty"),
        ("x " * 1500, "longer than"),
    ],
)
def test_draw_refuses(capsys, tmp_path: Path, expr: str, named: str) -> None:
    target = tmp_path / "never.png"
    code, out, err = run(capsys, "draw", "-o", str(target), "--", expr, "x=3")
    assert code == 2
    assert "refused" in err and named in err
    assert not target.exists() and "f =" not in out


@pytest.mark.parametrize(
    ("binding", "named"),
    [
        ("x=abc", "not a number"),
        ("x=[1, [2]]", "rectangular"),
        ("x=__import__('os')", "not a number"),
        ("x=1j", "not a number"),
        ("x='s'", "not a number"),
        ("x", "NAME=VALUE"),
        ("1x=2", "not a valid name"),
        ("for=2", "not a valid name"),
        (f"x={[0.0] * 20_000}", "at most"),
    ],
)
def test_bad_values_are_refused(capsys, binding: str, named: str) -> None:
    code, _, err = run(capsys, "draw", "x * 2", binding)
    assert code == 2 and named in err


def test_duplicate_binding_and_shape_errors(capsys) -> None:
    code, _, err = run(capsys, "draw", "x * 2", "x=1", "x=2")
    assert code == 2 and "twice" in err
    code, _, err = run(capsys, "draw", "a @ b", "a=[1, 2]", "b=[1, 2, 3]")
    assert code == 2 and "matmul" in err and "(2,)" in err


def test_expression_language_semantics() -> None:
    # max/min with one argument reduce, with two they are elementwise (the max gate)
    f, xs = evaluate("max(x) + min(x, 0.5) * 1", {"x": [1.0, -2.0, 3.0]})
    f.backward(np.ones(3))
    tx = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    tf = torch.amax(tx) + torch.minimum(tx, torch.tensor(0.5, dtype=torch.float64))
    tf.backward(torch.ones(3, dtype=torch.float64))
    assert f.data.tolist() == tf.tolist()
    assert xs["x"].grad.tolist() == tx.grad.tolist()
    with pytest.raises(ExpressionError, match="no variable"):
        evaluate("1 + 2", {})
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate("x + 1 / 0", {"x": 1.0})
    assert parse_value("[[1, 2], [3, 4]]").shape == (2, 2)
    parse("sigmoid(tanh(sqrt(abs(log(exp(relu(mean(x))))))))", {"x"})


def test_demo_writes_the_lecture_graphs(capsys, tmp_path: Path, monkeypatch) -> None:
    # The lecture part only: the classifier part does nothing.
    monkeypatch.setattr(course_demo, "run_demo", lambda *args, **kwargs: None)
    code, out, err = run(capsys, "demo", "--out", str(tmp_path))
    assert code == 0, err
    assert "f = -20" in out
    for stage in ("forward", "backward"):
        svg = tmp_path / f"lecture_{stage}.svg"
        png = tmp_path / f"lecture_{stage}.png"
        assert f"wrote {svg}" in out and f"wrote {png}" in out
        assert png.read_bytes()[:8] == PNG_SIGNATURE
        texts = [t.text for t in ET.parse(svg).iter("{http://www.w3.org/2000/svg}text")]
        assert ("grad -8" in texts) == (stage == "backward")
        assert any("run backward" in t for t in texts) == (stage == "forward")


def test_demo_hands_over_to_the_report(capsys, tmp_path: Path, monkeypatch) -> None:
    calls = []

    def run_demo(out, dataset, quick=False, lecture=True, split=None):
        calls.append((out, dataset, quick, lecture, split.name))
        return out / "index.html"

    monkeypatch.setattr(course_demo, "run_demo", run_demo)
    code, out, _ = run(capsys, "demo", "--out", str(tmp_path), "--quick", "--dataset", "digits")
    assert code == 0 and "f = -20" in out
    # After the lecture, not redrawn; with the data the command loaded (and checked) first.
    assert calls == [(tmp_path, "digits", True, False, "digits")]


def test_bindings_may_follow_the_options(capsys, tmp_path: Path) -> None:
    target = tmp_path / "g.svg"
    code, out, _ = run(capsys, "draw", "x*y", "-o", str(target), "x=3", "y=2")
    assert code == 0 and printed(out)["df/dx"] == "2" and target.exists()
    with pytest.raises(SystemExit):
        cli.main(["draw", "x*y", "-o", str(target), "x=3", "--bogus"])


def _column(n: int) -> str:
    return "x=" + str([[float(i)] for i in range(n)])


@pytest.mark.parametrize(
    ("expr", "bindings", "shape"),
    [
        # A 2,000-entry column times a 2,000-entry row: 4 million entries (the issue's
        # 10,000 x 10,000 ran 22 s at 10 GB).
        ("x * y", [_column(2000), f"y={list(range(2000))}"], "(2000, 2000)"),
        ("sum(x - y) + 1", [_column(2000), f"y={list(range(2000))}"], "(2000, 2000)"),
        ("max(x, y)", [_column(2000), f"y={list(range(2000))}"], "(2000, 2000)"),
        ("x @ y", [_column(2000), f"y={[list(range(2000))]}"], "(2000, 2000)"),
        # Three bindings broadcast to 8 million entries (at 10,000 each: 7 TiB).
        (
            "x * y * z",
            [
                "x=" + str([[[1.0]]] * 200),
                "y=" + str([[[1.0]] * 200]),
                "z=" + str([[[1.0] * 200]]),
            ],
            "(200, 200, 200)",
        ),
    ],
)
def test_intermediates_are_bounded_before_they_are_made(
    capsys, expr: str, bindings: list[str], shape: str
) -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        code, out, err = run(capsys, "draw", expr, *bindings)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 2 and "f =" not in out
    assert "refused:" in err and shape in err and "at most 1,000,000" in err
    assert err.count("\n") == 1  # one line, no traceback
    assert peak < 30 << 20, f"{peak / 2**20:.0f} MiB allocated before refusing"


def test_intermediate_bounds_leave_room_for_real_work(capsys) -> None:
    # 500 x 500 = 250,000 entries: fine. A 1,000 x 1,000 matrix times itself is a
    # billion multiply-adds: refused, naming both shapes.
    code, out, err = run(capsys, "draw", "sum(x * y)", _column(500), f"y={list(range(500))}")
    assert code == 0, err
    assert float(printed(out)["f"]) == sum(range(500)) ** 2
    code, _, err = run(capsys, "draw", "(x * y) @ (x * y)", _column(1000), f"y={list(range(1000))}")
    assert code == 2 and "(1000, 1000) @ (1000, 1000)" in err and "multiply-adds" in err
    # The total over all tensors is bounded as well: eleven 1,000,000-entry tensors.
    terms = " + ".join(["x * y"] * 6)
    code, _, err = run(capsys, "draw", terms, _column(1000), f"y={list(range(1000))}")
    assert code == 2 and "10,000,000 entries in all" in err


def _one_line(err: str, command: str) -> str:
    assert err.count("\n") == 1 and err.startswith(f"tensorgraph {command}: "), err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("command", ["draw", "animate"])
def test_output_paths_that_cannot_be_written(capsys, tmp_path: Path, command: str) -> None:
    suffix = ".svg" if command == "draw" else ".html"
    folder = tmp_path / f"pictures{suffix}"
    folder.mkdir()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file, not a folder")
    cases = {
        str(folder): "is a folder",
        str(a_file / f"graph{suffix}"): "is a file, not a folder",
        str(a_file / "deeper" / f"graph{suffix}"): "is a file, not a folder",
    }
    for output, named in cases.items():
        code, out, err = run(capsys, command, "x * 2", "x=3", "-o", output)
        assert code == 2 and named in _one_line(err, command)
        assert "f =" not in out  # refused before any work
    assert a_file.read_text() == "a file, not a folder"
    assert list(folder.iterdir()) == []


def test_unwritable_folder_is_one_line(capsys, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: nothing to refuse
            return
        code, _, err = run(capsys, "draw", "x * 2", "x=3", "-o", str(locked / "g.svg"))
        assert code == 2 and "Permission denied" in _one_line(err, "draw")
    finally:
        locked.chmod(0o700)


def test_animate_refuses_what_is_not_a_page(capsys, tmp_path: Path) -> None:
    for name in ("x.svg", "x.png", "x"):
        code, out, err = run(capsys, "animate", "x * 2", "x=3", "-o", str(tmp_path / name))
        assert code == 2 and "HTML page" in _one_line(err, "animate")
        assert "f =" not in out
    assert list(tmp_path.iterdir()) == []
    code, _, err = run(capsys, "draw", "x * 2", "x=3", "-o", str(tmp_path / "x.txt"))
    assert code == 2 and "draw writes .svg, .png, .pdf, .dot or .gv, not .txt" in _one_line(
        err, "draw"
    )


@pytest.mark.parametrize("command", ["draw", "animate"])
@pytest.mark.parametrize("title", ["\ufffe", "\uffff", "\udcff (an undecodable byte)", "\x00"])
def test_titles_xml_forbids_are_drawn(capsys, tmp_path: Path, command: str, title: str) -> None:
    target = tmp_path / ("t.svg" if command == "draw" else "t.html")
    code, _, err = run(capsys, command, "x * 2", "x=3", "--title", title, "-o", str(target))
    assert code == 0, err
    if command == "draw":
        ET.fromstring(target.read_bytes())  # well-formed
    assert "?" in target.read_text(encoding="utf-8")


def test_empty_binding_to_animate_is_a_page_or_one_line(capsys, tmp_path: Path) -> None:
    # An empty tensor in the step-by-step frames is the engine side's to draw (viz.steps);
    # the command itself must never print a traceback for it.
    target = tmp_path / "empty.html"
    code, _, err = run(capsys, "animate", "x * 2", "x=[]", "-o", str(target))
    if code == 0:
        assert target.exists()
    else:
        assert code == 2 and _one_line(err, "animate")
    code, out, err = run(capsys, "draw", "x * 2", "x=[]", "-o", str(tmp_path / "empty.svg"))
    assert code == 0, err


def test_more_failures_are_one_line(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "draw", "x * 2", "x=3", "-o", "")
    assert code == 2 and "needs a file name" in _one_line(err, "draw") and "f =" not in out
    target = str(tmp_path / "g.svg")
    for command in ("draw", "animate"):
        output = target if command == "draw" else target.replace(".svg", ".html")
        code, out, err = run(capsys, command, "x * 2", "x=3", "--max-entries", "0", "-o", output)
        assert code == 2 and "--max-entries must be at least 1" in _one_line(err, command)
        assert "f =" not in out
    # numpy's overflow warning: a one-line note, not a file name, line and source line.
    code, out, err = run(capsys, "draw", "x ** 1000", "x=10")
    assert code == 0 and printed(out)["f"] == "inf"
    assert "note: f = inf, df/dx = inf" in _one_line(err, "draw")


def test_disk_full_is_one_line_naming_the_file(capsys, tmp_path: Path, monkeypatch) -> None:
    import errno

    import viz.files

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(viz.files.os, "fsync", full)
    target = tmp_path / "g.svg"
    code, _, err = run(capsys, "draw", "x * 2", "x=3", "-o", str(target))
    assert code == 2
    assert f"cannot write {target}: No space left on device" in _one_line(err, "draw")
    assert list(tmp_path.iterdir()) == []


# ----- issue 16, item 7: the first hour at the command line -----


def test_help_is_formatted_text_with_demo_as_the_main_job(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "``" not in text and "`" not in text  # no reStructuredText
    lines = text.splitlines()
    # The examples stand on lines of their own, as written (not run together).
    assert '  tensorgraph draw "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o lecture.png' in lines
    demo = next(line for line in lines if line.strip().startswith("demo "))
    assert "the main job" in demo
    assert max(len(line) for line in lines) <= 90


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("max(z, ww)", "unknown name 'ww'; did you mean w? (or bind it with ww=VALUE)"),
        ("max(z, W)", "did you mean w?"),
        ("mx(z, w)", "unknown function 'mx' (did you mean max?)"),
        ("maximum(z, w)", "unknown function 'maximum' (did you mean max?)"),
        ("sigmod(z)", "(did you mean sigmoid?)"),
        ("max(z, q)", "unknown name 'q'; bind it with q=VALUE"),
    ],
)
def test_a_misspelt_name_gets_a_suggestion(capsys, expression, says) -> None:
    code, out, err = run(capsys, "draw", expression, "z=2", "w=-1")
    assert code == 2 and says in _one_line(err, "draw") and out == ""


@pytest.mark.parametrize("command", ["draw", "animate"])
@pytest.mark.parametrize(
    ("expression", "value", "says"),
    [
        ("sum(log(x))", "x=[0, 1, 2]", "f = -inf, df/dx holds inf"),
        ("sqrt(x)", "x=-1", "f = nan"),
        ("exp(-1/x)", "x=0", "df/dx = nan"),
    ],
)
def test_inf_and_nan_are_one_note_without_paths(capsys, tmp_path, command, expression, value, says):
    target = tmp_path / ("g.svg" if command == "draw" else "g.html")
    code, _, err = run(capsys, command, expression, value, "-o", str(target))
    line = _one_line(err, command)
    assert code == 0 and says in line and "tg.detect_anomaly()" in line
    assert ".py" not in line and "encountered" not in line and "/" not in line.split("note:")[0]


def test_animate_title_defaults_to_the_expression(capsys, tmp_path) -> None:
    target = tmp_path / "a.html"
    code, _, _ = run(capsys, "animate", "x*y + x", "x=3", "y=2", "-o", str(target))
    page = target.read_text(encoding="utf-8")
    assert code == 0 and "<title>x*y + x</title>" in page and "<h1>x*y + x</h1>" in page
    run(capsys, "animate", "x*y", "x=3", "y=2", "--title", "mine", "-o", str(target))
    assert "<title>mine</title>" in target.read_text(encoding="utf-8")


def test_animate_of_large_tensors_is_quiet(capsys, tmp_path) -> None:
    # Heatmaps are images in every frame: Graphviz must not print a warning per image.
    from viz.backends import available_backends

    rows = str([[float(i + j) for i in range(6)] for j in range(5)])
    for backend in available_backends():
        target = tmp_path / f"{backend}.html"
        code, _, err = run(
            capsys, "animate", "sum(X*y)", f"X={rows}", "y=2", "--backend", backend,
            "-o", str(target),
        )  # fmt: skip
        assert code == 0 and err == "", err
        assert target.read_text(encoding="utf-8").count("data:image/png") >= 2


def test_doctests() -> None:
    import doctest

    import viz.expr

    for module in (cli, viz.expr):
        result = doctest.testmod(module)
        assert result.attempted >= 3 and result.failed == 0, module.__name__
