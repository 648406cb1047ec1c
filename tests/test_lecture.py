"""viz.course.lecture: the lecture's example, built once, in tensorgraph and PyTorch."""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

import torch

import tensorgraph as tg
import viz
from viz.course import lecture


def test_the_graph_is_named_as_on_the_slide() -> None:
    f = lecture.lecture_graph()
    nodes = tg.graph_nodes(f)
    # One tensor per name (the constant 2 is unnamed), the output last.
    assert sorted(t.name or "" for t in nodes) == ["", "f", "p", "q", "v", "w", "x", "y", "z"]
    assert nodes[-1] is f
    named = {t.name: t for t in nodes}
    assert named["p"].op == "mul" and named["p"].inputs == (named["x"], named["y"])
    assert named["q"].op == "maximum" and named["q"].inputs == (named["z"], named["w"])
    assert named["v"].op == "add" and named["f"].op == "mul"
    assert all(named[n].is_leaf and named[n].requires_grad for n in "xyzw")
    assert [named[n].item() for n in "pqvf"] == [-12.0, 2.0, -10.0, -20.0]
    assert f.grad is None and named["x"].grad is None  # built, not backpropagated


def test_tensorgraph_and_torch_agree() -> None:
    x, y, z, w = (
        torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3.0, -4.0, 2.0, -1.0)
    )
    f = 2 * (x * y + torch.maximum(z, w))
    f.backward()
    expected = (f.item(), [t.grad.item() for t in (x, y, z, w)])
    assert lecture.torch_lecture_example() == expected
    assert lecture.lecture_example() == expected


def test_the_torch_twin_is_none_without_torch(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    assert lecture.torch_lecture_example() is None


def test_lecture_demo_without_torch_or_renderer(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)

    def no_renderer(*args, **kwargs):
        raise viz.RendererNotFound("no Graphviz here")

    monkeypatch.setattr(lecture, "render", no_renderer)
    assert lecture.lecture_demo(tmp_path) == 1
    out, err = capsys.readouterr()
    assert "f = -20, grad [x, y, z, w] = [-8.0, 6.0, 2.0, 0.0]" in out
    assert "pytorch:     not installed; to compare, run `python3 dev.py demo --with-torch`" in out
    assert "could not draw the lecture graph: no Graphviz here" in err


def test_lecture_graph_reuses_the_cli_drawing(tmp_path):
    # `tensorgraph demo` has drawn lecture_backward.svg already: reuse it, draw nothing.
    drawn = tmp_path / "lecture_backward.svg"
    drawn.write_text('<svg id="drawn-by-cli"></svg>')
    assert lecture.lecture_graph_svg(tmp_path, draw=False) == drawn
    assert not (tmp_path / "lecture_graph.svg").exists()
    assert lecture.lecture_graph_svg(tmp_path, draw=True).name == "lecture_graph.svg"
    drawn.unlink()
    assert lecture.lecture_graph_svg(tmp_path, draw=False).name == "lecture_graph.svg"


def test_doctests() -> None:
    result = doctest.testmod(lecture, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0
