"""The op registry is the one source of every fact about an op: everything that lists ops
is derived from ``tg.OPS`` or checked against it here.

Exports, Tensor methods, the expression language, the CLI help, the README's op lists
and the derivative doc each get a test that fails when an op is missing from them.
"""

from __future__ import annotations

import ast
import inspect
import re
import threading
from pathlib import Path

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import registry
from tensorgraph.tensor import Tensor
from viz import cli, expr

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Sample values for attributes an op requires, by attribute name (the registry says
# which attributes each op has).
REQUIRED_ATTRS = {
    "exponent": 2,
    "index": 0,
    "shape": (-1,),
    "y": np.array([0, 1]),
    "cond": np.array([[True, False, True], [False, True, False]]),
    "axis": 0,
    "dtype": "float32",
}
# Attributes an op needs one of although each has a default (clamp: min or max).
ONE_OF = {"clamp": {"min": 0.75}}
# Attributes given as a bound name in the expression language (arrays have no literal).
BOUND = {"y", "cond"}


def sample_inputs(info: tg.OpInfo) -> list[np.ndarray]:
    """Inputs the op accepts: positive (every domain), 2x3 (losses: 2 rows, 3 classes)."""
    rng = np.random.default_rng(0)
    return [rng.uniform(0.5, 2.0, (2, 3)) for _ in info.inputs]


def sample_attrs(info: tg.OpInfo) -> dict[str, object]:
    params = inspect.signature(info.forward).parameters
    required = {
        a: REQUIRED_ATTRS[a] for a in info.attrs if params[a].default is inspect.Parameter.empty
    }
    return required | ONE_OF.get(info.name, {})


def sample_call(info: tg.OpInfo) -> Tensor:
    if info.name == "matmul":
        return info.function(np.ones((2, 3)), np.ones((3, 2)))
    return info.call([tg.tensor(a) for a in sample_inputs(info)], sample_attrs(info))


# ----- the registry itself -----


@pytest.mark.parametrize("info", tg.OPS.values(), ids=list(tg.OPS))
def test_every_entry_is_complete(info: tg.OpInfo) -> None:
    assert info.symbol and info.local and info.kind in registry.KINDS
    assert info.function.__name__ == info.name and info.forward.__name__ == info.name
    assert ">>>" in (info.function.__doc__ or ""), f"{info.name} has no example"
    assert sample_call(info).op == info.name


def test_the_registry_refuses_an_incomplete_op() -> None:
    with pytest.raises(TypeError, match="annotate its inputs"):

        @tg.op("?", "?", kind="elementwise")
        def no_inputs(x):  # no Array annotation
            return x, lambda g: (g,)

    with pytest.raises(ValueError, match="kind"):
        tg.op("?", "?", kind="magic")
    assert "no_inputs" not in tg.OPS


def test_an_op_error_names_the_op_not_numpy() -> None:
    with pytest.raises(ValueError, match=r"^add: shapes \(2,\) and \(3,\) cannot be broadcast"):
        tg.add(np.ones(2), np.ones(3))
    with pytest.raises(TypeError, match=r"^sum\(\) got an unexpected keyword argument 'dims'"):
        tg.sum(tg.tensor([1.0]), dims=0)
    with pytest.raises(IndexError, match=r"^sum: axis 2 is out of range") as err:
        tg.sum(tg.tensor([1.0]), axis=2)
    assert isinstance(err.value, ValueError)  # numpy's AxisError: both


# ----- exports -----


def test_every_op_is_exported() -> None:
    for name, info in tg.OPS.items():
        assert getattr(tg, name) is info.function, name
        assert name in tg.__all__, name


def test_ops_all_lists_every_op_of_ops_py() -> None:
    mine = {n for n, i in tg.OPS.items() if i.function.__module__ == "tensorgraph.ops"}
    assert mine <= set(tg.ops.__all__)


# ----- Tensor methods: in the class body, one line each, as the registry lists them -----


def _delegations() -> dict[str, str]:
    """Tensor method name -> the ops function its body calls (read from tensor.py)."""
    tree = ast.parse(inspect.getsource(Tensor))
    calls = {}
    for node in tree.body[0].body:
        if not isinstance(node, ast.FunctionDef):
            continue
        body = [s for s in node.body if not isinstance(s, ast.Expr)]  # skip the docstring
        if len(body) != 1 or not isinstance(body[0], ast.Return):
            continue
        call = body[0].value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "ops"
        ):
            calls[node.name] = call.func.attr
    return calls


# Methods that call an ops helper which is not itself an op, with the op they record.
# (raise_to records pow for a number exponent, power for a tensor one.)
NOT_OPS = {"raise_to": None, "update_in_place": None, "compare": None, "swapaxes": "transpose"}


def test_every_method_the_registry_lists_exists_and_records_its_op() -> None:
    x, other = tg.tensor(np.full((3, 3), 1.5)), np.ones((3, 3))
    for info in tg.OPS.values():
        for method in info.methods:
            assert method in vars(Tensor), f"Tensor.{method} (listed by {info.name}) missing"
            member = vars(Tensor)[method]
            if isinstance(member, property):
                result = member.fget(x)
            elif method == "swapaxes":
                result = x.swapaxes(0, 1)
            elif len(info.inputs) == 2:  # a + b, b + a, a @ b ...
                result = getattr(x, method)(other)
            elif _takes_nothing(member):  # x.float(): the method fixes the attribute
                result = getattr(x, method)()
            else:
                result = getattr(x, method)(*sample_attrs(info).values())
            assert result.op == info.name, f"Tensor.{method} recorded {result.op}"


def _takes_nothing(method: object) -> bool:
    return list(inspect.signature(method).parameters) == ["self"]


def test_every_delegating_method_is_in_the_registry() -> None:
    listed = {m: info.name for info in tg.OPS.values() for m in info.methods}
    for method, target in _delegations().items():
        if target in NOT_OPS:
            if NOT_OPS[target] is not None and method in listed:
                assert listed[method] == NOT_OPS[target]
            continue
        assert target in tg.OPS, f"Tensor.{method} calls ops.{target}, not an op"
        assert listed.get(method) == target, f"Tensor.{method} is not in OPS[{target!r}].methods"


def test_methods_are_in_the_class_body_not_attached() -> None:
    source = inspect.getsource(Tensor)
    for info in tg.OPS.values():
        for method in info.methods:
            assert re.search(rf"def {re.escape(method)}\(", source), method


# ----- the expression language and the CLI help -----


def test_every_op_is_in_the_expression_language() -> None:
    for info in tg.OPS.values():
        reachable = info.operator in expr.OPERATORS or info in expr.FUNCTIONS.get(info.expr, [])
        assert reachable, f"{info.name}: no operator or expression name in the registry"


@pytest.mark.parametrize("info", tg.OPS.values(), ids=list(tg.OPS))
def test_every_op_runs_in_the_expression_language(info: tg.OpInfo) -> None:
    names = {n: a for n, a in zip(info.inputs, sample_inputs(info), strict=True)}
    if info.name == "matmul":
        names = {"a": np.ones((2, 3)), "b": np.ones((3, 2))}
    attrs = sample_attrs(info)
    for a in BOUND & set(attrs):  # labels and masks are bound, like any value
        names[a] = attrs[a]
    shown = {a: a if a in BOUND else repr(v) for a, v in attrs.items()}
    if info.operator:
        text = info.expression()
        for attr, value in shown.items():
            text = re.sub(rf"\b{attr}\b", value, text)
    else:  # in the op's parameter order: inputs (a list for cat), the attributes it needs
        args = [f"[{p}, {p}]" if info.variadic and p in info.inputs else p for p in info.params]
        args = [shown.get(a, a) for a in args if a in names or a in shown or a.startswith("[")]
        text = f"{info.expr}({', '.join(args)})"
    out, _ = expr.evaluate(text, names)
    ops = [t.op for t in tg.graph_nodes(out)]
    assert info.name in ops, f"{text} recorded {ops}"


def test_the_cli_help_names_every_op() -> None:
    text = cli.expression_help()
    for info in tg.OPS.values():
        if info.operator == "[]":
            assert "subscripts" in text, info.name
        elif not info.operator:
            assert info.expression() in text, info.name
        else:
            assert f" {info.operator} " in f" {text.replace(',', ' ')} ", info.name
    parser_help = _draw_help()
    assert "svm_loss(scores, y, delta, squared)" in re.sub(r"\s+", " ", parser_help)


def _draw_help() -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["draw", "--help"])
    return out.getvalue()


# ----- the README and the derivative doc -----


def test_the_readme_op_lists_are_generated_from_the_registry() -> None:
    assert registry.readme_with_blocks(README) == README, (
        "the README's op lists are out of date; run `python3 dev.py docs`"
    )
    for key in registry.README_BLOCKS:
        assert f"<!-- {key}:begin -->" in README


def test_the_readme_lists_every_op() -> None:
    block = README.split("<!-- ops:begin -->")[1].split("<!-- ops:end -->")[0]
    language = README.split("<!-- expression:begin -->")[1].split("<!-- expression:end -->")[0]
    for info in tg.OPS.values():
        assert f"`tg.{info.name}`" in block, info.name
        assert f"`{info.expression()}`" in language, info.name


def test_the_derivative_doc_lists_every_op() -> None:
    doc = (ROOT / "docs" / "derivatives.md").read_text(encoding="utf-8")
    for info in tg.OPS.values():
        assert f"| {info.name} | `{info.example()}` | `{info.symbol}` |" in doc, info.name


def test_the_readme_says_how_to_add_an_op() -> None:
    section = README.split("## Adding an op")[1].split("\n## ")[0]
    steps = [line for line in section.splitlines() if re.match(r"\d\. ", line)]
    assert len(steps) == 5, steps
    assert "python3 dev.py docs" in section and "ops.py" in section


# ----- grad mode belongs to the thread -----


def test_no_grad_in_one_thread_leaves_another_recording() -> None:
    inside, done = threading.Event(), threading.Event()
    results: dict[str, bool] = {}

    def quiet() -> None:
        with tg.no_grad():
            inside.set()
            done.wait(5)
            results["quiet"] = tg.is_grad_enabled()

    def busy() -> None:
        inside.wait(5)
        w = tg.tensor([1.0, 2.0], requires_grad=True)
        loss = (w * w).sum()
        loss.backward()
        results["busy"] = loss.requires_grad and w.grad.tolist() == [2.0, 4.0]
        done.set()

    threads = [threading.Thread(target=quiet), threading.Thread(target=busy)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == {"quiet": False, "busy": True}
    assert tg.is_grad_enabled()


def test_no_grad_as_a_decorator_in_several_threads() -> None:
    barrier = threading.Barrier(4)
    seen = []

    @tg.no_grad()
    def predict(w: Tensor) -> bool:
        barrier.wait(5)
        return (w * 2).requires_grad

    def run() -> None:
        seen.append(predict(tg.tensor(1.0, requires_grad=True)))
        seen.append(tg.is_grad_enabled())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen.count(False) == 4 and seen.count(True) == 4
