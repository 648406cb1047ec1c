"""What the linear classifiers refuse, and how they say it (issue 12, "Also").

Labels as scikit-learn takes them: strings or numbers, never mixed (numpy would turn
``["cat", 1]`` into the strings "cat" and "1"), never continuous. Every message names
the class and method once ("LinearSVM.fit: ...", never "LinearSVM.LinearSVM.fit") and
the argument at fault (``X_val``, ``y_val``). A divergence names the setting to change:
the learning rate, reg, delta or the features' scale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg

# The divergence tests below want the FloatingPointError; the warning before it is issue 16's.
pytestmark = pytest.mark.filterwarnings("ignore::tensorgraph.linear.DivergenceWarning")

MODELS = [tg.LinearSVM, tg.SoftmaxClassifier]
MESSAGE_MODELS = [*MODELS, tg.MLPClassifier]  # the network checks its data the same way


def _toy(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    return rng.standard_normal((n, 4)) + np.eye(3, 4)[y], y


# ----- labels -----

MIXED = [
    ["cat", 1, "cat", 1],
    ("cat", 1, "cat", 1),
    np.array(["cat", 1, "cat", 1], dtype=object),
    [1.0, "dog", 1.0, "dog"],
    [True, "yes", True, "yes"],
    ["cat", np.int64(1), "cat", np.int64(1)],
]


@pytest.mark.parametrize("Model", MODELS)
@pytest.mark.parametrize("y", MIXED, ids=lambda y: repr(y)[:30])
def test_labels_mixing_strings_and_numbers_are_refused(Model: type, y: Any) -> None:
    expected = rf"^{Model.__name__}\.fit: labels y mix strings and numbers"
    with pytest.raises(ValueError, match=expected):
        Model(verbose=False).fit(np.eye(4), y)


def test_mixed_labels_are_refused_wherever_labels_are_read() -> None:
    X, y = np.eye(4), np.array(["a", "b", "a", "b"])
    clf = tg.LinearSVM(epochs=1, verbose=False).fit(X, y)
    calls: dict[str, Callable[[], Any]] = {
        "score": lambda: clf.score(X, ["a", 1, "a", 1]),
        "loss": lambda: clf.loss(X, ["a", 1, "a", 1]),
        "fit": lambda: clf.fit(X, y, X, ["a", 1, "a", 1]),
    }
    for method, call in calls.items():
        name = "y_val" if method == "fit" else "y"
        with pytest.raises(ValueError, match=rf"^LinearSVM\.{method}: labels {name} mix strings"):
            call()


def test_the_message_shows_a_string_and_a_number() -> None:
    with pytest.raises(ValueError) as err:
        tg.LinearSVM(verbose=False).fit(np.eye(3), [2, "cat", 2])
    assert "('cat' at y[1], 2 at y[0])" in str(err.value)


@pytest.mark.parametrize("y", [[0.5, 1.0, 0.5, 1.0], np.array([0.0, 1.0, 2.5, 0.0])], ids=str)
def test_continuous_labels_are_refused_as_in_scikit_learn(y: Any) -> None:
    with pytest.raises(ValueError, match=r"SoftmaxClassifier\.fit: label y\[\d\] is .*continuous"):
        tg.SoftmaxClassifier(verbose=False).fit(np.eye(4), y)


@pytest.mark.parametrize(
    ("y", "classes"),
    [
        ([1.0, 2.0, 1.0, 2.0], [1.0, 2.0]),  # whole floats are classes
        (np.array([3, 7, 3, 7], dtype=object), [3, 7]),  # numbers held as objects
        (np.array(["a", "b", "a", "b"], dtype=object), ["a", "b"]),
        (["x", np.str_("y"), "x", "y"], ["x", "y"]),
        ([True, False, True, False], [False, True]),
        (tg.tensor([0, 1, 0, 1]), [0.0, 1.0]),
    ],
    ids=repr,
)
def test_labels_of_one_kind_are_accepted(y: Any, classes: list[Any]) -> None:
    clf = tg.LinearSVM(epochs=2, verbose=False).fit(np.eye(4), y)
    assert clf.classes_.tolist() == classes


@pytest.mark.parametrize(
    ("y", "error", "message"),
    [
        ([None, 1, None, 1], TypeError, "labels y must be numbers or strings"),
        ([0, [1], 0, 1], ValueError, "cannot read labels y"),
        ([b"a", b"b", b"a", b"b"], TypeError, "labels y must be numbers or strings"),
        ([[0], [1], [0], [1]], ValueError, r"y must be 1-D .* got shape \(4, 1\)"),
    ],
)
def test_other_bad_labels(y: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=f"^LinearSVM.fit: {message}"):
        tg.LinearSVM(verbose=False).fit(np.eye(4), y)


def test_ragged_features_are_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^LinearSVM\.fit: cannot read X as a 2-D array"):
        tg.LinearSVM(verbose=False).fit([[1.0, 2.0], [3.0]], [0, 1])


# ----- every message names the class and method once, and the argument -----


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c, X, y: c.fit(X, y, X[:, :3], y), "fit: X_val has 3 features per row"),
        (lambda c, X, y: c.fit(X, y, X, np.full(len(y), 9)), r"fit: label 9 \(y_val\[0\]\)"),
        (lambda c, X, y: c.fit(X, y, X, y[:5]), r"fit: y_val must be 1-D .* of X_val \(30\)"),
        (lambda c, X, y: c.fit(X, y, X[:1] * np.nan, y[:1]), "fit: X_val holds nan at row 0"),
        (lambda c, X, y: c.fit(X, y, X[0], y), r"fit: X_val must be 2-D"),
        (lambda c, X, y: c.predict(X[:, :3]), "predict: X has 3 features per row"),
        (lambda c, X, y: c.decision_function(X[0]), "decision_function: X must be 2-D"),
        (lambda c, X, y: c.score(X, y[:3]), r"score: y must be 1-D"),
        (lambda c, X, y: c.loss(X, y + 5), r"loss: label \d \(y\[\d+\]\) is not one of"),
    ],
)
@pytest.mark.parametrize("Model", MESSAGE_MODELS)
def test_messages_name_the_method_once(Model: type, call: Callable, message: str) -> None:
    X, y = _toy()
    clf = Model(epochs=1, verbose=False).fit(X, y)
    with pytest.raises(ValueError) as err:
        call(clf, X, y)
    text = str(err.value)
    assert re.match(rf"^{Model.__name__}\.{message}", text), text
    assert f"{Model.__name__}.{Model.__name__}" not in text


# ----- a divergence names its cause -----


@pytest.mark.parametrize("Model", MODELS)
@pytest.mark.parametrize("momentum", [0.9, 0.0])
def test_a_divergence_caused_by_reg_says_so(Model: type, momentum: float) -> None:
    X, y = _toy()
    # reg * learning_rate = 10 >= 1 + momentum: the L2 penalty alone makes W explode.
    clf = Model(learning_rate=0.1, reg=100.0, momentum=momentum, epochs=400, verbose=False)
    with pytest.raises(FloatingPointError) as err:
        clf.fit(X, y)
    text = str(err.value)
    assert f"{Model.__name__}.fit: the loss became inf" in text
    assert "training diverged in the penalty: reg * learning_rate = 10 is at least" in text
    assert f"1 + momentum = {1 + momentum:g}" in text
    assert text.endswith("lower reg (now 100) or learning_rate (now 0.1)")


@pytest.mark.parametrize(("delta", "squared"), [(1e200, True), (1e308, False)])
def test_a_divergence_caused_by_delta_says_so(delta: float, squared: bool) -> None:
    X, y = _toy()
    with pytest.raises(FloatingPointError) as err:
        tg.LinearSVM(delta=delta, squared=squared, verbose=False).fit(X, y)
    text = str(err.value)
    assert "before any update" in text and f"delta = {delta:g} alone makes the hinge" in text
    assert text.endswith("lower delta") and "learning_rate" not in text


def test_features_too_large_for_the_first_scores_say_so() -> None:
    X, y = _toy()
    with pytest.raises(FloatingPointError) as err:  # squared margins of 1e197: inf
        tg.LinearSVM(squared=True, verbose=False).fit(X * 1e200, y)
    text = str(err.value)
    assert "before any update: the features are too large" in text
    assert "Standardizer" in text and "learning_rate" not in text


def test_a_divergence_caused_by_the_learning_rate_still_says_so() -> None:
    X, y = _toy()
    with pytest.raises(FloatingPointError) as err:
        tg.LinearSVM(learning_rate=50.0, squared=True, epochs=300, verbose=False).fit(X, y)
    assert str(err.value).endswith("training diverged; lower learning_rate (now 50)")
