"""A neural-network classifier in scikit-learn's style, built from ``tg.nn`` and ``tg.optim``.

The two-layer network of the lecture's next step, with the same API as the linear
classifiers (``fit``, ``predict``, ``score``, ``history_``), so ``tg.tune.grid_search``
tunes it on a validation split and the demo report shows it beside them:

    >>> import numpy as np, tensorgraph as tg
    >>> X, y = tg.data.make_moons(200, noise=0.1, seed=0)
    >>> clf = tg.MLPClassifier(hidden_sizes=(16,), learning_rate=0.03, epochs=30, batch_size=32,
    ...                        verbose=False)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True

The network is ``tg.nn.MLP([D, *hidden_sizes, K])`` (``model_``, a ``tg.nn`` module:
``model_.state_dict()`` loads into the equal ``torch.nn.Sequential``, see
:meth:`MLPClassifier.to_torch`). The training loss is the lecture's ``L = data loss +
reg * R(W)``: softmax cross-entropy plus ``reg`` times the sum of squares of every
weight matrix (no ½; biases are not regularized, as in the linear classifiers),
minimized by minibatch Adam (or SGD with momentum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .linear import (
    LinearClassifier,
    _check_count,
    _check_float,
    _check_momentum_seed_verbose,
    _features,
    _training_data,
)
from .losses import l2, softmax_loss
from .modes import no_grad
from .nn.modules import MLP, Linear
from .optim import SGD, Adam, Optimizer
from .tensor import Tensor, _short

__all__ = ["MLPClassifier"]

_OPTIMIZERS = ("adam", "sgd")


@dataclass(eq=False, kw_only=True)
class MLPClassifier:
    """A multilayer perceptron for classification, trained by minibatch Adam or SGD.

    ``hidden_sizes`` are the widths of the hidden layers (``(256,)``: one hidden layer,
    a two-layer net), ``activation`` is "relu", "tanh" or "sigmoid". Weights start as
    ``torch.nn.Linear`` starts them, drawn from ``numpy.random.default_rng(seed)``, which
    then shuffles the examples every epoch. float32 data gives a float32 network.

    >>> import tensorgraph as tg
    >>> clf = tg.MLPClassifier(hidden_sizes=256, epochs=5)
    >>> clf.hidden_sizes, clf.optimizer, clf.learning_rate
    ((256,), 'adam', 0.001)
    """

    hidden_sizes: tuple[int, ...] = (100,)
    activation: str = "relu"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    reg: float = 1e-4
    epochs: int = 20
    batch_size: int = 128
    momentum: float = 0.9  # SGD only
    seed: int = 0
    verbose: bool = True

    model_: MLP = field(init=False, repr=False)
    classes_: np.ndarray = field(init=False, repr=False)
    n_features_in_: int = field(init=False, repr=False)
    history_: dict[str, list[float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        where = "MLPClassifier"
        sizes = self.hidden_sizes
        if isinstance(sizes, int | np.integer) and not isinstance(sizes, bool):
            sizes = (sizes,)
        if not isinstance(sizes, tuple | list) or any(
            isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1 for n in sizes
        ):
            raise ValueError(
                f"{where}: hidden_sizes must be a tuple of layer widths >= 1, e.g. (256,); "
                f"got {_short(self.hidden_sizes)}"
            )
        self.hidden_sizes = tuple(int(n) for n in sizes)
        if self.activation not in ("relu", "tanh", "sigmoid"):
            raise ValueError(
                f"{where}: activation must be 'relu', 'tanh' or 'sigmoid', got {self.activation!r}"
            )
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"{where}: optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        self.learning_rate = _check_float(where, "learning_rate", self.learning_rate, 0.0, False)
        self.reg = _check_float(where, "reg", self.reg, 0.0, low_ok=True)
        self.epochs = _check_count(where, "epochs", self.epochs)
        self.batch_size = _check_count(where, "batch_size", self.batch_size)
        _check_momentum_seed_verbose(where, self)

    # The estimator's plumbing is the linear classifiers' (their methods read only
    # classes_, the dataclass fields and predict): one implementation for both.
    get_params = LinearClassifier.get_params
    _check_fitted = LinearClassifier._check_fitted
    _encode = LinearClassifier._encode
    score = LinearClassifier.score

    # ----- the graph of one training step -----

    def _loss_tensor(self, X: np.ndarray, y: np.ndarray) -> Tensor:
        scores = self.model_(Tensor(X, name="X"))
        scores.name = "scores"
        loss = softmax_loss(scores, y)
        if self.reg == 0:
            return loss
        loss.name = "data loss"
        weights = [m.weight for m in self.model_ if isinstance(m, Linear)]
        penalty = l2(weights[0])
        for w in weights[1:]:
            penalty = penalty + l2(w)
        penalty.name = "R(W)"
        total = loss + Tensor(np.asarray(self.reg, dtype=X.dtype), name="reg") * penalty
        total.name = "L"
        return total

    def loss(self, X: Any, y: Any) -> Tensor:
        """The training loss of a batch as a graph: cross-entropy + reg * ΣW².

        ``loss.backward()`` fills every parameter's ``.grad``; ``viz.draw`` shows the
        whole step, layer by layer. Labels are the original ones (as in ``classes_``).

        >>> import numpy as np, tensorgraph as tg
        >>> X, y = tg.data.make_moons(20, seed=0)
        >>> clf = tg.MLPClassifier(hidden_sizes=(4,), epochs=1, verbose=False).fit(X, y)
        >>> clf.loss(X[:3], y[:3]).op
        'add'
        """
        X = self._check_X("loss", X)
        return self._loss_tensor(X, self._encode("loss", y, len(X)))

    # ----- training -----

    def fit(self, X: Any, y: Any, X_val: Any = None, y_val: Any = None) -> MLPClassifier:
        """Train a fresh network on X, y by minibatch Adam (or SGD); returns self.

        With ``X_val`` and ``y_val`` the validation accuracy is recorded after every
        epoch in ``history_["val_accuracy"]`` (never trained on); ``history_["loss"]``
        has the loss of every step, ``history_["train_accuracy"]`` the accuracy on all of
        X after every epoch. A loss that becomes inf or NaN stops with a
        FloatingPointError (the learning rate is too large).

        >>> import tensorgraph as tg
        >>> X, y = tg.data.make_moons(40, seed=0)
        >>> clf = tg.MLPClassifier(hidden_sizes=(8,), epochs=3, batch_size=20, verbose=False)
        >>> len(clf.fit(X, y).history_["loss"])
        6
        """
        where = "MLPClassifier.fit"
        X, classes, yi = _training_data(where, X, y, X_val, y_val)
        n, d = X.shape
        rng = np.random.default_rng(self.seed)
        sizes = [d, *self.hidden_sizes, len(classes)]
        self.model_ = MLP(sizes, activation=self.activation, dtype=X.dtype, generator=rng)
        self.classes_, self.n_features_in_ = classes, d
        val = None
        if X_val is not None:
            X_val = self._check_X("fit", X_val, name="X_val")
            val = (X_val, self._encode("fit", y_val, len(X_val), name="y_val"))
        opt: Optimizer
        if self.optimizer == "adam":
            opt = Adam(self.model_.parameters(), lr=self.learning_rate)
        else:
            opt = SGD(self.model_.parameters(), lr=self.learning_rate, momentum=self.momentum)
        batch = min(self.batch_size, n)
        self.history_ = {"loss": [], "train_accuracy": [], "val_accuracy": []}
        bar = None
        if self.verbose:
            from tqdm import tqdm  # only when a bar is wanted: the engine needs numpy alone

            bar = tqdm(total=self.epochs * math.ceil(n / batch), desc="MLPClassifier", unit="step")
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                for epoch in range(self.epochs):
                    order = rng.permutation(n)
                    for start in range(0, n, batch):
                        idx = order[start : start + batch]
                        loss = self._loss_tensor(X[idx], yi[idx])
                        value = float(loss._data)
                        if not math.isfinite(value):
                            raise FloatingPointError(
                                f"{where}: the loss became {value} at epoch {epoch + 1}, step "
                                f"{len(self.history_['loss']) + 1}: training diverged; lower "
                                f"learning_rate (now {self.learning_rate:g})"
                            )
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
                        self.history_["loss"].append(value)
                        if bar is not None:
                            bar.update(1)
                    self._record(X, yi, val, bar)
        finally:
            if bar is not None:
                bar.close()
        self.model_.zero_grad()
        return self

    def _record(self, X: np.ndarray, y: np.ndarray, val: Any, bar: Any) -> None:
        """The accuracies after an epoch, into ``history_`` (and the progress bar)."""
        history = self.history_
        history["train_accuracy"].append(self._accuracy(X, y))
        if val is not None:
            history["val_accuracy"].append(self._accuracy(*val))
        if bar is not None:
            shown = {
                "loss": f"{history['loss'][-1]:.4f}",
                "train": f"{history['train_accuracy'][-1]:.3f}",
            }
            if val is not None:
                shown["val"] = f"{history['val_accuracy'][-1]:.3f}"
            bar.set_postfix(shown, refresh=False)

    # ----- prediction -----

    def _check_X(self, where: str, X: Any, name: str = "X") -> np.ndarray:
        self._check_fitted(where)
        X = _features(f"MLPClassifier.{where}", X, name)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"MLPClassifier.{where}: {name} has {X.shape[1]} features per row, "
                f"the classifier was trained on {self.n_features_in_}"
            )
        return X.astype(self.model_[0].weight.dtype, copy=False)

    def _scores(self, X: np.ndarray, chunk: int = 8192) -> np.ndarray:
        with no_grad():  # in chunks: the hidden activations of 60k images at once are big
            return np.concatenate(
                [self.model_(X[i : i + chunk])._data for i in range(0, max(len(X), 1), chunk)]
            )

    def _accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self._scores(X).argmax(axis=1) == y))

    def decision_function(self, X: Any) -> np.ndarray:
        """The class scores (the network's outputs), shape (N, K), in ``classes_`` order.

        >>> import tensorgraph as tg
        >>> X, y = tg.data.make_moons(20, seed=0)
        >>> clf = tg.MLPClassifier(hidden_sizes=(4,), epochs=1, verbose=False).fit(X, y)
        >>> clf.decision_function(X).shape
        (20, 2)
        """
        return self._scores(self._check_X("decision_function", X))

    def predict(self, X: Any) -> np.ndarray:
        """The class with the highest score for each row of X.

        >>> import tensorgraph as tg
        >>> X, y = tg.data.make_moons(20, seed=0)
        >>> clf = tg.MLPClassifier(hidden_sizes=(4,), epochs=1, verbose=False).fit(X, y)
        >>> set(clf.predict(X).tolist()) <= {0, 1}
        True
        """
        scores = self._scores(self._check_X("predict", X))  # checks fitted first
        return self.classes_[scores.argmax(axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities softmax(scores), shape (N, K), rows summing to 1.

        >>> import tensorgraph as tg
        >>> X, y = tg.data.make_moons(20, seed=0)
        >>> clf = tg.MLPClassifier(hidden_sizes=(4,), epochs=1, verbose=False).fit(X, y)
        >>> clf.predict_proba(X).sum(axis=1).round(6).tolist()[:2]
        [1.0, 1.0]
        """
        scores = self._scores(self._check_X("predict_proba", X))
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def to_torch(self) -> Any:
        """The trained network as an equal ``torch.nn.Sequential`` (same dtype and weights).

        Its outputs are the scores of :meth:`decision_function` (columns in
        ``classes_`` order). Needs PyTorch (``pip install torch==2.13.0``), imported only
        here.

        >>> tg.MLPClassifier().fit(X, y).to_torch()  # doctest: +SKIP
        Sequential(
          (0): Linear(in_features=784, out_features=256, bias=True)
          (1): ReLU()
          (2): Linear(in_features=256, out_features=10, bias=True)
        )
        """
        self._check_fitted("to_torch")
        from .nn.bridge import to_torch  # imports torch

        return to_torch(self.model_)
