"""PyTorch's graph drawn, recorded, stepped through and compared with ours (issue 14).

Every PyTorch number here is checked against PyTorch itself: ``retain_grad()`` for the
intermediates' gradients, a run without the recorder for results and ``.grad``, hooks
of the test's own for the order the engine ran the nodes in, and ``torchviz.make_dot``
for the node and edge sets.
"""

from __future__ import annotations

import doctest
import html
import importlib
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_ops_torch import CASES
from torchviz import make_dot

import tensorgraph as tg
import viz
from viz.course.lecture import lecture_graph
from viz.dot import GRAD_COLOR
from viz.pytorch import KEY, TorchGraph, node_ops, short_name

# torchviz 0.0.3 compares versions with distutils' LooseVersion, deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:distutils Version classes:DeprecationWarning")


def torch_lecture(maximum=torch.maximum, dtype=torch.float32, backward: bool = True):
    """The seed's PyTorch slide, recorded: f = 2 * (x*y + max(z, w))."""
    with viz.record_torch():
        x = torch.tensor(3.0, requires_grad=True, dtype=dtype)
        y = torch.tensor(-4.0, requires_grad=True, dtype=dtype)
        z = torch.tensor(2.0, requires_grad=True, dtype=dtype)
        w = torch.tensor(-1.0, requires_grad=True, dtype=dtype)
        p = x * y
        q = maximum(z, w)
        v = p + q
        f = 2 * v
        if backward:
            f.backward()
    return f, (x, y, z, w), (p, q, v)


def svg_texts(drawing: viz.Drawing) -> set[str]:
    """Every text element of the drawing's SVG."""
    return {html.unescape(t).strip() for t in re.findall(r">([^<>]+)</text>", drawing.svg())}


def output_node(g, t: torch.Tensor) -> str:
    """The node of a PyTorch tensor in the networkx graph: the output of its grad_fn."""
    (gate,) = [n for n, d in g.nodes(data=True) if d.get("torch_id") == id(t.grad_fn)]
    node = "t" + gate[1:] + (f"_{t.output_nr}" if t.output_nr else "")
    assert node in g.successors(gate)
    return node


# ----------------------------------------------------------------------------- drawing


def test_import_viz_does_not_import_torch() -> None:
    code = "import sys, viz; viz.draw; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_lecture_drawn_from_pytorch_has_every_value_and_gradient() -> None:
    f, _, _ = torch_lecture()
    texts = svg_texts(viz.draw(f, title="PyTorch Computation Graph"))
    for value in ("-20", "-12", "2", "-10", "3", "-4", "-1"):
        assert value in texts, value
    for grad in ("grad -8", "grad 6", "grad 2", "grad 0", "grad 1"):
        assert grad in texts, grad
    for name in ("MulBackward0", "AddBackward0", "MaximumBackward0", "other=2"):
        assert name in texts, name
    assert {"x", "y", "z", "w", "p", "q", "v", "f"} <= texts  # named after the variables
    assert "PyTorch Computation Graph" in texts


def test_the_graph_has_the_form_of_ours() -> None:
    f, (x, y, z, w), (p, q, v) = torch_lecture()
    g = viz.to_networkx(f)
    ours = viz.to_networkx(lecture_graph())
    kinds = Counter(d["kind"] for _, d in g.nodes(data=True))
    assert kinds == {"tensor": 8, "op": 4}  # ours has a ninth tensor: the constant 2
    assert Counter(d["kind"] for _, d in ours.nodes(data=True)) == {"tensor": 9, "op": 4}
    assert g.graph["output"] == list(g)[-1]
    order = list(g)
    for u, v_ in g.edges():
        assert order.index(u) < order.index(v_)  # topological, as ours
    gates = {d["torch_name"]: d for _, d in g.nodes(data=True) if d["kind"] == "op"}
    assert gates["MaximumBackward0"]["symbol"] == "max" and gates["AddBackward0"]["op"] == "add"
    mul = output_node(g, p)
    assert [d["index"] for _, _, d in g.in_edges("g" + mul[1:], data=True)] == [0, 1]
    assert [g.nodes[u]["name"] for u, _ in g.in_edges("g" + mul[1:])] == ["x", "y"]  # in order
    for node, t in ((output_node(g, p), p), (output_node(g, q), q), (output_node(g, v), v)):
        assert g.nodes[node]["value"] == t.item()
        assert g.nodes[node]["role"] == "computed"
    roles = {g.nodes[n]["name"]: g.nodes[n]["role"] for n in g if g.nodes[n]["kind"] == "tensor"}
    assert roles == {
        "x": "input", "y": "input", "z": "input", "w": "input",
        "p": "computed", "q": "computed", "v": "computed", "f": "output",
    }  # fmt: skip


def test_render_and_jupyter_display() -> None:
    f, _, _ = torch_lecture()
    drawing = viz.draw(f)
    assert drawing.source.startswith("digraph")
    assert "<svg" in drawing._repr_svg_()
    assert "image/svg+xml" in drawing._repr_mimebundle_()


def test_render_writes_pictures(tmp_path) -> None:
    f, _, _ = torch_lecture()
    for name in ("torch.svg", "torch.png", "torch.dot"):
        assert viz.render(f, tmp_path / name).stat().st_size > 0
    assert (tmp_path / "torch.png").read_bytes()[:4] == b"\x89PNG"


# ----------------------------------------------------------------------------- every op


TWINNED = sorted({c.op for c in CASES if tg.OPS[c.op].torch})


def _records_a_node(case) -> bool:
    """Whether PyTorch records a backward node for the case (x.flatten(1, 1) and
    x.to(float64) of a float64 tensor hand back x itself: no node to draw)."""
    leaves = [torch.tensor(a, requires_grad=True) for a in case.make_inputs(np.float64)]
    out = case.torch(*leaves)
    return out.grad_fn is not None


RECORDED = [c for c in CASES if c.op in TWINNED and _records_a_node(c)]


def _last_node(case) -> str:
    """The op PyTorch's last backward node of the case stands for."""
    leaves = [torch.tensor(a, requires_grad=True) for a in case.make_inputs(np.float64)]
    name = case.torch(*leaves).grad_fn.name()
    return node_ops().get(name, short_name(name))


# PyTorch records its twin as several nodes: cross_entropy is log_softmax, then nll_loss.
DECOMPOSED = {"softmax_loss", "flatten"}  # PyTorch: log_softmax + nll_loss; a view


def _run(case, record: bool):
    leaves = [torch.tensor(a, requires_grad=True) for a in case.make_inputs(np.float64)]
    rng = np.random.default_rng(7)
    if record:
        with viz.record_torch():
            out = case.torch(*leaves)
            weights = torch.tensor(rng.standard_normal(tuple(out.shape)))
            loss = (out * weights).sum()
            loss.backward()
    else:
        out = case.torch(*leaves)
        out.retain_grad()  # the reference for the gradient the recorder records
        weights = torch.tensor(rng.standard_normal(tuple(out.shape)))
        loss = (out * weights).sum()
        loss.backward()
    return leaves, out, loss


def test_every_op_with_a_torch_twin_is_covered() -> None:
    twins = {name for name, info in tg.OPS.items() if info.torch}
    assert set(TWINNED) == twins and len(twins) > 20
    assert twins >= DECOMPOSED


@pytest.mark.parametrize("case", RECORDED, ids=lambda c: c.op + "/" + c.id)
def test_every_op_recorded_equals_torch(case) -> None:
    leaves, out, loss = _run(case, record=True)
    ref_leaves, ref_out, ref_loss = _run(case, record=False)
    # The recorder leaves results and gradients exactly as they are (NaN where torch has it).
    np.testing.assert_array_equal(loss.detach().numpy(), ref_loss.detach().numpy())
    for a, b in zip(leaves, ref_leaves, strict=True):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    g = viz.to_networkx(loss)
    node = output_node(g, out)
    np.testing.assert_array_equal(g.nodes[node]["value"], ref_out.detach().numpy())
    np.testing.assert_array_equal(g.nodes[node]["grad"], ref_out.grad.numpy())
    gate = g.nodes["g" + node[1:].split("_")[0]]
    name = out.grad_fn.name()  # the case's last op: the twin, or what PyTorch made of it
    assert gate["torch_name"] == name
    assert gate["op"] == node_ops().get(name, short_name(name))
    leaf_grads = {
        d["torch_id"]: d["grad"]
        for _, d in g.nodes(data=True)
        if d["kind"] == "tensor" and d["leaf"]
    }
    for leaf, ref in zip(leaves, ref_leaves, strict=True):
        if id(leaf) in leaf_grads:
            np.testing.assert_array_equal(leaf_grads[id(leaf)], ref.grad.numpy())
    # Every tensor node has its gradient (recorded, not retained), and a value unless
    # it is an inner step of an op PyTorch splits (matmul of a vector: unsqueeze, mm,
    # squeeze), which Python never saw and autograd did not save.
    inner = 0
    for _, d in g.nodes(data=True):
        if d["kind"] == "tensor":
            assert d["grad"] is not None
            inner += d["value"] is None
    assert inner <= len(g) // 3


def test_every_op_is_drawn_with_its_symbol_and_torch_name() -> None:
    for op in TWINNED:
        cases = [c for c in RECORDED if c.op == op]  # one whose last node is the op, if any
        case = next((c for c in cases if _last_node(c) == op), cases[0])
        _, out, loss = _run(case, record=True)
        source = viz.draw(loss).source
        assert out.grad_fn.name() in source
        g = viz.to_networkx(loss)
        gate = g.nodes["g" + output_node(g, out)[1:]]
        if op in DECOMPOSED:
            assert gate["op"] != op  # if PyTorch ever records it as one node, say so here
        else:
            assert gate["op"] == op, out.grad_fn.name()
            assert f"<B>{tg.OPS[op].symbol}</B>" in source


def test_node_ops_are_derived_from_the_registry() -> None:
    ops = node_ops()
    for name, info in tg.OPS.items():
        if info.torch and name not in DECOMPOSED:
            assert name in ops.values(), name
    assert ops["MmBackward0"] == "matmul" and ops["AmaxBackward0"] == "max"


# ----------------------------------------------------------------------------- torchviz


def _torchviz_sets(t: torch.Tensor) -> tuple[set[str], Counter]:
    """torchviz's nodes and edges, each AccumulateGrad folded into its leaf (as we draw)."""
    body = make_dot(t).body
    labels = {
        m[0]: m[1] for m in re.findall(r"^\t(\d+) \[label=\"?([^\]]*)", "\n".join(body), re.M)
    }
    edges = [tuple(m) for m in re.findall(r"^\t(\d+) -> (\d+)", "\n".join(body), re.M)]
    acc = {n for n, label in labels.items() if "AccumulateGrad" in label}
    leaf_of = {b: a for a, b in edges if b in acc}  # the leaf tensor -> AccumulateGrad edge
    nodes = {leaf_of.get(n, n) for n in labels}
    folded = Counter((leaf_of.get(a, a), b) for a, b in edges if b not in acc)
    return nodes, folded


def _our_sets(g) -> tuple[set[str], Counter]:
    """Our nodes and edges by torch_id, each intermediate tensor folded into its gate."""
    ident = {n: str(d["torch_id"]) for n, d in g.nodes(data=True) if d.get("torch_id") is not None}
    made_by = {v: u for u, v in g.edges() if g.nodes[u]["kind"] == "op"}
    nodes = set(ident.values())
    edges: Counter = Counter()
    for u, v in g.edges():
        if g.nodes[v]["kind"] == "op":  # tensor -> gate: from the leaf or the gate that made it
            source = ident[u] if u in ident and u not in made_by else ident[made_by[u]]
            edges[(source, ident[v])] += 1
        elif v in ident:  # gate -> the output tensor itself
            edges[(ident[u], ident[v])] += 1
    return nodes, edges


def _mlp_step():
    torch.manual_seed(0)
    with viz.record_torch():
        model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        X = torch.randn(5, 3)
        y = torch.tensor([0, 1, 1, 0, 1])
        loss = F.cross_entropy(model(X), y)
        loss.backward()
    return loss


def _svm_step():
    torch.manual_seed(0)
    with viz.record_torch():
        X, y = torch.randn(4, 3), torch.tensor([0, 2, 1, 2])
        W = torch.randn(3, 3, requires_grad=True)
        b = torch.zeros(3, requires_grad=True)
        scores = X @ W.T + b
        correct = scores[torch.arange(4), y]
        margins = torch.clamp(scores - correct[:, None] + 1, min=0)
        margins = margins * (1 - F.one_hot(y, 3))
        loss = margins.sum() / 4 + 0.1 * (W * W).sum()
        loss.backward()
    return loss


@pytest.mark.parametrize("make", ["lecture", "square", "mlp", "svm", "ops"])
def test_nodes_and_edges_equal_torchviz(make) -> None:
    if make == "lecture":
        roots = [torch_lecture()[0]]
    elif make == "square":
        x = torch.tensor(3.0, requires_grad=True)
        roots = [(x * x).sum()]
    elif make == "mlp":
        roots = [_mlp_step()]
    elif make == "svm":
        roots = [_svm_step()]
    else:
        roots = [_run(next(c for c in CASES if c.op == op), record=True)[2] for op in TWINNED]
    for root in roots:
        walked = TorchGraph(root)  # holds every node, so their ids stay put meanwhile
        nodes, edges = _torchviz_sets(root)
        ours_nodes, ours_edges = _our_sets(walked.to_networkx())
        assert ours_nodes == nodes
        assert ours_edges == edges


# ----------------------------------------------------------------------------- recorder


def test_recorder_leaves_results_and_gradients_unchanged() -> None:
    def run():
        torch.manual_seed(1)
        net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
        X = torch.randn(6, 3)
        out = F.cross_entropy(net(X), torch.tensor([0, 1, 0, 1, 1, 0]))
        out.backward()
        return out, [p.grad.clone() for p in net.parameters()]

    ref, ref_grads = run()
    with viz.record_torch():
        got, got_grads = run()
    assert torch.equal(ref, got)
    for a, b in zip(ref_grads, got_grads, strict=True):
        assert torch.equal(a, b)


def test_recorder_removes_its_hooks_on_exit() -> None:
    with viz.record_torch():
        x = torch.tensor(2.0, requires_grad=True)
        f = x * x * 3
        f.backward(retain_graph=True)
    rec = f.grad_fn.metadata[KEY]
    order = rec.order
    assert order is not None
    f.backward()  # the hooks are gone: nothing records this pass
    assert rec.order == order
    assert x.grad.item() == 24.0  # and the gradients are PyTorch's own
    after = x * 5  # nor is the mode left on
    assert KEY not in after.grad_fn.metadata


def test_recorder_removes_its_hooks_on_an_exception() -> None:
    x = torch.tensor(2.0, requires_grad=True)
    with pytest.raises(KeyError), viz.record_torch():
        f = (x * x).exp()
        {}["the user's code fails here"]
    rec = f.grad_fn.metadata[KEY]
    assert rec.values and rec.order is None
    f.backward()
    assert rec.order is None and rec.upstream is None  # no hook fired
    assert KEY not in (x * 2).grad_fn.metadata


def test_recorder_names_tensors_after_variables_and_modules() -> None:
    loss = _mlp_step()
    names = {d.get("name") for _, d in viz.to_networkx(loss).nodes(data=True)}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= {
        n.removeprefix("model.") for n in names if n
    }
    assert "loss" in names


def test_recorder_is_per_thread() -> None:
    import threading

    x = torch.tensor(2.0, requires_grad=True)
    seen = {}

    def other():
        seen["t"] = x * 7

    with viz.record_torch():
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        mine = x * 3
    assert KEY in mine.grad_fn.metadata
    assert KEY not in seen["t"].grad_fn.metadata


def test_without_the_recorder_leaves_and_saved_values_show() -> None:
    x = torch.tensor(0.5, requires_grad=True)
    y = torch.tensor(-2.0, requires_grad=True)
    f = (x * y).exp() * 2
    g = viz.to_networkx(f)
    texts = svg_texts(viz.draw(f))
    assert "value not recorded" in texts  # x*y: nobody saved it
    assert g.nodes[g.graph["output"]]["value"] == f.item()
    assert any(t.startswith("PyTorch keeps no intermediate values") for t in texts)
    # What ExpBackward0 saved (its result) is shown while autograd keeps it.
    values = [d["value"] for _, d in g.nodes(data=True) if d["kind"] == "tensor"]
    assert any(v is not None and np.isclose(v, np.exp(-1.0)) for v in values)
    f.backward()
    leaves = [d for _, d in viz.to_networkx(f).nodes(data=True) if d.get("leaf")]
    grads = sorted(d["grad"].item() for d in leaves)
    assert grads == pytest.approx(sorted([2 * np.exp(-1.0) * -2.0, 2 * np.exp(-1.0) * 0.5]))


DEEP = """
import sys, torch, viz
x = torch.tensor(1.0, requires_grad=True)
y = x
for _ in range(100_000):
    y = y * 1.0
sys.setrecursionlimit(200)  # a recursive walk would fail at once
print(viz.draw(y).source)
for call in (viz.to_networkx, viz.steps):
    try:
        call(y)
    except ValueError as err:
        print(err)
del y  # PyTorch frees the chain: no crash, as viz read only the first nodes
print("freed")
"""


def test_a_deep_pytorch_chain_draws_as_a_summary() -> None:
    # In a process of its own: PyTorch itself crashes freeing a chain this deep if more
    # than ~40,000 of its nodes were ever read from Python (viz.pytorch.MAX_NODES).
    run = subprocess.run([sys.executable, "-c", DEEP], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert "too large to draw" in out
    assert "more than 2000 tensors" in out
    assert "MulBackward0 ×2000" in out  # as far as it was read
    assert "to_networkx: PyTorch's graph has more than 10,000 nodes" in out
    assert "steps: the graph has 400+ backward nodes" in out
    assert out.rstrip().endswith("freed")


def test_the_recorder_stops_at_its_limit() -> None:
    x = torch.tensor(1.0, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="first 10,000 nodes"), viz.record_torch():
        y = x
        for _ in range(10_050):
            y = y * 1.0
    assert not y.grad_fn.metadata[KEY].values  # named on exit, never recorded
    assert "too large to draw" in viz.draw(y).source


# ----------------------------------------------------------------------------- the player


def test_frames_follow_the_engine_order_seen_by_hooks() -> None:
    order: list[int] = []
    with viz.record_torch():
        torch.manual_seed(0)
        X = torch.randn(4, 3)
        W1 = torch.randn(3, 5, requires_grad=True)
        W2 = torch.randn(5, 2, requires_grad=True)
        h = torch.tanh(X @ W1)
        loss = (h @ W2).exp().sum() + (h * h).mean() + (W1 * W1).sum()
        stack, seen = [loss.grad_fn], set()
        while stack:  # the test's own hooks on every node, independent of the recorder's
            fn = stack.pop()
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            if not hasattr(fn, "variable"):
                fn.register_prehook(lambda grads, fn=fn: order.append(id(fn)))
            stack += [n for n, _ in fn.next_functions]
        loss.backward()
    frames = viz.steps(loss)
    g = viz.to_networkx(loss)
    gates = [
        g.nodes[fr.active[0]]["torch_id"]
        for fr in frames
        if fr.phase == "backward" and fr.active and fr.active[0].startswith("g")
    ]
    assert gates == order and len(order) == 11


def test_the_lecture_frames_read_as_ours() -> None:
    f, _, _ = torch_lecture()
    frames = viz.steps(f)
    ours = viz.steps(lecture_graph())
    assert len(frames) == len(ours) == 11
    assert [fr.phase for fr in frames] == [fr.phase for fr in ours]
    captions = "\n".join(fr.caption for fr in frames)
    assert "Forward, * gate, MulBackward0: p = 3 × (-4) = -12" in captions
    assert "MaximumBackward0 (max routes)" in captions
    assert "∂f/∂x = upstream × local = 2 × (-4) = -8" in captions
    assert "∂f/∂w = upstream × local = 2 × 0 = 0" in captions
    assert "∂f/∂v = upstream × local = 1 × 2 = 2" in captions
    last = frames[-1].caption
    assert "∂f/∂x = -8, ∂f/∂y = 6, ∂f/∂z = 2, ∂f/∂w = 0" in last
    # One frame model: the same node states as ours, by node.
    final = {s.value.item() for s in frames[-1].nodes.values() if s.kind == "tensor"}
    assert final == {3.0, -4.0, 2.0, -1.0, -12.0, -10.0, -20.0}


def test_frames_accumulate_a_tensor_used_twice() -> None:
    with viz.record_torch():
        x = torch.tensor(3.0, requires_grad=True)
        a = x * 2
        f = a * a
        f.backward()
    frames = viz.steps(f)
    mul = [fr for fr in frames if fr.phase == "backward" and "a * a" not in fr.caption]
    text = "\n".join(fr.caption for fr in mul)
    assert "∂f/∂a = upstream × local = 1 × 6 = 6, accumulates: 6 + 6 = 12" in text
    assert "∂f/∂x = upstream × local = 12 × 2 = 24" in text


def test_caption_without_a_local_rule_gives_the_numbers() -> None:
    class Twice(torch.autograd.Function):  # our own node: its local rule is not asked for
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with viz.record_torch():
        x = torch.tensor(3.0, requires_grad=True)
        f = Twice.apply(x)
        f.backward()
    captions = [fr.caption for fr in viz.steps(f)]
    assert any("TwiceBackward" in c and "∂f/∂x gets 2" in c for c in captions)


def test_steps_need_a_recorded_backward() -> None:
    x = torch.tensor(3.0, requires_grad=True)
    f = x * x
    f.backward()
    with pytest.raises(ValueError, match="record_torch"):
        viz.steps(f)
    with pytest.raises(ValueError, match="grad="):
        viz.steps(torch_lecture()[0], grad=1.0)


def test_animate_and_render_steps_from_pytorch(tmp_path) -> None:
    f, _, _ = torch_lecture()
    page = viz.animate(f, tmp_path / "torch.html").read_text(encoding="utf-8")
    assert "MulBackward0" in page and "upstream × local" in page
    assert "Backprop, step by step: f" in page
    paths = viz.render_steps(f, tmp_path / "frames", "svg")
    assert len(paths) == 11


# ----------------------------------------------------------------------------- compare


def _red_nodes(source: str) -> int:
    return len(re.findall(rf'BORDER="3"[^>]*COLOR="{GRAD_COLOR}"', source))


def test_compare_equal_graphs_marks_nothing() -> None:
    ours = lecture_graph()
    ours.backward()
    theirs, _, _ = torch_lecture(dtype=torch.float64)
    c = viz.compare(ours, theirs)
    assert c.ok and not c.differences and not c.divergences
    assert len(c.matches) == 8  # every tensor that needs a gradient, and f
    assert _red_nodes(c.source) == 0
    assert "every matched value and gradient agrees" in c.source
    assert "<svg" in c._repr_svg_()


def test_compare_marks_a_planted_difference_with_both_numbers(tmp_path) -> None:
    ours = lecture_graph()
    ours.backward()
    with viz.record_torch():
        x = torch.tensor(3.5, requires_grad=True, dtype=torch.float64)  # planted: 3.5, not 3
        y = torch.tensor(-4.0, requires_grad=True, dtype=torch.float64)
        z = torch.tensor(2.0, requires_grad=True, dtype=torch.float64)
        w = torch.tensor(-1.0, requires_grad=True, dtype=torch.float64)
        p = x * y
        q = torch.maximum(z, w)
        v = p + q
        f = 2 * v
        f.backward()
    c = viz.compare(ours, f)
    assert not c.ok and not c.divergences
    found = {(d.name, d.what) for d in c.differences}
    assert found == {("x", "value"), ("p", "value"), ("v", "value"), ("f", "value"), ("y", "grad")}
    assert _red_nodes(c.source) == 2 * 5  # each on both sides
    texts = svg_texts(c)
    assert "PyTorch: value 3.5" in texts and "tensorgraph: value 3" in texts
    assert "PyTorch: grad 7" in texts and "tensorgraph: grad 6" in texts
    assert viz.render(c, tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_the_seeds_python_max() -> None:
    """The slide's q = max(z, w): PyTorch records no max gate, and w.grad stays None."""
    ours = lecture_graph()
    ours.backward()
    theirs, (x, y, z, w), (p, q, v) = torch_lecture(maximum=max)
    assert q is z and w.grad is None
    c = viz.compare(ours, theirs)
    assert not c.ok and not c.differences
    text = "\n".join(c.divergences)
    assert "q: tensorgraph computes it with a max gate (maximum)" in text
    assert "the leaf z there, with no gate (Python's built-in max(z, w)" in text
    assert "w: only in tensorgraph's graph" in text and "(tensorgraph: 0)" in text
    assert "MaximumBackward0" not in viz.draw(theirs).source
    assert set(c.matches.values()) >= {viz.to_networkx(theirs).graph["output"]}


def test_compare_says_where_a_decomposed_op_parts() -> None:
    S = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    ours_S = tg.tensor(S, requires_grad=True, name="S")
    loss = tg.softmax_loss(ours_S * 2, [2, 0])
    loss.backward()
    with viz.record_torch():
        S_t = torch.tensor(S, requires_grad=True)
        out = F.cross_entropy(S_t * 2, torch.tensor([2, 0]))
        out.backward()
    c = viz.compare(loss, out)
    assert not c.differences  # every shared number agrees
    assert any(
        "softmax loss gate (softmax_loss), PyTorch NllLossBackward0" in d for d in c.divergences
    )
    assert any(d.startswith("LogSoftmaxBackward0: only in PyTorch's graph") for d in c.divergences)
    assert len(c.matches) == 3  # the loss, S * 2 (found again by its value) and S


def test_compare_refuses_what_it_cannot_compare() -> None:
    with pytest.raises(TypeError, match="compare: theirs"):
        viz.compare(lecture_graph(), np.ones(3))


# ----------------------------------------------------------------------------- torch absent


def test_clear_error_without_torch(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    with pytest.raises(ImportError, match=r"pip install 'tensorgraph\[torch\]'"):
        viz.record_torch()
    assert viz.draw(lecture_graph()).source.startswith("digraph")  # the rest still works


# ----------------------------------------------------------------------------- docs


@pytest.mark.parametrize(
    "module", ["viz.pytorch", "viz.record", "viz.pytorch_steps", "viz.compare"]
)
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------- the command


def cli_run(capsys, *argv: str) -> tuple[int, str, str]:
    from viz import cli

    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_draws_pytorchs_graph(capsys, tmp_path) -> None:
    target = tmp_path / "torch.svg"
    code, out, err = cli_run(
        capsys, "draw", "--engine", "torch", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2",
        "w=-1", "-o", str(target),
    )  # fmt: skip
    assert code == 0, err
    assert "f = -20\ndf/dx = -8\ndf/dy = 6\ndf/dz = 2\ndf/dw = 0\n" in out
    svg = target.read_text(encoding="utf-8")
    for name in ("MulBackward0", "MaximumBackward0", "AddBackward0", "(PyTorch)"):
        assert name in svg, name
    texts = {html.unescape(t) for t in re.findall(r">([^<>]+)</text>", svg)}
    assert {"x", "y", "z", "w", "f", "grad -8", "grad 6", "grad 2", "grad 0"} <= texts


def test_cli_compare_agrees_and_says_where_graphs_part(capsys, tmp_path) -> None:
    target = tmp_path / "compare.png"
    code, out, err = cli_run(
        capsys, "draw", "--compare", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2", "w=-1",
        "-o", str(target),
    )  # fmt: skip
    assert code == 0, err
    assert out.count("df/dx = -8") == 2 and "compare: the graphs agree" in out
    assert target.read_bytes()[:4] == b"\x89PNG"
    code, out, err = cli_run(
        capsys, "draw", "--compare", "softmax_loss(S @ W, y)", "S=[[1, 2, 3]]",
        "W=[[1, 0], [0, 1], [1, 1]]", "y=[0]",
    )  # fmt: skip
    assert code == 0, err
    assert "compare: they differ" in out
    assert "softmax loss gate (softmax_loss), PyTorch NllLossBackward0" in out
    assert "LogSoftmaxBackward0: only in PyTorch's graph" in out


def test_cli_torch_refuses_an_op_without_a_twin(capsys) -> None:
    code, _, err = cli_run(
        capsys, "draw", "--engine", "torch", "svm_loss(S, y)", "S=[[1, 2]]", "y=[0]"
    )
    assert code == 2
    assert "svm_loss() has no PyTorch twin in the registry" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_torch_seeds_a_tensor_with_ones(capsys) -> None:
    code, out, err = cli_run(capsys, "draw", "--engine", "torch", "x * 2", "x=[1, 2]")
    assert code == 0, err
    assert "backward is seeded with ones" in out and "df/dx = [2., 2.]" in out


def test_cli_animates_pytorchs_backward(capsys, tmp_path) -> None:
    target = tmp_path / "torch.html"
    code, out, err = cli_run(
        capsys, "animate", "--engine", "torch", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2",
        "w=-1", "-o", str(target),
    )  # fmt: skip
    assert code == 0, err
    page = target.read_text(encoding="utf-8")
    assert "MaximumBackward0 (max routes)" in page and "upstream × local = 2 × (-4) = -8" in page


def test_cli_without_torch_says_how_to_get_it(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    code, _, err = cli_run(capsys, "draw", "--engine", "torch", "x * 2", "x=1")
    assert code == 1
    assert "needs PyTorch" in err and "pip install 'tensorgraph[torch]'" in err


def test_the_readme_pictures_redraw(tmp_path) -> None:
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "docs" / "torch_pictures.py"
    paths = runpy.run_path(str(script))["main"](tmp_path)
    names = [p.name for p in paths]
    assert names == [
        "torch_lecture.png",
        "torch_compare.png",
        "torch_svm_step.png",
        "torch_mlp_step.png",
    ]
    for path in paths:
        assert path.read_bytes()[:4] == b"\x89PNG"
        assert (script.parent / path.name).exists()  # and the README shows them
    readme = (script.parent.parent / "README.md").read_text(encoding="utf-8")
    assert all(f"docs/{name}" in readme for name in names)


def test_compare_two_tensorgraph_graphs() -> None:
    a = tg.tensor(1.0, requires_grad=True, name="x") * 2
    b = 2 * tg.tensor(1.5, requires_grad=True, name="x")  # the constant on the other side
    a.backward()
    b.backward()
    c = viz.compare(a, b)
    assert not c.divergences
    assert {(d.name, d.what) for d in c.differences} == {("x", "value"), ("t2", "value")}
    assert "tensorgraph (ours)" in c.source and "tensorgraph (theirs)" in c.source


def test_check_is_for_tensorgraph_graphs() -> None:
    f, _, _ = torch_lecture()
    with pytest.raises(TypeError, match=r"viz.compare\(ours, theirs\)"):
        viz.draw(f, check=True)


def test_the_recorder_gives_up_on_a_graph_too_large_at_once() -> None:
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_050):  # made before the block: too large to hook
        y = y * 1.0
    with pytest.warns(RuntimeWarning, match="first 10,000 nodes"), viz.record_torch() as rec:
        z = y * 2
        for _ in range(50):
            z = z + y
    assert rec.full and not z.grad_fn.metadata[KEY].values


# Literals for each attribute an expression may pass (the registry names them).
ATTR_TEXT = {
    "axis": "1",
    "keepdims": "True",
    "shape": "(3, 2)",
    "axes": "(1, 0)",
    "exponent": "3",
    "negative_slope": "0.1",
    "min": "0.75",
    "max": "2",
    "correction": "0",
    "start": "0",
    "end": "1",
    "dtype": "'float32'",
}


@pytest.mark.parametrize(
    "info", [i for i in tg.OPS.values() if i.torch and i.expression()], ids=lambda i: i.name
)
def test_every_twin_evaluates_alike_in_both_engines(info) -> None:
    from viz.expr import evaluate
    from viz.pytorch import evaluate_torch

    bindings = {"y": np.array([2.0, 0.0]), "cond": np.array([[True, False, True]] * 2)}
    names = [f"t{k}" for k in range(2)] if info.variadic else list(info.inputs)
    text = info.expression()
    if info.variadic:  # cat([tensors, ...], axis): two tensors
        text = text.replace("[tensors, ...]", "[t0, t1]")
    for k, name in enumerate(names):  # positive 2x3 inputs: every domain fits
        bindings[name] = np.array([[0.5, 1.5, 2.0], [1.0, 0.25, 3.0]]) + k
        if info.name == "matmul" and k == 1:
            bindings[name] = bindings[name].T
        if info.name == "squeeze":  # an axis of size 1 to squeeze
            bindings[name] = bindings[name][:, None, :]
    for name in info.attrs:
        text = re.sub(rf"\b{name}\b", ATTR_TEXT.get(name, name), text)
    ours, our_vars = evaluate(text, bindings)
    theirs, their_vars = evaluate_torch(text, bindings)
    np.testing.assert_allclose(theirs.detach().numpy(), ours.data, rtol=1e-12)
    ours.backward(np.ones_like(ours.data))
    theirs.backward(torch.ones_like(theirs))
    for name in names:
        np.testing.assert_allclose(their_vars[name].grad.numpy(), our_vars[name].grad, rtol=1e-12)
