"""The ``tensorgraph`` command.

tensorgraph demo [--out DIR]
tensorgraph draw "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o lecture.png
tensorgraph animate "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o lecture.html
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import tensorgraph as tg
from viz.backends import RendererNotFound
from viz.course.lecture import lecture_demo
from viz.dot import fmt_number
from viz.draw import render
from viz.expr import ExpressionError, evaluate, operators, parse_bindings, signatures


def demo(args: argparse.Namespace) -> int:
    """``tensorgraph demo``: the lecture example, then the classifiers and the report.

    The classifier part is :func:`viz.course.demo.run_demo` with ``lecture=False`` (the
    lecture part has drawn the lecture already).
    """
    from viz.course import demo as course_demo  # matplotlib and the data: only for `demo`

    out = Path(args.out)
    if args.dataset not in (None, *course_demo.DATASETS):
        print(
            f"tensorgraph demo: unknown dataset {args.dataset!r}; "
            f"choose one of {', '.join(course_demo.DATASETS)}",
            file=sys.stderr,
        )
        return 2
    code = lecture_demo(out)
    try:
        course_demo.run_demo(out, args.dataset, quick=args.quick, lecture=False)
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


def animate_command(args: argparse.Namespace) -> int:
    """``tensorgraph animate EXPR NAME=VALUE ... -o FILE.html``: the step-by-step player."""
    built = _build(args)
    if built is None:
        return 2
    from viz.player import animate  # the player's own module; imported only here

    f = built[0]
    try:
        path = animate(
            f,
            args.output,
            title=args.title,
            backend=args.backend,
            rankdir=args.rankdir,
            max_entries=args.max_entries,
            **({} if f.size == 1 else {"grad": np.ones_like(f.data)}),
        )
    except RendererNotFound as err:
        print(f"tensorgraph animate: {err}", file=sys.stderr)
        return 1
    except ValueError as err:  # a graph too large to step through
        print(f"tensorgraph animate: {err}", file=sys.stderr)
        return 2
    print(_show(f.name or "f", f.data))
    print(f"wrote {path}")
    return 0


def draw_command(args: argparse.Namespace) -> int:
    """``tensorgraph draw EXPR NAME=VALUE ... -o FILE``: forward, backward, print, picture."""
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
    try:
        path = render(
            f,
            args.output,
            title=args.title if args.title is not None else args.expression,
            rankdir=args.rankdir,
            show_grad=not args.no_grad,
            max_entries=args.max_entries,
            backend=args.backend,
        )
    except RendererNotFound as err:
        print(f"tensorgraph draw: {err}", file=sys.stderr)
        return 1
    except ValueError as err:  # an unknown suffix
        print(f"tensorgraph draw: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


def expression_help() -> str:
    """What an EXPR may contain, from the op registry (every op is reachable).

    >>> "max(a, b)" in expression_help() and "x[0]" in expression_help()
    True
    """
    binary, prefix = operators()
    return (
        f"never eval'd: numbers, the names you bind, the operators {' '.join(binary)} and "
        f"prefix {' '.join(prefix)}, subscripts such as x[0] or S[:, (2, 0)], and the "
        "functions " + ", ".join(signatures())
    )


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
        description=f"Evaluate EXPR ({expression_help()}), run backward, print f and "
        "every gradient, and draw the graph. Put -- before an EXPR that starts with '-'.",
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
        return draw_command(args)
    if args.command == "animate":
        return animate_command(args)
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
