"""The ``tensorgraph`` command.

tensorgraph demo [--out DIR]
tensorgraph draw "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o lecture.png
tensorgraph animate "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o lecture.html
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import warnings
from pathlib import Path

import numpy as np

import tensorgraph as tg
from viz.backends import RendererNotFound, RenderError
from viz.dot import fmt_number
from viz.draw import SUFFIXES, render
from viz.expr import ExpressionError, evaluate, parse_bindings


def lecture_example() -> tuple[float, list[float]]:
    """The lecture's f = 2*(x*y + max(z, w)) at (3, -4, 2, -1): f and its gradient.

    >>> lecture_example()
    (-20.0, [-8.0, 6.0, 2.0, 0.0])
    """
    x, y, z, w = (
        tg.tensor(v, requires_grad=True, name=n)
        for v, n in zip((3.0, -4.0, 2.0, -1.0), "xyzw", strict=True)
    )
    f = 2 * (x * y + tg.maximum(z, w))
    f.backward()
    return f.item(), [t.grad.item() for t in (x, y, z, w)]


def torch_lecture_example() -> tuple[float, list[float]] | None:
    """The same computation in PyTorch, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    x, y, z, w = (
        torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3.0, -4.0, 2.0, -1.0)
    )
    f = 2 * (x * y + torch.maximum(z, w))
    f.backward()
    return f.item(), [t.grad.item() for t in (x, y, z, w)]


LECTURE_TITLE = "f = 2·(x·y + max(z, w))   at x = 3, y = -4, z = 2, w = -1"


def lecture_graph() -> tg.Tensor:
    """The lecture's graph f = 2*(x*y + max(z, w)), built but not yet backpropagated.

    >>> lecture_graph().item()
    -20.0
    """
    x, y, z, w = (
        tg.tensor(v, requires_grad=True, name=n)
        for v, n in zip((3.0, -4.0, 2.0, -1.0), "xyzw", strict=True)
    )
    f = 2 * (x * y + tg.maximum(z, w))
    f.name = "f"
    return f


def write_lecture_graphs(out: Path) -> list[Path]:
    """Draw the lecture graph before and after backward, as SVG and PNG, into ``out``.

    Without a Graphviz renderer the DOT files are written and RendererNotFound raised.
    """
    f = lecture_graph()
    paths = []
    for stage in ("forward", "backward"):
        if stage == "backward":
            f.backward()
        title = f"{LECTURE_TITLE}   ({'after backward' if stage == 'backward' else 'forward'})"
        for fmt in ("svg", "png"):
            paths.append(render(f, out / f"lecture_{stage}.{fmt}", title=title))
    return paths


def lecture_demo(out: Path) -> int:
    """The lecture part of the demo: f and its gradient in tensorgraph and PyTorch, and
    the lecture graph before and after backward as pictures in ``out``."""
    f, grads = lecture_example()
    print(f"tensorgraph: f = {f:g}, grad [x, y, z, w] = {[round(g, 12) for g in grads]}")
    ref = torch_lecture_example()
    if ref is None:
        print("pytorch:     not installed (pip install torch==2.13.0 to compare)")
    else:
        print(f"pytorch:     f = {ref[0]:g}, grad [x, y, z, w] = {ref[1]}")
    try:
        for path in write_lecture_graphs(out):
            print(f"wrote {path}")
    except RendererNotFound as err:
        print(f"could not draw the lecture graph: {err}", file=sys.stderr)
        return 1
    return 0


def _report_module():
    """``viz.report`` (the classifier part of the demo) if it exists, else None.

    A module that exists but fails to import raises: that is a bug to see, not hide.
    """
    if importlib.util.find_spec("viz.report") is None:
        return None
    return importlib.import_module("viz.report")


def demo(args: argparse.Namespace) -> int:
    """``tensorgraph demo``: the lecture example, then (when viz.report exists) the rest.

    The seam for the classifier demo: ``viz.report.run_demo(out, dataset, quick=...,
    lecture=False)`` runs after the lecture part (which has drawn the lecture already).
    """
    out = Path(args.out)
    report = _report_module()
    datasets = getattr(report, "DATASETS", None)
    if datasets and args.dataset not in (None, *datasets):
        print(
            f"tensorgraph demo: unknown dataset {args.dataset!r}; "
            f"choose one of {', '.join(datasets)}",
            file=sys.stderr,
        )
        return 2
    code = lecture_demo(out)
    if report is not None:
        try:
            report.run_demo(out, args.dataset, quick=args.quick, lecture=False)
        except FileNotFoundError as err:  # Fashion-MNIST not installed: say how to get it
            print(f"tensorgraph demo: {err}", file=sys.stderr)
            return 1
    return code


def _show(label: str, a: np.ndarray) -> str:
    """``label = value``, with more digits than the picture: the numbers to check by hand."""
    if a.size == 1:
        return f"{label} = {fmt_number(a.reshape(-1)[0], digits=10)}"
    prefix = f"{label} = "
    body = np.array2string(a, precision=8, separator=", ", threshold=50, edgeitems=3, prefix=prefix)
    return prefix + body


def _build(args: argparse.Namespace) -> tuple[tg.Tensor, dict[str, tg.Tensor]] | None:
    """EXPR and NAME=VALUE from the command line as a graph, or None (message printed)."""
    try:
        values = parse_bindings(args.bindings)
        return evaluate(args.expression, values)
    except ExpressionError as err:
        print(f"tensorgraph {args.command}: refused: {err}", file=sys.stderr)
    except (TypeError, ValueError, IndexError) as err:  # e.g. shapes that do not fit
        print(f"tensorgraph {args.command}: {err}", file=sys.stderr)
    return None


def _fail(args: argparse.Namespace, message: object, code: int = 2) -> int:
    """Print one line, ``tensorgraph COMMAND: message``, on stderr; return ``code``."""
    text = "; ".join(line.strip() for line in str(message).splitlines() if line.strip())
    print(f"tensorgraph {args.command}: {text}", file=sys.stderr)
    return code


def _output_problem(output: str, suffixes: tuple[str, ...], what: str) -> str | None:
    """What is wrong with ``-o OUTPUT`` before any work is done, or None."""
    if not output.strip():
        return "-o needs a file name"
    path = Path(output)
    if path.is_dir():
        return f"-o {output} is a folder; give a file name, e.g. {path / ('graph' + suffixes[0])}"
    if path.suffix.lower() not in suffixes:
        return f"-o {output}: {what} ({', '.join(suffixes)})"
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"-o {output}: {parent} is a file, not a folder"
            break
    return None


def _guarded(command, args: argparse.Namespace) -> int:
    """Run a draw or animate command; every failure is one line and an exit code.

    2 for input the command cannot draw (and a file it cannot write), 1 when no Graphviz
    renderer is installed, 130 on Ctrl-C. A bug elsewhere still shows its traceback.
    Warnings (numpy's overflow in ``x ** 1000``, Graphviz's) are one line each too.
    """
    if args.max_entries < 1:
        return _fail(args, f"--max-entries must be at least 1, got {args.max_entries}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return _run(command, args)
        finally:
            for message in dict.fromkeys(str(w.message) for w in caught):
                _fail(args, f"warning: {message}")


def _run(command, args: argparse.Namespace) -> int:
    try:
        return command(args)
    except RendererNotFound as err:
        return _fail(args, err, 1)
    except OSError as err:  # a folder, a missing permission, a full disk
        return _fail(args, _os_problem(err, args.output))
    except (RenderError, ValueError, IndexError) as err:  # e.g. a graph too large to step
        return _fail(args, err)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", 130)


def _os_problem(err: OSError, output: str | None) -> str:
    """An OSError in words: "cannot write OUTPUT: reason" when it is about the output
    (its folders or the temporary file beside it), else the error itself."""
    target = Path(output).absolute() if output else None
    for name in (err.filename, err.filename2):
        if target is not None and name is not None:
            path = Path(os.fsdecode(name)).absolute()
            if path == target or path.parent == target.parent or path in target.parents:
                return f"cannot write {output}: {err.strerror or err}"
    return str(err)


def animate_command(args: argparse.Namespace) -> int:
    """``tensorgraph animate EXPR NAME=VALUE ... -o FILE.html``: the step-by-step player."""
    problem = _output_problem(args.output, (".html", ".htm"), "the player is an HTML page")
    if problem:
        return _fail(args, problem)
    built = _build(args)
    if built is None:
        return 2
    from viz.player import animate  # the player's own module; imported only here

    f = built[0]
    path = animate(
        f,
        args.output,
        title=args.title,
        backend=args.backend,
        rankdir=args.rankdir,
        max_entries=args.max_entries,
        **({} if f.size == 1 else {"grad": np.ones_like(f.data)}),
    )
    print(_show(f.name or "f", f.data))
    print(f"wrote {path}")
    return 0


def draw_command(args: argparse.Namespace) -> int:
    """``tensorgraph draw EXPR NAME=VALUE ... -o FILE``: forward, backward, print, picture."""
    if args.output is not None:
        problem = _output_problem(args.output, tuple(SUFFIXES), "cannot tell the format")
        if problem:
            return _fail(args, problem)
    built = _build(args)
    if built is None:
        return 2
    f, variables = built
    if f.size == 1:
        f.backward()
    else:
        # A seed of ones: the gradient of sum(f), said out loud.
        print(f"note: f has shape {f.shape}; backward is seeded with ones (the gradient of sum(f))")
        f.backward(np.ones_like(f.data))
    name = f.name or "f"
    print(_show(name, f.data))
    for var_name, var in variables.items():
        if var.grad is None:
            print(f"d{name}/d{var_name}: not used by the expression")
        else:
            print(_show(f"d{name}/d{var_name}", var.grad))
    if args.output is None:
        print("(add -o graph.png or -o graph.svg to draw the graph)")
        return 0
    path = render(
        f,
        args.output,
        title=args.title if args.title is not None else args.expression,
        rankdir=args.rankdir,
        show_grad=not args.no_grad,
        max_entries=args.max_entries,
        backend=args.backend,
    )
    print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tensorgraph`` console script."""
    parser = argparse.ArgumentParser(prog="tensorgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="the lecture example, forward and backward")
    p_demo.add_argument("--out", default="out", help="output folder")
    p_demo.add_argument(
        "--dataset", default=None, help='classifier data: "digits" (default) or "fashion-mnist"'
    )
    p_demo.add_argument("--quick", action="store_true", help="a small, fast classifier run")
    p_draw = sub.add_parser(
        "draw",
        help="draw an expression's graph with its values and gradients",
        description="Evaluate EXPR (numbers, names, + - * / ** @, max min exp log relu sum "
        "mean abs sqrt tanh sigmoid; never eval'd), run backward, print f and every "
        "gradient, and draw the graph. Put -- before an EXPR that starts with '-'.",
    )
    _expression_arguments(p_draw)
    p_draw.add_argument("-o", "--output", help="picture to write: .svg, .png, .pdf or .dot")
    p_draw.add_argument("--no-grad", action="store_true", help="leave the gradients out")
    p_anim = sub.add_parser(
        "animate",
        help="the forward and backward pass of an expression, step by step, as one HTML file",
        description="Like draw, but writes a self-contained HTML player (viz.player).",
    )
    _expression_arguments(p_anim)
    p_anim.add_argument("-o", "--output", required=True, help="the .html file to write")
    # NAME=VALUE may also come after -o FILE; argparse alone would call them unknown.
    args, extra = parser.parse_known_args(argv)
    if extra:
        takes_bindings = args.command in ("draw", "animate")
        if not takes_bindings or any(e.startswith("-") or "=" not in e for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.bindings = [*args.bindings, *extra]
    if args.command == "demo":
        return demo(args)
    if args.command == "draw":
        return _guarded(draw_command, args)
    if args.command == "animate":
        return _guarded(animate_command, args)
    return 2


def _expression_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments draw and animate share: EXPR, NAME=VALUE ... and the layout."""
    p.add_argument("expression", metavar="EXPR", help='e.g. "2*(x*y + max(z, w))"')
    p.add_argument(
        "bindings", metavar="NAME=VALUE", nargs="*", help="e.g. x=3 or W='[[1, 2], [3, 4]]'"
    )
    p.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="layout direction")
    p.add_argument("--title", help="caption (default: the expression)")
    p.add_argument("--max-entries", type=int, default=16, help="show every entry up to this many")
    p.add_argument("--backend", choices=("auto", "dot", "pygraphviz"), default="auto")


if __name__ == "__main__":
    sys.exit(main())
