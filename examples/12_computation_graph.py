"""Slide 'PyTorch Computation Graph': the graph PyTorch itself records for the slide's code.

The slide's code runs inside viz.record_torch(), which keeps every node's value and
gradient, and viz draws PyTorch's own graph: its backward nodes are the gates
(MulBackward0 under *), each tensor with its value and gradient.

The slide writes q = max(z, w) with Python's built-in max. For two one-element tensors
that returns z itself: PyTorch records no max gate, and w is not in the graph at all, so
w.grad stays None (the slide prints 0). With torch.maximum(z, w) the max gate is there
and w.grad is 0, as in tensorgraph's graph (tg.maximum). Both are drawn, as SVG and PNG.

    python examples/12_computation_graph.py [OUT]
"""

import sys
from pathlib import Path

import viz


def slide(maximum):
    """The slide's code, recorded: f and its leaves."""
    import torch

    with viz.record_torch():
        # Forward pass
        x = torch.tensor(3.0, requires_grad=True)
        y = torch.tensor(-4.0, requires_grad=True)
        z = torch.tensor(2.0, requires_grad=True)
        w = torch.tensor(-1.0, requires_grad=True)
        p = x * y
        q = maximum(z, w)
        v = p + q
        f = 2 * v
        # Backward pass
        f.backward()
    return f, {"x": x, "y": y, "z": z, "w": w}


def show(f) -> None:
    """PyTorch's graph, inputs before outputs: each gate and each tensor's numbers."""
    g = viz.to_networkx(f)
    for node, d in g.nodes(data=True):
        if d["kind"] == "op":
            print(f"  gate   {d['torch_name']:18s} ({d['symbol']})")
        else:
            grad = "" if d["grad"] is None else f", grad {d['grad'].item():g}"
            print(f"  tensor {d['name'] or node:18s} value {d['value'].item():g}{grad}")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    try:
        import torch
    except ImportError:
        print("This slide draws PyTorch's graph: pip install 'tensorgraph[torch]'")
        return
    for label, maximum, name in (
        ("the slide's code, q = max(z, w)", max, "computation_graph"),
        ("q = torch.maximum(z, w)", torch.maximum, "computation_graph_maximum"),
    ):
        f, leaves = slide(maximum)
        print(f"{label}:")
        show(f)
        print("  " + ", ".join(f"{n}.grad = {t.grad}" for n, t in leaves.items()))
        for suffix in ("svg", "png"):
            path = viz.render(
                f, out / f"{name}.{suffix}", title=f"PyTorch Computation Graph: {label}"
            )
            print("  wrote", path)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
