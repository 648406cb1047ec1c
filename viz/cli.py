"""The ``tensorgraph`` command: ``demo`` (the main job), ``draw`` and ``animate``.

``tensorgraph --help`` prints :data:`DESCRIPTION`; each command has its own ``--help``.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import tensorgraph as tg
from viz.backends import RendererNotFound, RenderError
from viz.course.lecture import lecture_demo
from viz.dot import fmt_number
from viz.draw import SUFFIXES, render
from viz.expr import ExpressionError, evaluate, operators, parse_bindings, signatures


def demo(args: argparse.Namespace) -> int:
    """``tensorgraph demo``: the lecture example, then the classifiers and the report.

    The classifier part is :func:`viz.course.demo.run_demo` with ``lecture=False`` (the
    lecture part has drawn the lecture already).
    """
    from viz.course import demo as course_demo  # matplotlib and the data: only for `demo`

    out = Path(args.out)
    dataset = args.dataset or "digits"
    if dataset not in course_demo.DATASETS:
        print(
            f"tensorgraph demo: unknown dataset {dataset!r}; "
            f"choose one of {', '.join(course_demo.DATASETS)}",
            file=sys.stderr,
        )
        return 2
    if args.data_dir is not None and dataset != "fashion-mnist":
        print(
            "tensorgraph demo: --data-dir is the folder of Fashion-MNIST's files; "
            "add --dataset fashion-mnist (digits are bundled)",
            file=sys.stderr,
        )
        return 2
    # The data first: a missing dataset is reported before any file is written.
    try:
        split = course_demo.load_split(dataset, quick=args.quick, data_dir=args.data_dir)
    except (FileNotFoundError, ValueError) as err:  # say how to get the files
        problem, _, how = str(err).partition(". ")  # the problem, then how to get the files
        print(f"tensorgraph demo: {problem.rstrip('.')}.", file=sys.stderr)
        if how:
            print(textwrap.fill(how, 88, break_on_hyphens=False), file=sys.stderr)
        return 1
    code = lecture_demo(out)
    course_demo.run_demo(out, dataset, quick=args.quick, lecture=False, split=split)
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
    """What is wrong with ``-o OUTPUT`` before any work is done, or None.

    >>> _output_problem("x.jpg", (".svg", ".png"), "draw writes")
    '-o x.jpg: draw writes .svg or .png, not .jpg'
    """
    if not output.strip():
        return "-o needs a file name"
    path = Path(output)
    if path.is_dir():
        return f"-o {output} is a folder; give a file name, e.g. {path / ('graph' + suffixes[0])}"
    if path.suffix.lower() not in suffixes:
        ok = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}"
        return f"-o {output}: {what} {ok}, not {path.suffix or 'a name without a suffix'}"
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
    args.nonfinite = []  # what came out inf or nan: the commands fill it in
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return _run(command, args)
        finally:
            # numpy's "divide by zero encountered in divide" says neither which value nor
            # where: one note instead, naming the values and the tool that finds the op.
            numeric = [w for w in caught if _numpy_float_warning(w)]
            rest = [w for w in caught if w not in numeric]
            for message in dict.fromkeys(str(w.message) for w in rest):
                _fail(args, f"warning: {message}")
            if args.nonfinite or numeric:
                _fail(args, _nonfinite_note(args.nonfinite, numeric))


def _numpy_float_warning(w: warnings.WarningMessage) -> bool:
    """numpy's floating-point RuntimeWarning (divide by zero, overflow, invalid value)."""
    return issubclass(w.category, RuntimeWarning) and " encountered in " in str(w.message)


def _nonfinite_note(values: list[str], numeric: list[warnings.WarningMessage]) -> str:
    """One line for the infs and nans of a run: which values, and how to find the op.

    >>> _nonfinite_note(["f = -inf", "df/dx holds inf"], [])[:61]
    'note: f = -inf, df/dx holds inf: a log(0), a division by zero'
    """
    what = ", ".join(values) if values else "a value on the way became inf or nan"
    causes = sorted({str(w.message).split(" encountered")[0] for w in numeric})
    why = f" (numpy: {', '.join(causes)})" if causes and not values else ""
    return (
        f"note: {what}{why}: a log(0), a division by zero, an overflow or a sqrt of a "
        "negative number on the way; in Python, `with tg.detect_anomaly():` stops at the op "
        "where the first inf or nan appears"
    )


def _check_finite(args: argparse.Namespace, name: str, f: tg.Tensor, grads: dict) -> None:
    """Note in ``args.nonfinite`` each of f and its gradients that holds inf or nan."""
    for label, a in [(name, f.data), *grads.items()]:
        a = np.asarray(a)
        if a.size and not np.all(np.isfinite(a)):
            bad = sorted({fmt_number(v) for v in a[~np.isfinite(a)].ravel()[:100]})
            shown = f"= {bad[0]}" if a.size == 1 else f"holds {' and '.join(bad)}"
            args.nonfinite.append(f"{label} {shown}")


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


def _build_torch(args: argparse.Namespace) -> tuple[Any, dict[str, Any]] | int:
    """EXPR evaluated with PyTorch and backpropagated, all inside ``viz.record_torch()``
    (so every node has its value and gradient); or an exit code (message printed)."""
    try:
        from viz.pytorch import evaluate_torch, require_torch
        from viz.record import record_torch

        torch = require_torch(f"tensorgraph {args.command} --engine torch")
        values = parse_bindings(args.bindings)
        with record_torch() as recording:
            f, variables = evaluate_torch(args.expression, values)
            if f.numel() != 1:
                print(
                    f"note: f has shape {tuple(f.shape)}; backward is seeded with ones "
                    "(the gradient of sum(f))"
                )
            f.backward(torch.ones_like(f) if f.numel() != 1 else None)
        recording.name(**variables)
        recording.name(**{"out" if "f" in variables else "f": f})
        return f, variables
    except ImportError as err:
        return _fail(args, err, 1)
    except ExpressionError as err:
        return _fail(args, f"refused: {err}")
    except (TypeError, ValueError, IndexError, RuntimeError) as err:  # shapes that do not fit
        return _fail(args, err)


def _print_results(name: str, value: np.ndarray, grads: dict[str, np.ndarray | None]) -> None:
    """``f = ...`` and ``df/dx = ...`` for every variable, as ``draw`` prints them."""
    print(_show(name, value))
    for var_name, grad in grads.items():
        if grad is None:
            print(f"d{name}/d{var_name}: not used by the expression")
        else:
            print(_show(f"d{name}/d{var_name}", grad))


def _draw_torch(args: argparse.Namespace) -> int:
    """``draw --engine torch`` (PyTorch's graph) and ``draw --compare`` (both, matched)."""
    built = _build_torch(args)
    if isinstance(built, int):
        return built
    f, variables = built
    name = "out" if "f" in variables else "f"
    numpy = {k: None if v.grad is None else v.grad.numpy() for k, v in variables.items()}
    ours = None
    if args.compare:
        tg_built = _build(args)
        if tg_built is None:
            return 2
        ours = tg_built[0]
        ours.backward(None if ours.size == 1 else np.ones_like(ours.data))
        print("tensorgraph:")
        _print_results(name, ours.data, {k: v.grad for k, v in tg_built[1].items()})
        print("PyTorch:")
    _print_results(name, f.detach().numpy(), numpy)
    options = {"rankdir": args.rankdir, "show_grad": not args.no_grad}
    options |= {"max_entries": args.max_entries, "backend": args.backend}
    if ours is not None:
        from viz.compare import compare

        drawing = compare(
            ours,
            f,
            title=args.title if args.title is not None else f"{args.expression}: compared",
            **options,
        )
        print("compare: the graphs agree" if drawing.ok else "compare: they differ")
        for line in [*map(str, drawing.differences), *drawing.divergences]:
            print(f"  {line}")
    if args.output is None:
        print("(add -o graph.png or -o graph.svg to draw the graph)")
        return 0
    if ours is None:
        title = args.title if args.title is not None else f"{args.expression}   (PyTorch)"
        path = render(f, args.output, title=title, **options)
    else:
        path = render(drawing, args.output)
    print(f"wrote {path}")
    return 0


def animate_command(args: argparse.Namespace) -> int:
    """``tensorgraph animate EXPR NAME=VALUE ... -o FILE.html``: the step-by-step player."""
    problem = _output_problem(args.output, (".html", ".htm"), "the player is an HTML page: write")
    if problem:
        return _fail(args, problem)
    if args.engine == "torch":  # PyTorch's own backward pass, in its engine's order
        built_torch = _build_torch(args)
        if isinstance(built_torch, int):
            return built_torch
        f, seed, name, value = built_torch[0], {}, "f", built_torch[0].detach().numpy()
    else:
        built = _build(args)
        if built is None:
            return 2
        f = built[0]
        seed = {} if f.size == 1 else {"grad": np.ones_like(f.data)}
        name, value = f.name or "f", f.data
    from viz.player import animate  # the player's own module; imported only here

    path = animate(
        f,
        args.output,
        title=args.title if args.title is not None else args.expression,
        backend=args.backend,
        rankdir=args.rankdir,
        max_entries=args.max_entries,
        **seed,
    )
    print(_show(name, value))
    if args.engine != "torch" and f.requires_grad:  # inf/nan: one note, no file paths
        grads = tg.gradients(f, seed.get("grad"))
        variables = built[1]
        _check_finite(
            args, name, f, {f"d{name}/d{k}": grads[v] for k, v in variables.items() if v in grads}
        )
    print(f"wrote {path}")
    return 0


def draw_command(args: argparse.Namespace) -> int:
    """``tensorgraph draw EXPR NAME=VALUE ... -o FILE``: forward, backward, print, picture."""
    if args.output is not None:
        problem = _output_problem(args.output, tuple(SUFFIXES), "draw writes")
        if problem:
            return _fail(args, problem)
    if args.compare or args.engine == "torch":
        return _draw_torch(args)
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
    grads = {f"d{name}/d{k}": v.grad for k, v in variables.items() if v.grad is not None}
    _check_finite(args, name, f, grads)
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


def code_command(args: argparse.Namespace) -> int:
    """``tensorgraph code EXPR NAME=VALUE ...``: the graph as straight-line Python
    (:func:`tensorgraph.flat_code`), on stdout, ready to save and run."""
    built = _build(args)
    if built is None:
        return 2
    f = built[0]
    grad = None
    if f.size != 1:
        print(
            f"note: f has shape {f.shape}; the backward pass is seeded with ones", file=sys.stderr
        )
        grad = np.ones_like(f.data)
    print(tg.flat_code(f, grad), end="")
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


DESCRIPTION = """\
tensorgraph: backpropagation on numpy tensors, every gate drawn with its value and
its gradient.

The main job:
  tensorgraph demo            the lecture's f = 2(xy + max(z, w)) forward and backward
                              (beside PyTorch, when it is installed), its graph and a
                              step-by-step backprop player, then a linear SVM, a
                              softmax classifier and a two-layer network trained,
                              tuned and tested on digits; everything in one report,
                              out/index.html

Your own expression, forward and backward:
  tensorgraph draw "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o lecture.png
  tensorgraph animate "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o lecture.html
  tensorgraph code "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1

The same expression in PyTorch, drawn from PyTorch's own graph, or both compared:
  tensorgraph draw --engine torch "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o torch.png
  tensorgraph draw --compare "2*(x*y + max(z, w))" x=3 y=-4 z=2 w=-1 -o compare.png
"""

EPILOG = "Each command has its own help: tensorgraph demo --help, tensorgraph draw --help."


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tensorgraph`` console script."""
    parser = argparse.ArgumentParser(
        prog="tensorgraph",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keep the lines as written
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_demo = sub.add_parser(
        "demo",
        help="the main job: the lecture example, backprop step by step and the linear "
        "classifiers, in one report (out/index.html)",
        description="The lecture example f = 2(xy + max(z, w)) forward and backward, its "
        "graph and its backprop player; then a linear SVM and a softmax classifier trained "
        "by minibatch SGD, tuned on a validation split and tested once; all of it in "
        "OUT/index.html.",
    )
    p_demo.add_argument("--out", default="out", help="output folder (default: out)")
    p_demo.add_argument(
        "--dataset", default=None, help='classifier data: "digits" (default) or "fashion-mnist"'
    )
    p_demo.add_argument("--quick", action="store_true", help="a small, fast classifier run")
    p_demo.add_argument(
        "--data-dir",
        metavar="FOLDER",
        help="the folder of Fashion-MNIST's four IDX files (default: where Debian's "
        "dataset-fashion-mnist puts them, /usr/share/datasets/fashion-mnist)",
    )
    p_draw = sub.add_parser(
        "draw",
        help="draw an expression's graph with its values and gradients",
        description=f"Evaluate EXPR ({expression_help()}), run backward, print f and "
        "every gradient, and draw the graph. Put -- before an EXPR that starts with '-'.",
    )
    _expression_arguments(p_draw)
    p_draw.add_argument("-o", "--output", help="picture to write: .svg, .png, .pdf or .dot")
    p_draw.add_argument("--no-grad", action="store_true", help="leave the gradients out")
    p_draw.add_argument(
        "--compare",
        action="store_true",
        help="evaluate EXPR with tensorgraph and with PyTorch and draw both, matched node by "
        "node (every number that differs in red)",
    )
    p_anim = sub.add_parser(
        "animate",
        help="the forward and backward pass of an expression, step by step, as one HTML file",
        description="Like draw, but writes a self-contained HTML player (viz.player).",
    )
    _expression_arguments(p_anim)
    p_anim.add_argument("-o", "--output", required=True, help="the .html file to write")
    p_code = sub.add_parser(
        "code",
        help="an expression's forward and backward pass as straight-line Python",
        description="Evaluate EXPR and print its forward and backward pass as Python, one "
        "line per gate with its value (tensorgraph.flat_code); exec it and call grads().",
    )
    p_code.add_argument("expression", metavar="EXPR", help='e.g. "2*(x*y + max(z, w))"')
    p_code.add_argument("bindings", metavar="NAME=VALUE", nargs="*", help="e.g. x=3")
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
    if args.command == "code":
        return code_command(args)
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
    p.add_argument(
        "--engine",
        choices=("tensorgraph", "torch"),
        default="tensorgraph",
        help="evaluate with tensorgraph (default) or with PyTorch, each op as its registry "
        "twin (max(a, b) is torch.maximum), and draw that engine's graph",
    )


if __name__ == "__main__":
    sys.exit(main())
