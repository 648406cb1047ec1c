"""tg.flat_code: a graph's forward and backward pass as straight-line code that runs.

The code is checked where it matters: the lecture's reads like the slide; exec'd, its
grads() gives the numbers backward() gives, for the lecture, the SVM and softmax
training steps and random programs from tests/test_fuzz.py's generator (every op there,
float64 and float32); and every op of tg.OPS has a code template.
"""

from __future__ import annotations

import ast
import doctest
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorgraph as tg
from tensorgraph import registry
from tensorgraph.registry import Array, Arrays, Forward
from viz.course.lecture import lecture_graph
from viz.expr import evaluate

pytest.importorskip("torch")  # the fuzz generator builds every program in torch too
from test_fuzz import BUILDERS, PROFILE, Program, base_shape, new_leaf, step  # noqa: E402


def leaves(f: tg.Tensor) -> list[tg.Tensor]:
    """The leaves grads() takes, in its order."""
    return [t for t in tg.graph_nodes(f) if t.op is None and t.requires_grad]


def run(f: tg.Tensor, grad=None, **options) -> tuple[str, dict, list[tg.Tensor]]:
    code = tg.flat_code(f, grad, **options)
    namespace: dict = {}
    exec(code, namespace)
    return code, namespace, leaves(f)


def assert_same_gradients(f: tg.Tensor, grad=None, rtol: float = 1e-12) -> str:
    """grads() on the traced values equals the engine's backward, leaf by leaf."""
    code, ns, xs = run(f, grad)
    got = ns["grads"](*[t.data.copy() for t in xs])
    expected = tg.gradients(f, grad)
    names = list(ast.parse(code).body[-1].args.args)  # def grads(x, y, ...)
    assert len(names) == len(xs)
    for t, arg in zip(xs, names, strict=True):
        g = np.asarray(got[arg.arg])
        assert g.shape == t.shape and g.dtype == t.dtype, (arg.arg, g.shape, g.dtype)
        scale = float(np.max(np.abs(expected[t]), initial=1.0))
        np.testing.assert_allclose(g, expected[t], rtol=rtol, atol=rtol * scale, err_msg=arg.arg)
    return code


# ----- the lecture -----

SLIDE = """\
    # Forward pass
    p = x * y  # -12
    q = np.maximum(z, w)  # 2
    v = p + q  # -10
    f = 2 * v  # -20
    # Backward pass
    dfdf = np.float64(1.0)
    dfdv = dfdf * 2  # 2
    dfdp = dfdv  # 2
    dfdq = dfdv  # 2
    dfdz = dfdq * (z > w) + dfdq * (z == w) / 2  # 2
    dfdw = dfdq * (w > z) + dfdq * (w == z) / 2  # 0
    dfdx = dfdp * y  # -8
    dfdy = dfdp * x  # 6
    return {"x": dfdx, "y": dfdy, "z": dfdz, "w": dfdw}
"""


def test_the_lecture_reads_like_the_slide() -> None:
    code, ns, _ = run(lecture_graph())
    assert "def grads(x, y, z, w):\n" in code
    assert SLIDE in code
    assert {k: float(v) for k, v in ns["grads"](3, -4, 2, -1).items()} == {
        "x": -8.0,
        "y": 6.0,
        "z": 2.0,
        "w": 0.0,
    }


def test_the_command_lines_graph_gets_the_slides_names() -> None:
    """The expression language names only x, y, z, w and f: the gates get p, q, v."""
    f, _ = evaluate("2*(x*y + max(z, w))", {"x": 3, "y": -4, "z": 2, "w": -1})
    assert SLIDE in tg.flat_code(f)


@pytest.mark.parametrize(
    "values", [(3, -4, 2, -1), (1.5, 2, -1, 4), (0, 0, 2, 2), (-1, 1, 2, 2.0000001)]
)
def test_grads_is_a_function_of_its_inputs(values: tuple[float, ...]) -> None:
    """Traced once at the lecture's values, grads() gives the engine's gradient at any
    other values of the same shapes, ties included (half to each side, as torch)."""
    _, ns, _ = run(lecture_graph())
    x, y, z, w = (tg.tensor(float(v), requires_grad=True) for v in values)
    f = 2 * (x * y + tg.maximum(z, w))
    f.backward()
    got = ns["grads"](*values)
    assert [float(got[k]) for k in "xyzw"] == [t.grad.item() for t in (x, y, z, w)]


def test_grads_takes_numbers_lists_and_arrays() -> None:
    a = tg.tensor([1.0, -2.0, 3.0], requires_grad=True, name="a")
    code, ns, _ = run((a * a).sum())
    for values in ([1, -2, 3], np.array([1.0, -2.0, 3.0]), (1, -2, 3)):
        np.testing.assert_array_equal(ns["grads"](a=values)["a"], [2.0, -4.0, 6.0])
    # a * a: the tensor is used twice, so its gradient is a sum.
    assert "    dfda = dfdp * a  #" in code and "    dfda += dfdp * a  #" in code


# ----- the classifiers' training steps -----


@pytest.mark.parametrize("Model", [tg.LinearSVM, tg.SoftmaxClassifier])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_training_step_gives_backwards_gradients(Model, dtype) -> None:
    X, y = tg.data.load_digits()
    X = (X[:8] / 16).astype(dtype)
    clf = Model(epochs=1, verbose=False, reg=0.01, seed=0).fit(X, y[:8])
    L = clf.loss(X, y[:8])
    code = assert_same_gradients(L, rtol=1e-12 if dtype == np.float64 else 1e-5)
    # Named after the classifier's tensors, the loss gate's labels a keyword default.
    assert "def grads(W, b, *, X=X, y=y, reg=reg):" in code
    assert re.search(r"^    dLdb = dLdscores\.sum\(axis=0\)  # \(8,\)", code, re.M)
    assert "dLdW += " in code  # W is used twice: by the scores and by the penalty


def test_a_large_constant_is_a_keyword_to_pass() -> None:
    X = np.random.default_rng(0).normal(size=(30, 4))
    W = tg.tensor(np.ones((3, 4)), requires_grad=True, name="W")
    f = (tg.tensor(X, name="X") @ W.T).sum()
    code, ns, _ = run(f, max_literal=100)
    assert "def grads(W, *, X):" in code and "too large to write here" in code
    np.testing.assert_allclose(ns["grads"](W.data, X=X)["W"], np.tile(X.sum(axis=0), (3, 1)))
    with pytest.raises(TypeError, match="X"):
        ns["grads"](W.data)


# ----- random programs: every op -----


def program(data: st.DataObject, dtype=np.float64, first: str | None = None):
    """A random program from the fuzz generator and a root to backpropagate: the last
    result with a random seed, or a random mix of several results."""
    p = Program(data, dtype=dtype)
    new_leaf(p, base_shape(p))
    names = list(BUILDERS)
    for i in range(p.draw(st.integers(1, 10), label="steps")):
        step(p, first if (i == 0 and first) else p.draw(st.sampled_from(names), label="op"))
    live = [q.t for q in p.pool if q.t.requires_grad]
    if not live:
        return None, None
    rng = p.rng()
    if p.draw(st.booleans(), label="mix"):
        chosen = [t for t in live if p.draw(st.booleans())] or [live[-1]]
        total = 0.0
        for t in chosen:
            total = total + (t * rng.standard_normal(t.shape).astype(dtype)).sum()
        return total, None
    return live[-1], rng.standard_normal(live[-1].shape).astype(dtype)


@settings(PROFILE, max_examples=PROFILE.max_examples // 2)
@given(st.data())
def test_random_programs(data: st.DataObject) -> None:
    f, seed = program(data)
    if f is not None:
        assert_same_gradients(f, seed)


@settings(PROFILE, max_examples=PROFILE.max_examples // 6)
@given(st.data())
def test_random_float32_programs(data: st.DataObject) -> None:
    f, seed = program(data, np.float32)
    if f is not None:
        assert_same_gradients(f, seed, rtol=2e-4)


@pytest.mark.parametrize("name", sorted(BUILDERS))
@settings(PROFILE, max_examples=8 if PROFILE.max_examples <= 300 else 100)
@given(data=st.data())
def test_each_op(name: str, data: st.DataObject) -> None:
    f, seed = program(data, first=name)
    if f is not None:
        assert_same_gradients(f, seed)


# ----- the templates, in the registry -----


@pytest.mark.parametrize("info", tg.OPS.values(), ids=list(tg.OPS))
def test_every_op_has_a_code_template(info: tg.OpInfo) -> None:
    assert info.code.strip(), f"op {info.name} has no code template: give its @op entry code="
    body = ast.parse(info.code.strip()).body
    written = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name)}
    assert "out" in written
    for name in info.inputs:
        assert f"d{name}" in written, f"op {info.name}: its template never assigns d{name}"


@pytest.mark.parametrize("info", tg.OPS.values(), ids=list(tg.OPS))
def test_every_template_runs_and_agrees_with_its_rule(info: tg.OpInfo) -> None:
    """Each op once on test_registry's sample inputs (so an op the fuzzer leaves out, in
    NOT_FUZZED, still has its template run), every input needing a gradient."""
    from test_registry import sample_attrs, sample_inputs

    arrays = [np.ones((2, 3)), np.ones((3, 2))] if info.name == "matmul" else sample_inputs(info)
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = info.call(xs, sample_attrs(info))
    weights = np.random.default_rng(0).normal(size=out.shape)
    assert_same_gradients((out * weights).sum())


def test_every_op_is_fuzzed_here_too() -> None:
    """The programs above reach every op test_fuzz.py reaches."""
    from test_fuzz import NOT_FUZZED

    assert set(tg.OPS) - set(NOT_FUZZED) <= set(BUILDERS)


@pytest.fixture
def scratch_op():
    """Register ops for one test, and take them out again."""
    added: list[str] = []

    def make(code: str, rule=lambda x: (x * 3, lambda g: (g * 3,))) -> object:
        def thrice(x: Array) -> Forward:
            return rule(x)

        fn = registry.op("3x", "∂/∂x = 3", kind="elementwise", code=code)(thrice)
        added.append("thrice")
        return fn

    yield make
    for name in added:
        registry.OPS.pop(name, None)


def test_an_op_without_a_template_is_named(scratch_op) -> None:
    thrice = scratch_op("")
    x = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="op 'thrice' has no code template"):
        tg.flat_code(thrice(x))


def test_a_template_that_disagrees_with_its_rule_is_refused(scratch_op) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    wrong_backward = scratch_op("out = 3 * x; dx = 2 * g")
    with pytest.raises(RuntimeError, match="template of op 'thrice'.*gradient of input 0"):
        tg.flat_code(wrong_backward(x).sum())
    registry.OPS.pop("thrice")
    wrong_forward = scratch_op("out = 2 * x; dx = 3 * g")
    with pytest.raises(RuntimeError, match="template of op 'thrice'.*output"):
        tg.flat_code(wrong_forward(x).sum())


def test_a_template_if_may_not_read_values(scratch_op) -> None:
    thrice = scratch_op("out = 3 * x\nif x.sum() > 0:\n    dx = 3 * g\nelse:\n    dx = 3 * g")
    with pytest.raises(ValueError, match="reads values"):
        tg.flat_code(thrice(tg.tensor([1.0], requires_grad=True)).sum())


def test_a_sequence_input_gets_a_gradient_per_tensor() -> None:
    """The format for cat/stack-like ops: ``xs`` is a list, ``dxs`` one gradient each."""

    @registry.op(
        "stack",
        "the slices of G",
        kind="shape",
        code="out = np.stack(xs); dxs = list(g)",
    )
    def stacked(xs: Arrays) -> Forward:
        return np.stack(xs), lambda g: tuple(g)

    try:
        a = tg.tensor([1.0, 2.0], requires_grad=True, name="a")
        b = tg.tensor([3.0, 4.0], requires_grad=True, name="b")
        f = (stacked([a, b, a]) * np.arange(6.0).reshape(3, 2)).sum()
        code = assert_same_gradients(f)
        assert "np.stack([a, b, a])" in code and "dfda += " in code
    finally:
        registry.OPS.pop("stacked")


# ----- names, seeds, constants -----


def test_names_become_identifiers_and_never_collide() -> None:
    a = tg.tensor(2.0, requires_grad=True, name="data loss")
    b = tg.tensor(3.0, requires_grad=True, name="np")
    c = tg.tensor(4.0, requires_grad=True, name="data loss")
    d = a * b
    d.name = "dfddata_loss"  # what a's gradient would be called
    f = d + c
    code = assert_same_gradients(f)
    assert "def grads(data_loss, np_2, data_loss_2):" in code
    assert "dfddata_loss = data_loss * np_2" in code and "dfddata_loss_2 = " in code


def test_constants_keep_their_dtype() -> None:
    """Whole numbers in a float array stay floats; float32 stays float32; labels int."""
    w = tg.tensor([0.5, -1.0], requires_grad=True, name="w")
    pixels = tg.tensor([[0.0, 16.0], [3.0, 7.0]], name="X")
    small = tg.tensor(np.array([1.0, 2.0], np.float32), name="h")
    f = tg.softmax_loss(pixels * w + small, [1, 0])
    code, ns, _ = run(f)
    assert "X = np.array([[0.0, 16.0],\n" in code
    assert "h = np.array([1.0, 2.0], dtype=np.float32)" in code and "y = np.array([1, 0])" in code
    assert ns["X"].dtype == np.float64 and ns["h"].dtype == np.float32
    assert_same_gradients(f)


def test_a_tensor_output_needs_a_seed() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    with pytest.raises(ValueError, match="flat_code: the output has shape"):
        tg.flat_code(x * x)
    code = assert_same_gradients(x * x, np.array([1.0, -1.0]))
    assert "seed = np.array([1.0, -1.0])" in code


def test_an_output_that_is_a_leaf() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="lambda")  # a keyword, too
    code = assert_same_gradients(x, np.array([3.0, 4.0]))
    assert "def grads(lambda_2, *, seed=seed):" in code
    assert "dlambda_2dlambda_2 = seed" in code


def test_a_graph_that_needs_no_gradient_is_refused() -> None:
    with pytest.raises(RuntimeError, match="flat_code: this tensor does not require a gradient"):
        tg.flat_code(tg.tensor(2.0) * 3)
    with pytest.raises(TypeError, match="flat_code: expected a tensorgraph Tensor"):
        tg.flat_code(np.ones(2))


def test_the_modules_examples_run() -> None:
    result = doctest.testmod(tg.flatcode, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ----- the command line -----


def test_tensorgraph_code_prints_code_that_runs(capsys) -> None:
    from viz.cli import main

    assert main(["code", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2", "w=-1"]) == 0
    out = capsys.readouterr().out
    assert SLIDE in out
    namespace: dict = {}
    exec(out, namespace)
    assert float(namespace["grads"](3, -4, 2, -1)["x"]) == -8.0


def test_tensorgraph_code_seeds_a_tensor_output_with_ones(capsys) -> None:
    from viz.cli import main

    assert main(["code", "x * y", "x=[1, 2]", "y=3"]) == 0
    captured = capsys.readouterr()
    assert "f has shape (2,)" in captured.err
    namespace: dict = {}
    exec(captured.out, namespace)
    assert float(namespace["grads"]([1, 2], 3)["y"]) == 3.0  # d(sum(x * y))/dy = 1 + 2


def test_tensorgraph_code_refuses_what_draw_refuses(capsys) -> None:
    from viz.cli import main

    assert main(["code", "x * q", "x=1"]) == 2
    assert "tensorgraph code: refused: unknown name 'q'" in capsys.readouterr().err


def test_the_readme_shows_what_flat_code_prints() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The backward pass as code") :]
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    assert shown in tg.flat_code(lecture_graph())
