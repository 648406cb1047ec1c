"""micrograd's demo, reproduced: a 2-16-16-1 MLP learns the two moons in tensorgraph.

micrograd's ``demo.ipynb``, cell by cell, and what each cell is here:

    np.random.seed(1337)                      make_moons(100, 0.1, seed=1337): the same
    X, y = make_moons(n_samples=100,            100 points, number for number
                      noise=0.1)
    y = y*2 - 1                               labels -1 and +1
    model = MLP(2, [16, 16, 1])               tg.nn.MLP([2, 16, 16, 1]) with micrograd's
                                              start: weights uniform in [-1, 1], biases 0
    losses = [(1 + -yi*scorei).relu() ...]    the "max-margin" loss: relu(1 - y * scores)
    data_loss = sum(losses) / len(losses)       averaged over the batch
    reg_loss = 1e-4 * sum(p*p ...)            plus L2 on every parameter (biases too)
    for k in range(100): ...                  100 steps of full-batch gradient descent,
        learning_rate = 1.0 - 0.9*k/100         the learning rate falling from 1.0 to 0.1
        p.data -= learning_rate * p.grad

micrograd builds a graph of scalars (thousands of nodes per step); here every layer is a
matmul, a transpose and an add on whole arrays, and the same 100 steps take a few
hundredths of a second. With PyTorch's default start (uniform in ±1/sqrt(fan_in)) 100
steps are not enough: that is why micrograd's start is kept.

:func:`train_moons` runs the demo, :func:`moons_loss` is one step's loss as a graph (what
``viz.draw`` shows), :func:`tiny_net_loss` the graph of a 2-3-1 net on one point, small
enough for the step-by-step player.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tensorgraph as tg
from tensorgraph import nn

__all__ = ["MoonsRun", "micrograd_init", "moons_loss", "tiny_net_loss", "train_moons"]

SEED = 1337  # micrograd's notebook: np.random.seed(1337); random.seed(1337)


@dataclass
class MoonsRun:
    """What :func:`train_moons` returns: the data, the trained model and its history."""

    X: np.ndarray  # (100, 2) points
    y: np.ndarray  # (100,) labels -1 or +1
    model: nn.MLP
    history: dict[str, list[float]] = field(default_factory=dict)  # per step
    seconds: float = 0.0
    initial_state: dict[str, np.ndarray] = field(default_factory=dict)  # before step 0

    def initial_model(self) -> nn.MLP:
        """The network as it was before training (a new model, from ``initial_state``)."""
        model = nn.MLP([2, 16, 16, 1], generator=0)  # its own numbers: overwritten next
        model.load_state_dict(self.initial_state)
        return model

    @property
    def accuracy(self) -> float:
        """Training accuracy after the last step."""
        with tg.no_grad():
            scores = self.model(self.X).data.reshape(-1)
        return float(np.mean((self.y > 0) == (scores > 0)))

    def predict_scores(self, points: np.ndarray) -> np.ndarray:
        """The model's score for each point (its class is the sign)."""
        with tg.no_grad():
            return self.model(points).data.reshape(-1)


def micrograd_init(model: nn.Module, generator: Any = None) -> nn.Module:
    """Start every Linear layer of ``model`` as micrograd's Neuron starts: weights uniform in
    [-1, 1], biases 0. Returns the model.

    >>> import tensorgraph as tg
    >>> m = micrograd_init(tg.nn.MLP([2, 3, 1]), generator=0)
    >>> float(m[0].bias.data.sum()), bool(abs(m[0].weight.data).max() <= 1)
    (0.0, True)
    """
    rng = nn.init.generator_from(generator, "micrograd_init")
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.uniform_(m.weight, -1.0, 1.0, generator=rng)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def moons_loss(model: nn.Module, X: Any, y: np.ndarray, alpha: float = 1e-4) -> tuple[Any, float]:
    """micrograd's loss on the whole batch, as a graph, and the accuracy.

    The SVM "max-margin" loss ``mean(relu(1 - y * score))`` plus ``alpha * sum(p * p)``
    over every parameter; each tensor is named, so a drawing reads like the notebook.

    >>> import numpy as np, tensorgraph as tg
    >>> X, y = tg.data.make_moons(10, 0.1, seed=0)
    >>> loss, acc = moons_loss(tg.nn.MLP([2, 4, 1], generator=0), X, y * 2 - 1)
    >>> loss.name, 0 <= acc <= 1
    ('total loss', True)
    """
    X = X if isinstance(X, tg.Tensor) else tg.tensor(X, name="X")
    labels = tg.tensor(y, name="y")
    scores = model(X).reshape(-1)  # one score per point
    scores.name = "scores"
    losses = tg.relu(1 - labels * scores)  # svm "max-margin" loss
    losses.name = "hinge"
    data_loss = losses.mean()
    data_loss.name = "data loss"
    reg_loss = alpha * sum(tg.l2(p) for p in model.parameters())  # L2: sum of p*p
    reg_loss.name = "reg loss"
    total_loss = data_loss + reg_loss
    total_loss.name = "total loss"
    accuracy = float(np.mean((y > 0) == (scores.data > 0)))
    return total_loss, accuracy


def train_moons(
    seed: int = SEED,
    steps: int = 100,
    n_samples: int = 100,
    noise: float = 0.1,
    log: Callable[[int, float, float], None] | None = None,
) -> MoonsRun:
    """Run micrograd's demo: make the moons, build the 2-16-16-1 MLP, train 100 steps.

    ``log(step, loss, accuracy)`` is called after every step (micrograd prints them).

    >>> run = train_moons()
    >>> run.accuracy, len(run.history["loss"])
    (1.0, 100)
    """
    X, y = tg.data.make_moons(n_samples, noise, seed=seed)
    y = y * 2 - 1  # make y be -1 or 1
    model = micrograd_init(nn.MLP([2, 16, 16, 1], generator=seed), generator=seed)
    run = MoonsRun(X, y, model, {"loss": [], "accuracy": [], "learning_rate": []})
    run.initial_state = {k: np.array(v) for k, v in model.state_dict().items()}  # copies
    start = time.perf_counter()
    for k in range(steps):
        total_loss, acc = moons_loss(model, X, y)  # forward
        model.zero_grad()  # backward
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100  # update (sgd)
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        run.history["loss"].append(total_loss.item())
        run.history["accuracy"].append(acc)
        run.history["learning_rate"].append(learning_rate)
        if log is not None:
            log(k, total_loss.item(), acc)
    run.seconds = time.perf_counter() - start
    return run


def tiny_net_loss(seed: int = 0) -> Any:
    """The hinge loss of a 2-3-1 MLP (tanh) on one point of the moons, backward not yet run.

    Small enough to watch gate by gate in the player (``viz.animate``).

    >>> loss = tiny_net_loss()
    >>> loss.name, len(tg.graph_nodes(loss)) < 25
    ('loss', True)
    """
    X, y = tg.data.make_moons(100, 0.1, seed=SEED)
    model = micrograd_init(nn.MLP([2, 3, 1], activation="tanh"), generator=seed)
    x = tg.tensor(X[:1], name="x")  # one point: (1, 2)
    label = float(y[0] * 2 - 1)
    score = model(x)
    score.name = "score"
    loss = tg.relu(1 - label * score).sum()
    loss.name = "loss"
    return loss
