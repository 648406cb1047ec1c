"""Linear classifiers trained by minibatch SGD through the graph.

The score function is the lecture's f(x) = W x + b, for a whole batch at once:
``scores = X @ W.T + b`` with W of shape (K, D) and b of K entries. The training loss
is ``L = data loss + reg * R(W)``, with the SVM or softmax loss gate as data loss and
R the L2 (default) or L1 gate; ``fit`` runs ``L.backward()`` and ``tg.optim.SGD`` on
each minibatch. The API follows scikit-learn: ``fit``, ``predict``, ``score``,
``decision_function``, ``classes_``.

    >>> import numpy as np, tensorgraph as tg
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.2], [1.1, 0.0]])
    >>> clf = tg.SoftmaxClassifier(learning_rate=0.5, epochs=50, verbose=False)
    >>> clf.fit(X, ["cat", "dog", "cat", "dog"]).predict([[0.1, 0.9]]).tolist()
    ['cat']

Decisions worth knowing:

- Labels can be any sortable values (ints, strings); ``classes_`` holds them sorted and
  they are mapped to 0..K-1 inside, as in scikit-learn.
- X keeps float32 if it is float32 (W and b then are float32 too); anything else becomes
  float64.
- ``batch_size`` larger than the training set is clipped to it (full-batch gradient
  descent), as scikit-learn's MLPClassifier does (silently here: tiny teaching sets
  are the norm).
- Each epoch visits every example once in a fresh random order (the last batch may be
  smaller). A loss that grows a hundredfold over its first value warns once
  (:class:`DivergenceWarning`); one that becomes inf or NaN stops ``fit`` with a
  FloatingPointError naming the setting to change: usually the learning rate; ``reg``
  too when its penalty overflowed first (``reg * learning_rate >= 1 + momentum`` makes
  the L2 penalty alone diverge); ``delta`` or the features' scale when the first loss
  already overflows.
- The bias b is not regularized.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from .losses import l1, l2, softmax_loss, svm_loss
from .modelfile import ArrayInfo, invalid, load_arrays, save_arrays
from .modes import no_grad
from .optim import SGD
from .tensor import Tensor, _short

__all__ = ["DivergenceWarning", "LinearClassifier", "LinearSVM", "SoftmaxClassifier"]

_FORMAT = "tensorgraph.linear/2"  # /1 (before tensorgraph.modelfile) kept model and params apart
_HISTORY = ("loss", "train_accuracy", "val_accuracy")
_REGULARIZERS = {"l2": l2, "l1": l1}
# fit warns when the loss passes this many times its first value (or 1, if larger).
_DIVERGING = 100.0


class DivergenceWarning(RuntimeWarning):
    """``fit``'s loss grew by orders of magnitude over its start: training is diverging.

    >>> import warnings, numpy as np, tensorgraph as tg
    >>> X, y = np.random.default_rng(0).normal(size=(40, 3)) * 10, np.arange(40) % 2
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = tg.SoftmaxClassifier(learning_rate=100, epochs=3).fit(X, y)
    >>> [w.category.__name__ for w in caught]
    ['DivergenceWarning']
    """


# ----- checking what users pass -----


def _check_float(where: str, name: str, value: Any, low: float, low_ok: bool) -> float:
    """A hyperparameter that must be a finite number above ``low`` (or equal, with
    ``low_ok``), as a float; else a TypeError or ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{where}: {name} must be a number, got {_short(value)}")
    value = float(value)
    if not math.isfinite(value) or value < low or (value == low and not low_ok):
        bound = f">= {low:g}" if low_ok else f"> {low:g}"
        raise ValueError(f"{where}: {name} must be a finite number {bound}, got {value}")
    return value


def _check_count(where: str, name: str, value: Any) -> int:
    """A hyperparameter that must be an int >= 1 (epochs, batch_size), as an int."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{where}: {name} must be an int, got {_short(value)}")
    if value < 1:
        raise ValueError(f"{where}: {name} must be at least 1, got {value}")
    return int(value)


def _features(where: str, X: Any, name: str = "X") -> np.ndarray:
    """X as a finite 2-D float array: float32 stays float32, the rest become float64.
    ``name`` is what messages call it (``X_val`` for the validation split)."""
    if isinstance(X, Tensor):
        X = X._data
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as err:  # ragged rows
        raise ValueError(f"{where}: cannot read {name} as a 2-D array: {err}") from None
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{where}: {name} must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"{where}: {name} must be 2-D (N examples, D features), got shape {X.shape}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{where}: {name} has no rows (shape {X.shape})")
    if X.dtype != np.float32:
        X = X.astype(np.float64, copy=False)
    # min and max propagate NaN and see inf, without a bool array the size of X.
    if X.size and not (np.isfinite(X.min()) and np.isfinite(X.max())):
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(
            f"{where}: {name} holds {X[tuple(bad)]} at row {bad[0]}, column {bad[1]}; "
            "every feature must be a finite number"
        )
    return X


def _targets(where: str, y: Any, n: int, name: str = "y") -> np.ndarray:
    """Labels as a 1-D array of n numbers or strings, as scikit-learn accepts them:
    strings and numbers never mixed (``["cat", 1]``), numbers never continuous (0.5).
    ``name`` is what messages call them (``y_val``: one per row of ``X_val``)."""
    rows = "X" + name[1:]
    if isinstance(y, Tensor):
        y = y._data
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError) as err:  # ragged lists
        raise ValueError(f"{where}: cannot read labels {name}: {err}") from None
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(
            f"{where}: {name} must be 1-D with one label per row of {rows} ({n}), "
            f"got shape {arr.shape}"
        )
    if arr.dtype.kind == "O" or (arr.dtype.kind == "U" and not isinstance(y, np.ndarray)):
        # Python objects: numpy would turn ["cat", 1] into the strings "cat" and "1".
        arr = _one_kind(where, list(y) if arr.dtype.kind == "U" else list(arr), name)
    if arr.dtype.kind not in "iubfU":
        raise TypeError(f"{where}: labels {name} must be numbers or strings, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all():
            i = int(np.argmin(finite))
            raise ValueError(f"{where}: labels {name} hold NaN or inf ({name}[{i}] is {arr[i]})")
        whole = arr == np.round(arr)
        if not whole.all():
            i = int(np.argmin(whole))
            raise ValueError(
                f"{where}: label {name}[{i}] is {arr[i]}, not a class: labels are integers "
                "or strings (continuous values are a regression target, which a "
                "classifier refuses, as scikit-learn does)"
            )
    return arr


def _one_kind(where: str, values: list[Any], name: str) -> np.ndarray:
    """Labels given as Python objects: all strings, or all numbers, never a mix."""
    strings = [isinstance(v, str) for v in values]
    if all(strings):
        return np.array(values, dtype=str)
    if any(strings):
        i, j = strings.index(True), strings.index(False)
        raise ValueError(
            f"{where}: labels {name} mix strings and numbers ({values[i]!r} at {name}[{i}], "
            f"{values[j]!r} at {name}[{j}]); give one type, as scikit-learn requires"
        )
    arr = np.array(values)  # numbers held as objects
    if arr.dtype.kind not in "iubf":
        raise TypeError(f"{where}: labels {name} must be numbers or strings, got {_short(values)}")
    return arr


def _check_momentum_seed_verbose(where: str, model: Any) -> None:
    """Check (and normalise) the training settings a classifier and the network share.

    >>> class M:
    ...     momentum, seed, verbose = 0.9, 3, False
    >>> m = M(); _check_momentum_seed_verbose("M", m); m.momentum, m.seed
    (0.9, 3)
    """
    momentum = model.momentum
    model.momentum = _check_float(where, "momentum", momentum, 0.0, low_ok=True)
    if model.momentum >= 1:
        raise ValueError(f"{where}: momentum must be in [0, 1), got {momentum}")
    seed = model.seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{where}: seed must be an int >= 0, got {_short(seed)}")
    model.seed = int(seed)
    if not isinstance(model.verbose, bool):
        raise TypeError(f"{where}: verbose must be True or False, got {_short(model.verbose)}")


def _training_data(
    where: str, X: Any, y: Any, X_val: Any, y_val: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What ``fit`` (named ``where``) trains on, checked: X, the classes in sorted order
    and y as their indices 0..K-1. A classifier and the neural network share it.

    >>> X, classes, yi = _training_data("fit", [[0.0], [1.0]], ["b", "a"], None, None)
    >>> classes.tolist(), yi.tolist()
    (['a', 'b'], [1, 0])
    """
    X = _features(where, X)
    y = _targets(where, y, len(X))
    classes, yi = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"{where}: y holds one class only ({classes[0].item()!r}); need 2 or more")
    if (X_val is None) != (y_val is None):
        raise ValueError(f"{where}: pass both X_val and y_val, or neither")
    return X, classes, yi


@dataclass(eq=False, kw_only=True)
class LinearClassifier:
    """The shared base of :class:`LinearSVM` and :class:`SoftmaxClassifier`.

    Subclasses say which data loss to use; everything else (training, prediction,
    saving) lives here. ``LinearClassifier.load(path)`` loads either kind. The
    hyperparameters are the dataclass fields below (a subclass adds its own), so each
    class's keyword-only signature, ``repr`` and :meth:`get_params` list them all;
    ``__post_init__`` checks them.

    >>> import tensorgraph as tg
    >>> issubclass(tg.LinearSVM, tg.LinearClassifier)
    True
    """

    learning_rate: float = 0.01
    reg: float = 1e-3
    regularizer: str = "l2"
    epochs: int = 20
    batch_size: int = 64
    momentum: float = 0.9
    seed: int = 0
    verbose: bool = False  # as in scikit-learn: quiet unless asked (a progress bar)

    # Set by fit (or load), not by the constructor.
    W: Tensor = field(init=False, repr=False)
    b: Tensor = field(init=False, repr=False)
    classes_: np.ndarray = field(init=False, repr=False)
    n_features_in_: int = field(init=False, repr=False)
    history_: dict[str, list[float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        where = type(self).__name__
        if type(self) is LinearClassifier:
            raise TypeError(
                "LinearClassifier is the shared base: use tg.LinearSVM or tg.SoftmaxClassifier"
            )
        self.learning_rate = _check_float(
            where, "learning_rate", self.learning_rate, 0.0, low_ok=False
        )
        self.reg = _check_float(where, "reg", self.reg, 0.0, low_ok=True)
        if self.regularizer not in _REGULARIZERS:
            raise ValueError(f"{where}: regularizer must be 'l2' or 'l1', got {self.regularizer!r}")
        self.epochs = _check_count(where, "epochs", self.epochs)
        self.batch_size = _check_count(where, "batch_size", self.batch_size)
        _check_momentum_seed_verbose(where, self)

    # ----- scikit-learn's names for the parameters -----

    @property
    def coef_(self) -> np.ndarray:
        """W as scikit-learn names it: the (K, D) weights, a read-only view of ``W``.

        >>> import numpy as np, tensorgraph as tg
        >>> clf = tg.LinearSVM(epochs=1).fit(np.eye(2), [0, 1])
        >>> clf.coef_.shape, np.shares_memory(clf.coef_, clf.W.data)
        ((2, 2), True)
        """
        return np.asarray(self._fitted("coef_").W)  # Tensor.__array__: a read-only view

    @property
    def intercept_(self) -> np.ndarray:
        """b as scikit-learn names it: the K biases, a read-only view of ``b``.

        >>> import numpy as np, tensorgraph as tg
        >>> tg.SoftmaxClassifier(epochs=1).fit(np.eye(2), [0, 1]).intercept_.shape
        (2,)
        """
        return np.asarray(self._fitted("intercept_").b)

    def _fitted(self, name: str) -> LinearClassifier:
        if not hasattr(self, "classes_"):  # an AttributeError: hasattr() says False
            raise AttributeError(
                f"{type(self).__name__}.{name}: this classifier is not trained yet; "
                "call fit(X, y) first"
            )
        return self

    # ----- what subclasses provide -----

    def _data_loss(self, scores: Tensor, y: np.ndarray) -> Tensor:
        raise NotImplementedError

    # ----- hyperparameters -----

    def get_params(self) -> dict[str, Any]:
        """The constructor keywords and their values, as scikit-learn's ``get_params``.

        >>> import tensorgraph as tg
        >>> tg.LinearSVM(reg=0.5).get_params()["reg"]
        0.5
        """
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    # ----- the graph of one training step -----

    def _loss_tensor(self, X: np.ndarray, y: np.ndarray) -> Tensor:
        """L = data loss + reg * R(W) on a batch (X already checked, y as 0..K-1)."""
        scores = Tensor(X, name="X") @ self.W.T + self.b
        scores.name = "scores"
        loss = self._data_loss(scores, y)
        if self.reg == 0:
            return loss
        loss.name = "data loss"
        penalty = _REGULARIZERS[self.regularizer](self.W)
        penalty.name = "R(W)"
        total = loss + Tensor(np.asarray(self.reg, dtype=X.dtype), name="reg") * penalty
        total.name = "L"
        return total

    def loss(self, X: Any, y: Any) -> Tensor:
        """The training loss of a batch, as a graph: ``data loss + reg * R(W)``.

        ``loss.backward()`` fills ``W.grad`` and ``b.grad``; ``viz.draw`` shows one
        training step. Labels are the original ones (as in ``classes_``).

        >>> import numpy as np, tensorgraph as tg
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
        >>> clf = tg.LinearSVM(epochs=1, verbose=False).fit(X, y)
        >>> L = clf.loss(X, y); L.backward(); clf.W.grad.shape
        (2, 2)
        """
        checked = self._check_X("loss", X)
        source = X._data if isinstance(X, Tensor) else X
        if isinstance(source, np.ndarray) and np.may_share_memory(checked, source):
            # The graph keeps X for W's gradient: a later change to the caller's array
            # must not reach it (fit's batches are copies already).
            checked = checked.copy()
        return self._loss_tensor(checked, self._encode("loss", y, len(checked)))

    # ----- training -----

    def fit(self, X: Any, y: Any, X_val: Any = None, y_val: Any = None) -> LinearClassifier:
        """Train W and b from scratch by minibatch SGD; returns self.

        W starts as ``0.001 * standard_normal((K, D))`` drawn from
        ``numpy.random.default_rng(seed)`` (as in cs231n) and b at 0; the same generator
        then shuffles the examples at the start of every epoch.

        With ``X_val`` and ``y_val`` the validation accuracy is recorded after every
        epoch in ``history_["val_accuracy"]`` (it is never trained on).
        ``history_["loss"]`` has the loss of every step, ``history_["train_accuracy"]``
        the accuracy on all of X after every epoch.

        >>> import numpy as np, tensorgraph as tg
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
        >>> clf = tg.LinearSVM(epochs=5, verbose=False).fit(X, y)
        >>> len(clf.history_["loss"]), clf.score(X, y)
        (5, 1.0)
        """
        X, classes, yi = _training_data(f"{type(self).__name__}.fit", X, y, X_val, y_val)
        n, d = X.shape

        rng = np.random.default_rng(self.seed)
        k, dtype = len(classes), X.dtype
        # Small random weights as in cs231n; zero bias.
        self.W = Tensor((0.001 * rng.standard_normal((k, d))).astype(dtype), True, "W")
        self.b = Tensor(np.zeros(k, dtype), requires_grad=True, name="b")
        self.classes_ = classes
        self.n_features_in_ = d
        val = None
        if X_val is not None:
            X_val = self._check_X("fit", X_val, name="X_val")
            val = (X_val, self._encode("fit", y_val, len(X_val), name="y_val"))

        batch = min(self.batch_size, n)  # larger than the data: full-batch descent
        opt = SGD([self.W, self.b], lr=self.learning_rate, momentum=self.momentum)
        self.history_ = {"loss": [], "train_accuracy": [], "val_accuracy": []}
        self._warned = False  # the divergence warning, said at most once per fit
        bar = None
        if self.verbose:
            from tqdm import tqdm  # only when a bar is wanted: the engine needs numpy alone

            total = self.epochs * math.ceil(n / batch)
            bar = tqdm(total=total, desc=type(self).__name__, unit="step")
        try:
            # A diverging run overflows on its way to inf: the check of the loss reports
            # it, numpy's overflow warnings would only add noise.
            with np.errstate(over="ignore", invalid="ignore"):
                for epoch in range(self.epochs):
                    self._epoch(epoch, X, yi, batch, rng, opt, val, bar)
        finally:
            if bar is not None:
                bar.close()
        self.W.grad = self.b.grad = None
        return self

    def _epoch(
        self,
        epoch: int,
        X: np.ndarray,
        y: np.ndarray,
        batch: int,
        rng: np.random.Generator,
        opt: SGD,
        val: tuple[np.ndarray, np.ndarray] | None,
        bar: Any,
    ) -> None:
        """One pass over the training set in a fresh random order, then the accuracies."""
        history = self.history_
        losses = history["loss"]
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            loss = self._loss_tensor(X[idx], y[idx])  # one gather of the batch
            value = float(loss._data)
            if not math.isfinite(value):
                step = len(history["loss"]) + 1
                raise FloatingPointError(self._divergence(loss, value, epoch, step))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if losses and value > _DIVERGING * max(losses[0], 1.0) and not self._warned:
                self._warned = True  # once per fit
                if bar is not None:
                    bar.clear()  # the warning on a line of its own, the bar below it
                warnings.warn(
                    f"{type(self).__name__}.fit: training is diverging: the loss grew from "
                    f"{losses[0]:.4g} at the first step to {value:.4g} at epoch {epoch + 1}, "
                    f"step {len(losses) + 1}; lower learning_rate (now "
                    f"{self.learning_rate:g}), or reg (now {self.reg:g}) if it is large",
                    DivergenceWarning,
                    stacklevel=3,  # the caller of fit
                )
            losses.append(value)
            if bar is not None:
                bar.update(1)
        history["train_accuracy"].append(self._accuracy(X, y))
        if val is not None:
            history["val_accuracy"].append(self._accuracy(*val))
        if bar is not None:
            # .4g: 2.303 or 5.6e+05, never a number hundreds of digits long.
            shown = {"loss": f"{value:.4g}", "train": f"{history['train_accuracy'][-1]:.3f}"}
            if val is not None:
                shown["val"] = f"{history['val_accuracy'][-1]:.3f}"
            bar.set_postfix(shown, refresh=False)

    def _divergence(self, loss: Tensor, value: float, epoch: int, step: int) -> str:
        """Why the loss became inf or NaN, naming the setting to change: delta or the
        features' scale when it happens before any update, reg when its penalty term
        overflowed first (the data loss still finite), else the learning rate."""
        where = f"{type(self).__name__}.fit: the loss became {value} at epoch {epoch + 1}"
        lr, reg = self.learning_rate, self.reg
        if step == 1:  # before any update: neither learning_rate nor reg is the cause
            delta = getattr(self, "delta", None)
            if delta is not None:
                margins, squared = len(self.classes_) - 1, getattr(self, "squared", False)
                if not math.isfinite(margins * delta * (delta if squared else 1.0)):
                    return (
                        f"{where}, before any update: delta = {delta:g} alone makes the hinge "
                        f"loss overflow ({margins} margins of {delta:g}"
                        + (", squared" if squared else "")
                        + "); lower delta"
                    )
            return (
                f"{where}, before any update: the features are too large for the scores "
                "X @ W.T + b to stay finite; scale X first (tg.data.Standardizer)"
            )
        where += f", step {step}: training diverged"
        data, penalty = (loss.inputs[0]._data, loss.inputs[1]._data) if reg else (loss._data, 0)
        if np.isfinite(data) and not np.isfinite(penalty):
            # W grew until reg * R(W) overflowed while the data loss stayed finite.
            mu = self.momentum
            why = (
                f"reg * learning_rate = {reg * lr:g} is at least 1 + momentum = {1 + mu:g}, "
                "so the L2 penalty alone makes W grow at every step"
                if self.regularizer == "l2" and reg * lr >= 1 + mu
                else "W grew until the penalty reg * R(W) overflowed"
            )
            return (
                f"{where} in the penalty: {why}; lower reg (now {reg:g}) or learning_rate "
                f"(now {lr:g})"
            )
        return f"{where}; lower learning_rate (now {lr:g})"

    # ----- prediction -----

    def _check_fitted(self, where: str) -> None:
        if not hasattr(self, "classes_"):
            raise RuntimeError(
                f"{type(self).__name__}.{where}: this classifier is not trained yet; "
                "call fit(X, y) first"
            )

    def _check_X(self, where: str, X: Any, name: str = "X") -> np.ndarray:
        """X for the method ``where`` of a trained classifier (messages call it ``name``)."""
        self._check_fitted(where)
        X = _features(f"{type(self).__name__}.{where}", X, name)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{type(self).__name__}.{where}: {name} has {X.shape[1]} features per row, "
                f"the classifier was trained on {self.n_features_in_}"
            )
        return X.astype(self.W.dtype, copy=False)

    def _encode(self, where: str, y: Any, n: int, name: str = "y") -> np.ndarray:
        """Original labels -> class indices 0..K-1 (unknown labels are an error)."""
        y = _targets(f"{type(self).__name__}.{where}", y, n, name)
        idx = np.searchsorted(self.classes_, y)
        idx = np.minimum(idx, len(self.classes_) - 1)
        unknown = self.classes_[idx] != y
        if np.any(unknown):
            i = int(np.argmax(unknown))
            raise ValueError(
                f"{type(self).__name__}.{where}: label {y[i].item()!r} ({name}[{i}]) is not one "
                f"of the classes seen in fit: {self.classes_.tolist()}"
            )
        return idx

    def _scores(self, X: np.ndarray) -> np.ndarray:
        with no_grad():
            return (Tensor(X) @ self.W.T + self.b)._data

    def _accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self._scores(X).argmax(axis=1) == y))

    def decision_function(self, X: Any) -> np.ndarray:
        """The class scores ``X @ W.T + b``, shape (N, K), columns in ``classes_`` order.

        >>> import numpy as np, tensorgraph as tg
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
        >>> tg.LinearSVM(epochs=1, verbose=False).fit(X, y).decision_function(X).shape
        (2, 2)
        """
        return self._scores(self._check_X("decision_function", X))

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest score for each row of X.

        >>> import numpy as np, tensorgraph as tg
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([3, 7])
        >>> tg.LinearSVM(epochs=20, verbose=False).fit(X, y).predict(X).tolist()
        [3, 7]
        """
        scores = self._scores(self._check_X("predict", X))  # checks fitted first
        return self.classes_[scores.argmax(axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of rows of X whose predicted class is y.

        >>> import numpy as np, tensorgraph as tg
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
        >>> tg.SoftmaxClassifier(epochs=20, verbose=False).fit(X, y).score(X, y)
        1.0
        """
        predicted = self.predict(X)
        y = _targets(f"{type(self).__name__}.score", y, len(predicted))
        return float(np.mean(predicted == y))

    def to_torch(self) -> Any:
        """The trained classifier as an equal ``torch.nn.Linear``: scores = X Wᵀ + b.

        Weight and bias are copies of W and b in their dtype (float32 stays float32), so
        ``layer(torch.from_numpy(X))`` gives :meth:`decision_function`'s scores, columns in
        ``classes_`` order (map an argmax back through ``classes_``). From there on it is
        an ordinary PyTorch layer. Needs PyTorch (``pip install torch==2.13.0``), which
        is imported here only.

        >>> import numpy as np, tensorgraph as tg
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
        >>> tg.LinearSVM(epochs=1, verbose=False).fit(X, y).to_torch()  # doctest: +SKIP
        Linear(in_features=2, out_features=2, bias=True)
        """
        self._check_fitted("to_torch")
        from .interop import require_torch

        torch = require_torch(f"{type(self).__name__}.to_torch")
        W = self.W._data
        layer = torch.nn.Linear(W.shape[1], W.shape[0], dtype=getattr(torch, W.dtype.name))
        layer.load_state_dict({"weight": self.W, "bias": self.b})  # tg tensors load as they are
        return layer

    # ----- saving -----

    def save(self, path: str | Path) -> Path:
        """Write the trained classifier to ``path`` as a ``.npz`` file (no pickle).

        Holds W, b, ``classes_``, the hyperparameters and ``history_``, in the model
        file format of :mod:`tensorgraph.modelfile`. ``.npz`` is appended to a path
        without it, as numpy does; returns the path. The file is replaced all at once:
        a save that fails half-way (a full disk, Ctrl-C) leaves the old file as it was.

        >>> import numpy as np, tensorgraph as tg, tempfile, os
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 1])
        >>> clf = tg.LinearSVM(epochs=3, verbose=False).fit(X, y)
        >>> path = clf.save(os.path.join(tempfile.mkdtemp(), "svm"))
        >>> path.name, tg.LinearClassifier.load(path).predict(X).tolist()
        ('svm.npz', [0, 1])
        """
        self._check_fitted("save")
        history = getattr(self, "history_", {})
        arrays = {"W": self.W._data, "b": self.b._data, "classes": self.classes_}
        for key in _HISTORY:
            arrays[f"history_{key}"] = np.asarray(history.get(key, []), dtype=np.float64)
        header = {"model": type(self).__name__, "params": self.get_params()}
        return save_arrays(path, _FORMAT, header, arrays, where=f"{type(self).__name__}.save")

    @classmethod
    def load(cls, path: str | Path) -> LinearClassifier:
        """Read a classifier written by :meth:`save` (never unpickling anything).

        ``LinearClassifier.load`` returns whichever kind the file holds;
        ``LinearSVM.load`` insists on an SVM. A file that is not a saved classifier
        (truncated, other arrays, wrong shapes or dtypes, pickled objects) is a
        ValueError naming the file and the problem; shapes and dtypes are checked
        before any array is read, and members the file should not have are never read.

        >>> import numpy as np, tensorgraph as tg, tempfile, os
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array(["no", "yes"])
        >>> path = tg.SoftmaxClassifier(epochs=3, verbose=False).fit(X, y).save(
        ...     os.path.join(tempfile.mkdtemp(), "model.npz"))
        >>> tg.LinearClassifier.load(path).classes_.tolist()
        ['no', 'yes']
        """
        where = f"{cls.__name__}.load"
        header, arrays = load_arrays(
            path,
            _FORMAT,
            ["W", "b", "classes"],
            optional=[f"history_{key}" for key in _HISTORY],
            check=_check_layout,
            where=where,
            what="classifier",
        )
        model = _KINDS[header["model"]]
        if cls is not LinearClassifier and model is not cls:
            raise ValueError(
                f"{where}: {path} holds a {model.__name__}; use {model.__name__}.load or "
                "LinearClassifier.load"
            )
        try:
            clf = model(**header["params"])
        except (ValueError, TypeError) as err:
            raise invalid(where, path, f"bad hyperparameters: {err}", "classifier") from None
        W, b, classes = arrays["W"], arrays["b"], arrays["classes"]
        if len(np.unique(classes)) != len(classes) or np.any(np.sort(classes) != classes):
            raise invalid(where, path, "classes must be sorted and distinct", "classifier")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise invalid(where, path, "W or b holds NaN or inf", "classifier")
        clf.W = Tensor(W, requires_grad=True, name="W")
        clf.b = Tensor(b, requires_grad=True, name="b")
        clf.classes_ = classes
        clf.n_features_in_ = W.shape[1]
        clf.history_ = {
            key: arrays.get(f"history_{key}", np.empty(0)).astype(float).tolist()
            for key in _HISTORY
        }
        return clf


def _check_layout(header: dict[str, Any], arrays: dict[str, ArrayInfo]) -> None:
    """What a saved classifier must declare, checked before any array is read: a known
    model with its hyperparameters, W of shape (K, D) with K >= 2, b and the K classes."""
    model = header.get("model")
    if not isinstance(model, str) or model not in _KINDS:
        raise ValueError(f"unknown model {_short(model)}")
    if not isinstance(header.get("params"), dict):
        raise ValueError(
            f"bad hyperparameters: params must be a JSON object, got {_short(header.get('params'))}"
        )
    W, b, classes = arrays["W"], arrays["b"], arrays["classes"]
    if W.ndim != 2 or W.dtype.kind != "f" or W.shape[0] < 2:
        raise ValueError(f"W must be a (K, D) float array with K >= 2, got {W.dtype} {W.shape}")
    k = W.shape[0]
    if b.shape != (k,) or b.dtype != W.dtype:
        raise ValueError(f"b must have shape ({k},) and dtype {W.dtype}, got {b.dtype} {b.shape}")
    if classes.shape != (k,):
        raise ValueError(f"classes must be {k} labels, got {classes.dtype} {classes.shape}")
    for key in _HISTORY:
        history = arrays.get(f"history_{key}")
        if history is not None and (history.ndim != 1 or history.dtype.kind not in "iuf"):
            raise ValueError(
                f"history_{key} must be a 1-D array of numbers, got {history.dtype} {history.shape}"
            )


@dataclass(eq=False, kw_only=True)
class LinearSVM(LinearClassifier):
    """Multiclass linear SVM (the Weston-Watkins hinge of the lecture), trained by SGD.

    ``delta`` is the margin; ``squared=True`` uses the squared hinge (L2-SVM). The other
    keywords are those of :class:`LinearClassifier`.

    >>> import numpy as np, tensorgraph as tg
    >>> X, y = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0]]), np.array([0, 1, 2])
    >>> tg.LinearSVM(epochs=30, verbose=False).fit(X, y).score(X, y)
    1.0
    """

    delta: float = 1.0
    squared: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self.delta = _check_float("LinearSVM", "delta", self.delta, 0.0, low_ok=True)
        if not isinstance(self.squared, bool):
            raise TypeError(f"LinearSVM: squared must be True or False, got {_short(self.squared)}")

    def _data_loss(self, scores: Tensor, y: np.ndarray) -> Tensor:
        return svm_loss(scores, y, delta=self.delta, squared=self.squared)


@dataclass(eq=False, kw_only=True)
class SoftmaxClassifier(LinearClassifier):
    """Softmax (multinomial logistic regression) classifier, trained by SGD.

    Keywords are those of :class:`LinearClassifier`; adds :meth:`predict_proba`.

    >>> import numpy as np, tensorgraph as tg
    >>> X, y = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0]]), np.array([0, 1, 2])
    >>> clf = tg.SoftmaxClassifier(epochs=30, verbose=False).fit(X, y)
    >>> clf.predict_proba(X).sum(axis=1).round(6).tolist()
    [1.0, 1.0, 1.0]
    """

    def _data_loss(self, scores: Tensor, y: np.ndarray) -> Tensor:
        return softmax_loss(scores, y)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities softmax(X @ W.T + b), shape (N, K), rows summing to 1."""
        scores = self._scores(self._check_X("predict_proba", X))
        scores -= scores.max(axis=1, keepdims=True)  # exp never overflows
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores


_KINDS: dict[str, type[LinearClassifier]] = {
    c.__name__: c for c in (LinearSVM, SoftmaxClassifier)
}  # what a model file may hold, by the name saved in its header
