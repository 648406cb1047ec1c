"""A catalogue of bad inputs: each must fail with the right exception type and a message
that names the op (or function) and the shapes or values at fault.

Sections: the engine (shapes, matmul, backward, non-numbers, exponents, axes), the loss
gates and classifiers (labels, empty batches, NaN data, hyperparameters), model and data
files (truncated, wrong shapes, pickles, which must never be unpickled) and the
``tensorgraph draw`` expression language (attributes, imports, lambdas, ...).
"""

from __future__ import annotations

import ast
import pickle
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from viz import cli
from viz.expr import ExpressionError, evaluate, parse_bindings

ROOT = Path(__file__).resolve().parent.parent


def fails(exc: type[BaseException], fn: Callable[[], Any], *parts: str) -> str:
    """Run fn; it must raise exc with every one of ``parts`` in its message."""
    with pytest.raises(exc) as err:
        fn()
    text = str(err.value)
    for part in parts:
        assert part in text, f"{part!r} not in the message: {text!r}"
    return text


# ===== the engine =====

BINARY = {
    "add": [tg.add, lambda a, b: a + b],
    "sub": [tg.sub, lambda a, b: a - b],
    "mul": [tg.mul, lambda a, b: a * b],
    "div": [tg.div, lambda a, b: a / b],
    "maximum": [tg.maximum],
    "minimum": [tg.minimum],
}


@pytest.mark.parametrize(
    ("name", "form"), [(n, i) for n, forms in BINARY.items() for i in range(len(forms))]
)
@pytest.mark.parametrize("other", ["tensor", "array", "list"])
def test_shape_mismatch_in_every_binary_op(name: str, form: int, other: str) -> None:
    a = tg.tensor(np.ones((2, 3)), requires_grad=True)
    b = {"tensor": tg.tensor(np.ones(4)), "array": np.ones(4), "list": [1.0, 2.0, 3.0, 4.0]}
    fn = BINARY[name][form]
    fails(ValueError, lambda: fn(a, b[other]), f"{name}:", "(2, 3)", "(4,)")
    # the same with the operands swapped (the reflected operator for arrays and lists)
    fails(ValueError, lambda: fn(b[other], a), f"{name}:", "(2, 3)", "(4,)")


def test_every_binary_engine_op_is_in_the_catalogue() -> None:
    binary = {"add", "sub", "mul", "div", "maximum", "minimum", "matmul"}
    assert binary <= set(tg.OPS)  # an op renamed away would silently leave the catalogue
    assert set(BINARY) == binary - {"matmul"}


@pytest.mark.parametrize(
    ("a", "b"),
    [((), (2, 3)), ((2, 3), ()), ((), ())],
)
def test_matmul_of_0d_operands(a: tuple, b: tuple) -> None:
    x, y = tg.tensor(np.ones(a)), tg.tensor(np.ones(b))
    for fn in (tg.matmul, lambda p, q: p @ q):
        fails(ValueError, lambda fn=fn: fn(x, y), "matmul:", str(a), str(b), "at least 1 dim")


def test_matmul_of_a_number() -> None:
    x = tg.tensor(np.ones((2, 3)))
    fails(ValueError, lambda: x @ 2.0, "matmul:", "(2, 3)", "()")
    fails(ValueError, lambda: 2.0 @ x, "matmul:", "(2, 3)", "()")


@pytest.mark.parametrize(
    ("a", "b"),
    [((2, 3), (2, 3)), ((4,), (3,)), ((3,), (2, 4)), ((2, 3, 4), (3, 4, 5)), ((2, 5), (4,))],
)
def test_matmul_of_misaligned_operands(a: tuple, b: tuple) -> None:
    x, y = tg.tensor(np.ones(a), requires_grad=True), np.ones(b)
    fails(ValueError, lambda: x @ y, "matmul:", str(a), str(b))
    with pytest.raises(ValueError):
        np.ones(a) @ np.ones(b)  # numpy agrees these do not fit


def test_backward_from_a_non_scalar_without_a_gradient() -> None:
    y = tg.tensor(np.ones((2, 3)), requires_grad=True) * 2.0
    fails(RuntimeError, y.backward, "backward:", "(2, 3)", "grad=")


def test_backward_with_a_gradient_of_the_wrong_shape() -> None:
    y = tg.tensor(np.ones((2, 3)), requires_grad=True) * 2.0
    fails(ValueError, lambda: y.backward(np.ones(3)), "backward:", "(3,)", "(2, 3)")
    fails(TypeError, lambda: y.backward("ones"), "backward", "'ones'")


def test_backward_from_a_tensor_with_no_gradient_path() -> None:
    y = tg.tensor([1.0, 2.0]) * 3.0  # no input requires a gradient
    fails(RuntimeError, lambda: y.sum().backward(), "backward:", "requires_grad=True")


def test_backward_from_a_result_made_under_no_grad() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        y = (x * x).sum()
    fails(RuntimeError, y.backward, "backward:", "no_grad")


@pytest.mark.parametrize(
    ("data", "parts"),
    [
        ("abc", ["tensor:", "string", "'abc'"]),
        (b"abc", ["tensor:", "string"]),
        ([1.0, "a"], ["tensor:", "'a'"]),
        (object(), ["tensor:", "object"]),
        (None, ["tensor:", "None"]),
        ({"a": 1}, ["tensor:", "{'a': 1}"]),
        (1 + 2j, ["tensor:", "complex", "(1+2j)"]),
        ([1j, 2.0], ["tensor:", "complex", "1j"]),
        (np.ones(2, complex), ["tensor:", "complex"]),
    ],
)
def test_strings_objects_and_complex_numbers_are_refused(data: Any, parts: list[str]) -> None:
    fails(TypeError, lambda: tg.tensor(data), *parts)


def test_complex_dtype_and_integer_gradients_are_refused() -> None:
    fails(TypeError, lambda: tg.tensor(1.0, dtype=complex), "tensor:", "complex128")
    fails(TypeError, lambda: tg.tensor([1, 2], dtype=np.int64, requires_grad=True), "int64")


@pytest.mark.parametrize(
    ("make", "parts"),
    [
        (lambda x: x + "a", ["add:", "'a'"]),
        (lambda x: "a" * x, ["mul:", "'a'"]),
        (lambda x: x - object(), ["sub:", "object"]),
        (lambda x: x / None, ["div:", "None"]),
        (lambda x: x * 1j, ["mul:", "complex", "1j"]),
        (lambda x: tg.maximum(x, np.ones(2, complex)), ["maximum:", "complex"]),
        (lambda x: x @ [[1j], [1j]], ["matmul:", "complex"]),
        (lambda x: tg.relu("a"), ["relu:", "'a'"]),
        (lambda x: tg.exp(2j), ["exp:", "complex"]),
        (lambda x: tg.sum(object()), ["sum:", "object"]),
    ],
)
def test_non_numbers_as_operands(make: Callable, parts: list[str]) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    fails(TypeError, lambda: make(x), *parts)


@pytest.mark.parametrize("exponent", ["2", None, True])
def test_a_non_number_as_exponent(exponent: Any) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    fails(TypeError, lambda: x**exponent, "pow:", "exponent")
    fails(TypeError, lambda: tg.pow(x, exponent), "pow:", "exponent")


@pytest.mark.parametrize(
    "exponent", [tg.tensor(2.0), tg.tensor([1.0, 2.0], requires_grad=True), np.array(2.0)]
)
def test_tg_pow_takes_a_number_and_says_how_to_raise_to_a_tensor(exponent: Any) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    text = fails(TypeError, lambda: tg.pow(x, exponent), "pow:", "exponent")
    assert "x ** e or tg.power(x, e)" in text  # says how to do it instead
    assert (x**exponent).op == "power"


@pytest.mark.parametrize("base", ["2", None, [1.0, "a"]])
def test_a_non_number_as_base(base: Any) -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    fails(TypeError, lambda: base**x, "power:")


@pytest.mark.parametrize(
    ("make", "exc", "parts"),
    [
        (lambda x: x.sum(axis=2), ValueError, ["sum:", "axis 2", "2 dimension"]),
        (lambda x: tg.mean(x, axis=(0, -3)), ValueError, ["mean:", "(0, -3)"]),
        (lambda x: x.max(axis=(0, 0)), ValueError, ["max:", "(0, 0)"]),
        (lambda x: x.reshape(4, 2), ValueError, ["reshape:", "(2, 3)", "(4, 2)"]),
        (lambda x: x.transpose(0, 0), ValueError, ["transpose:", "(0, 0)"]),
        (lambda x: x.transpose(0, 1, 2), ValueError, ["transpose:"]),
        (lambda x: x[5], IndexError, ["index:", "5", "(2, 3)"]),
        (lambda x: x[np.array([0.5])], IndexError, ["index:", "0.5"]),
        (lambda x: x[:, [0, 3]], IndexError, ["index:", "3", "(2, 3)"]),
        (lambda x: x.item(), ValueError, ["item:", "(2, 3)"]),
        (lambda x: tg.max(x[:0]), ValueError, ["max:", "empty", "(0, 3)"]),
        (lambda x: tg.mean(x[:0], axis=0), ValueError, ["mean:", "empty", "(0, 3)"]),
    ],
)
def test_bad_axes_shapes_and_indices(make: Callable, exc: type, parts: list[str]) -> None:
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    fails(exc, lambda: make(x), *parts)


# ===== the loss gates and the classifiers =====

SCORES = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


@pytest.fixture(params=["svm_loss", "softmax_loss"])
def loss(request: pytest.FixtureRequest) -> tuple[str, Callable]:
    return request.param, getattr(tg, request.param)


@pytest.mark.parametrize(
    ("y", "parts"),
    [
        ([0, 3], ["y[1] = 3", "out of range", "[0, 3)"]),
        ([-1, 0], ["y[0] = -1", "out of range"]),
        ([0], ["one label per row", "N = 2", "(1,)"]),
        ([0, 1, 2], ["N = 2", "(3,)"]),
        ([[0, 1]], ["N = 2", "(1, 2)"]),
        ([0.5, 1.0], ["y[0] = 0.5", "not an integer"]),
        ([np.nan, 1.0], ["y[0] is nan"]),
        ([0.0, np.inf], ["y[1] is inf"]),
        (["a", "b"], ["integers in [0, 3)", "'a'"]),
        ([True, False], ["integers"]),
    ],
)
def test_bad_labels(loss: tuple[str, Callable], y: Any, parts: list[str]) -> None:
    name, fn = loss
    fails(ValueError, lambda: fn(tg.tensor(SCORES, requires_grad=True), y), f"{name}:", *parts)


def test_whole_float_labels_are_labels(loss: tuple[str, Callable]) -> None:
    """Documented: floats that are whole numbers are accepted, and mean the same."""
    _, fn = loss
    s = tg.tensor(SCORES)
    assert fn(s, [2.0, 0.0]).item() == fn(s, np.array([2, 0])).item()


@pytest.mark.parametrize(
    ("scores", "parts"),
    [
        (np.ones((0, 3)), ["empty batch", "(0, 3)"]),
        (np.ones((2, 0)), ["no classes", "(2, 0)"]),
        (np.ones(3), ["2-D", "(3,)"]),
        (np.ones((1, 2, 3)), ["2-D", "(1, 2, 3)"]),
    ],
)
def test_empty_batches_and_wrong_score_shapes(
    loss: tuple[str, Callable], scores: np.ndarray, parts: list[str]
) -> None:
    name, fn = loss
    fails(ValueError, lambda: fn(tg.tensor(scores), []), f"{name}:", *parts)


@pytest.mark.parametrize("delta", [-1.0, -1e-9, float("nan"), float("inf")])
def test_svm_delta_must_be_finite_and_not_negative(delta: float) -> None:
    s = tg.tensor(SCORES)
    fails(ValueError, lambda: tg.svm_loss(s, [0, 1], delta=delta), "svm_loss:", "delta", "got")
    fails(ValueError, lambda: tg.LinearSVM(delta=delta), "LinearSVM:", "delta", str(delta))


def test_svm_delta_must_be_a_number() -> None:
    fails(TypeError, lambda: tg.svm_loss(tg.tensor(SCORES), [0, 1], delta="1"), "delta", "'1'")


@pytest.mark.parametrize("lr", [0, 0.0, -0.1, -1, float("nan"), float("inf")])
def test_learning_rate_must_be_positive(lr: float) -> None:
    for cls in (tg.LinearSVM, tg.SoftmaxClassifier):
        fails(ValueError, lambda cls=cls: cls(learning_rate=lr), cls.__name__, "learning_rate")
    w = tg.tensor([1.0], requires_grad=True)
    fails(ValueError, lambda: tg.optim.SGD([w], lr=lr), "SGD:", "lr", str(lr))
    opt = tg.optim.SGD([w], lr=0.1)

    def set_lr() -> None:
        opt.lr = lr  # a schedule that reaches 0 is caught too

    fails(ValueError, set_lr, "SGD:", "lr")


def test_learning_rate_must_be_a_number() -> None:
    fails(TypeError, lambda: tg.LinearSVM(learning_rate="0.1"), "learning_rate", "'0.1'")


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True])
def test_batch_size_must_be_a_positive_int(batch_size: Any) -> None:
    with pytest.raises((TypeError, ValueError)) as err:
        tg.SoftmaxClassifier(batch_size=batch_size)
    assert "SoftmaxClassifier" in str(err.value) and "batch_size" in str(err.value)


def test_batch_size_larger_than_the_data_is_full_batch_descent() -> None:
    """Documented choice (linear.py): clipped to N, as scikit-learn does, not an error.
    Checked by its meaning: exactly the same training run as batch_size = N."""
    X, y = blobs()
    big = tg.SoftmaxClassifier(batch_size=10 * len(X), epochs=3, verbose=False).fit(X, y)
    full = tg.SoftmaxClassifier(batch_size=len(X), epochs=3, verbose=False).fit(X, y)
    np.testing.assert_array_equal(big.W.data, full.W.data)
    assert len(big.history_["loss"]) == 3  # one step per epoch


def blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 1, (10, 2)), rng.normal(2, 1, (10, 2))])
    return X, np.array([0] * 10 + [1] * 10)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("cls", [tg.LinearSVM, tg.SoftmaxClassifier])
def test_nan_or_inf_in_training_data(bad: float, cls: type) -> None:
    X, y = blobs()
    X[3, 1] = bad
    fails(ValueError, lambda: cls(verbose=False).fit(X, y), f"{cls.__name__}.fit", "row 3")
    clf = cls(epochs=1, verbose=False).fit(*blobs())
    fails(ValueError, lambda: clf.predict(X), f"{cls.__name__}.predict", "row 3", "column 1")


def test_nan_labels_and_wrong_lengths_in_fit() -> None:
    X, y = blobs()
    yf = y.astype(float)
    yf[0] = np.nan
    fails(ValueError, lambda: tg.LinearSVM(verbose=False).fit(X, yf), "LinearSVM.fit", "NaN")
    fails(ValueError, lambda: tg.LinearSVM(verbose=False).fit(X, y[:5]), "LinearSVM.fit", "(5,)")


def test_empty_training_data() -> None:
    fails(ValueError, lambda: tg.LinearSVM(verbose=False).fit(np.ones((0, 2)), []), "(0, 2)")
    clf = tg.LinearSVM(epochs=1, verbose=False).fit(*blobs())
    fails(ValueError, lambda: clf.predict(np.ones((0, 2))), "predict", "(0, 2)")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("prep", [tg.data.Standardizer, tg.data.MeanImage])
def test_nan_or_inf_in_data_to_preprocess(prep: type, bad: float) -> None:
    X, _ = blobs()
    X[4, 1] = bad
    name = prep.__name__
    fails(ValueError, lambda: prep().fit(X), f"{name}.fit", str(bad), "row 4, column 1")
    fitted = prep().fit(blobs()[0])
    fails(ValueError, lambda: fitted.transform(X), f"{name}.transform", "row 4, column 1")


# ===== model and data files =====


@pytest.fixture
def saved_model(tmp_path: Path) -> Path:
    return tg.SoftmaxClassifier(epochs=1, verbose=False).fit(*blobs()).save(tmp_path / "m.npz")


def test_a_truncated_model_file(saved_model: Path) -> None:
    raw = saved_model.read_bytes()
    for cut in (10, len(raw) // 2, len(raw) - 10):
        saved_model.write_bytes(raw[:cut])
        fails(ValueError, lambda: tg.LinearClassifier.load(saved_model), "load", "truncated")


def rewrite(path: Path, **changes: Any) -> None:
    """Rewrite a saved model's npz with some arrays changed (without pickle)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays.update(changes)
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    ("changes", "parts"),
    [
        ({"W": np.ones(4)}, ["W must be a (K, D)", "(4,)"]),
        ({"b": np.zeros(5)}, ["b must have shape (2,)", "(5,)"]),
        ({"W": np.full((2, 2), np.nan)}, ["NaN or inf"]),
        ({"classes": np.array([1, 0])}, ["sorted and distinct"]),
        ({"header": np.array('{"model": "MLP", "params": {}}')}, ["unknown model", "MLP"]),
    ],
)
def test_a_model_file_with_wrong_shapes_or_contents(
    saved_model: Path, changes: dict, parts: list[str]
) -> None:
    rewrite(saved_model, **changes)
    fails(
        ValueError, lambda: tg.LinearClassifier.load(saved_model), "load", str(saved_model), *parts
    )


class Payload:
    """Unpickling this makes a directory: proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        import os

        return (os.makedirs, (str(self.marker),))


def test_a_model_file_holding_pickled_objects_is_refused_unread(
    saved_model: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pickle-ran"
    evil = np.empty(1, dtype=object)
    evil[0] = Payload(marker)
    rewrite(saved_model, W=evil)  # np.savez pickles object arrays
    with zipfile.ZipFile(saved_model) as z:
        assert b"makedirs" in z.read("W.npy")  # the payload really is in the file
    fails(ValueError, lambda: tg.LinearClassifier.load(saved_model), "load", "pickle")
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["raw pickle", "object npy"])
def test_other_pickle_files_named_npz_are_refused_unread(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "pickle-ran"
    path = tmp_path / "model.npz"
    if kind == "raw pickle":
        path.write_bytes(pickle.dumps(Payload(marker)))
    else:
        arr = np.empty(1, dtype=object)
        arr[0] = Payload(marker)
        with open(path, "wb") as fh:
            np.save(fh, arr, allow_pickle=True)
    fails(ValueError, lambda: tg.LinearClassifier.load(path), "load", str(path))
    assert not marker.exists()


def test_not_a_model_at_all(tmp_path: Path) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    fails(ValueError, lambda: tg.LinearSVM.load(path), "LinearSVM.load", str(path))
    fails(FileNotFoundError, lambda: tg.LinearSVM.load(tmp_path / "nope.npz"), "nope.npz")


def test_idx_files_are_parsed_not_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "pickle-ran"
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(pickle.dumps(Payload(marker)))
    fails(ValueError, lambda: tg.data.read_idx(path), "read_idx", str(path), "header")
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))  # says 9 entries, has 2
    fails(ValueError, lambda: tg.data.read_idx(path), "read_idx", "(9,)")
    assert not marker.exists()


def _source_files() -> list[Path]:
    return sorted([*(ROOT / "tensorgraph").rglob("*.py"), *(ROOT / "viz").rglob("*.py")])


def test_no_code_path_can_unpickle() -> None:
    """Static check of the package: no pickle/marshal/torch.load/joblib, and every
    np.load passes allow_pickle=False."""
    files = _source_files()
    assert len(files) > 5
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                bad = {"pickle", "cPickle", "dill", "marshal", "shelve", "joblib", "cloudpickle"}
                assert not bad & {n.split(".")[0] for n in names}, f"{path}: imports {names}"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                call = ast.unparse(node.func)
                assert call != "torch.load", f"{path}:{node.lineno}: torch.load unpickles"
                if call in ("np.load", "numpy.load"):
                    kw = {k.arg: k.value for k in node.keywords}
                    ok = "allow_pickle" in kw and ast.literal_eval(kw["allow_pickle"]) is False
                    assert ok, f"{path}:{node.lineno}: np.load without allow_pickle=False"


# ===== the `tensorgraph draw` expression language =====


@pytest.mark.parametrize(
    ("expr", "parts"),
    [
        ("x.__class__", ["attribute access", "x.__class__"]),
        ("x.data", ["attribute access"]),
        ("exp(x).__class__.__bases__", ["attribute access"]),
        ("__import__('os').system('true')", ["__import__"]),
        ("import os", ["not a valid expression"]),
        ("exec('1')", ["unknown function 'exec'"]),
        ("eval('x')", ["unknown function 'eval'"]),
        ("open('/etc/passwd')", ["unknown function 'open'"]),
        ("getattr(x, 'data')", ["unknown function 'getattr'"]),
        ("(lambda: x)()", ["lambda"]),
        ("(lambda: 1)", ["lambda"]),
        ("[t for t in x]", ["comprehensions"]),
        ("sum(t for t in [x])", ["comprehensions"]),
        ("{t: 1 for t in [x]}", ["comprehensions"]),
        ("__builtins__", ["unknown name '__builtins__'"]),
        ("x + __file__", ["unknown name '__file__'"]),
        ("__x__ * 2", ["unknown name '__x__'"]),
        ("x[x]", ["subscripts"]),
        ("'a' * x", ["only numbers"]),
        ("(y := x)", [":="]),
        ("x if x else x", ["if-expressions"]),
        ("max(*[x])", ["starred"]),
        ("sum(x, axis=0)", ["keyword arguments"]),
    ],
)
def test_expressions_that_reach_for_python(expr: str, parts: list[str]) -> None:
    fails(ExpressionError, lambda: evaluate(expr, {"x": np.array([1.0, 2.0])}), *parts)


@pytest.mark.parametrize(
    ("expr", "parts"),
    [
        ("x ** 100000", ["exponent", "too large"]),
        ("x ** -1e308", ["exponent", "too large"]),
        ("2 ** 99999", ["too large"]),
        ("x ** 10 ** 10", ["exponent", "too large"]),
        ("x ** (2 ** 100)", ["exponent", "too large"]),
        ("x * " + "9" * 400, ["too large"]),
        ("x * 1e999", ["too large"]),  # Python reads it as inf
    ],
)
def test_huge_exponents_and_numbers(expr: str, parts: list[str]) -> None:
    fails(ExpressionError, lambda: evaluate(expr, {"x": np.array(2.0)}), *parts)


@pytest.mark.parametrize(
    ("expr", "parts"),
    [
        ("-" * 60 + "x", ["nests deeper than"]),
        ("exp(" * 60 + "x" + ")" * 60, ["nests deeper than"]),
        ("(" * 300 + "x" + ")" * 300, ["not a valid expression"]),  # Python's own limit
        ("x" + "+x" * 1500, ["longer than"]),
        ("-" * 1500 + "x", ["nests deeper than"]),
    ],
)
def test_deep_nesting_and_long_expressions(expr: str, parts: list[str]) -> None:
    fails(ExpressionError, lambda: evaluate(expr, {"x": np.array(2.0)}), *parts)


@pytest.mark.parametrize(
    ("pairs", "parts"),
    [
        (["x=__import__('os')"], ["is not a number"]),
        (["x=[1, 'a']"], ["'a' is not a number"]),
        (["x=[[1, 2], [3]]"], ["rectangular"]),
        (["x=1j"], ["not a number"]),
        (["__class__.x=1"], ["not a valid name"]),
        (["lambda=1"], ["not a valid name"]),
        (["x=1", "x=2"], ["given twice"]),
        (["x"], ["NAME=VALUE"]),
        (["x=" + "[" * 2000 + "]" * 2000], ["not a number"]),
        (["x=" + str([0] * 20000)], ["at most"]),
    ],
)
def test_bad_bindings(pairs: list[str], parts: list[str]) -> None:
    fails(ExpressionError, lambda: parse_bindings(pairs), *parts)


@pytest.mark.parametrize(
    "argv",
    [
        ["draw", "x.__class__", "x=1"],
        ["draw", "__import__('os').system('echo PWNED')", "x=1"],
        ["draw", "x ** 100000", "x=2"],
        ["draw", "exp(" * 60 + "x" + ")" * 60, "x=2"],
        ["draw", "x @ y", "x=[1, 2]", "y=[1, 2, 3]"],
    ],
)
def test_the_cli_refuses_with_a_message_not_a_traceback(
    argv: list[str], capsys: pytest.CaptureFixture
) -> None:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("tensorgraph draw:") and "Traceback" not in err
    assert "PWNED" not in out + err
    if "@" in argv[1]:
        assert re.search(r"matmul: cannot multiply \(2,\) by \(3,\)", err), err
