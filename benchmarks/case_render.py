"""Case 5: rendering. The lecture graph to SVG and to PNG through each available backend
(viz.available_backends(): the system `dot`, in-process pygraphviz), and a graph of
about 1,000 drawn nodes to SVG. Each timing is the whole user call,
`viz.draw(f, backend=...).pipe(format)`: DOT generation plus the render.
"""

from __future__ import annotations

import numpy as np

import tensorgraph as tg
from benchmarks.common import (
    TIMING_COLUMNS,
    CaseResult,
    Check,
    Table,
    Target,
    fmt_timing,
    measure,
    unavailable,
)

TITLE = "5. Rendering (ms per drawing)"
TARGETS = {"lecture SVG": 0.050, "lecture PNG": 0.100, "1,000-node SVG": 2.0}


def big_graph(n_ops: int) -> tg.Tensor:
    """A chain of scalar ops with a named parameter per multiply."""
    rng = np.random.default_rng(0)
    y = tg.tensor(0.5, requires_grad=True, name="x")
    for i in range(n_ops):
        if i % 2 == 0:
            y = y * tg.tensor(rng.uniform(0.5, 1.5), requires_grad=True, name=f"w{i}")
        else:
            y = tg.tanh(y)
    y.backward()
    return y


def run(quick: bool) -> CaseResult:
    try:
        import viz
        from viz.backends import available_backends
        from viz.course.lecture import lecture_graph
    except ImportError as err:
        return unavailable("render", TITLE, f"viz.draw / viz.backends ({err})")
    res = CaseResult("render", TITLE)
    backends = available_backends()
    if not backends:
        return unavailable("render", TITLE, "no Graphviz backend on this machine")

    f = lecture_graph()
    f.backward()
    # Drawn nodes per op in the chain, measured on a short chain, then scaled to ~1,000.
    per_op = viz.to_networkx(big_graph(20)).number_of_nodes() / 20
    n_ops = 60 if quick else round(1000 / per_op)
    big = big_graph(n_ops)
    n_nodes = viz.to_networkx(big).number_of_nodes()

    impls, kinds = {}, {}
    for be in backends:
        impls[f"lecture SVG, {be}"] = lambda be=be: viz.draw(f, backend=be).pipe("svg")
        impls[f"lecture PNG, {be}"] = lambda be=be: viz.draw(f, backend=be).pipe("png")
        kinds[f"lecture SVG, {be}"], kinds[f"lecture PNG, {be}"] = "lecture SVG", "lecture PNG"
    for name in list(impls):
        out = impls[name]()
        fmt_ok = out.startswith(b"\x89PNG") if "PNG" in name else b"<svg" in out
        res.checks.append(Check(f"{name} is a real {name.split()[1]}", fmt_ok, f"{len(out)} bytes"))

    rounds, repeats = (2, 2) if quick else (3, 5)
    times = measure(impls, rounds, repeats)
    big_impls = {}
    for be in backends:
        name = f"{n_nodes}-node SVG, {be}"
        big_impls[name] = lambda be=be: viz.draw(big, backend=be, max_nodes=10 * n_nodes).pipe(
            "svg"
        )
        kinds[name] = "1,000-node SVG"
        out = big_impls[name]()
        res.checks.append(
            Check(
                f"{name} draws every node",
                b"<svg" in out and out.count(b'class="node"') >= n_nodes,
                f"{len(out)} bytes",
            )
        )
    times.update(measure(big_impls, 2 if quick else 3, 1 if quick else 2))

    rows = []
    for name, t in times.items():
        rows.append([name, *fmt_timing(t, 1e3, bold_wall=True)])
        res.numbers[f"{name} ms"] = t.med * 1e3
        res.targets.append(Target(f"{name}", t.med * 1e3, TARGETS[kinds[name]] * 1e3, " ms"))
    res.tables.append(Table(["drawing, backend", *(f"{c}, ms" for c in TIMING_COLUMNS)], rows))
    res.notes.append(
        f"Backends found: {', '.join(backends)}. The big graph is a chain of {n_ops} scalar ops "
        f"(multiply by a named parameter, tanh), {n_nodes} nodes as drawn (tensors and gates). "
        "CPU time is this process only: the system `dot` runs in a child process, so its "
        "CPU time is not counted there."
    )
    return res
