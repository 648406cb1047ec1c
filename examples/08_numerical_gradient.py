"""Slide 'Numerical Gradient': the lecture's num_grad, tg.numerical_grad and backward.

The loss is the softmax loss of a small batch as a function of W. Three gradients:
the slide's one-sided finite difference (error ~ h), tensorgraph's central difference
(error ~ h^2), and the analytic gradient from one backward pass, which is exact and
costs one pass instead of 2 * K * D of them.

    python examples/08_numerical_gradient.py [OUT]
"""

import sys
from pathlib import Path

import numpy as np

import tensorgraph as tg


def num_grad(f, x):  # finite difference method (the slide's code)
    fx = f(x)
    grad = np.zeros(x.shape)
    h = 0.00001
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old_value = x[ix]
        x[ix] = old_value + h
        fxh = f(x)
        x[ix] = old_value
        grad[ix] = (fxh - fx) / h  # alternatively [f(x+h)-f(x-h)]/2h
        it.iternext()
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    N, D, K = 10, 6, 3
    X, y = rng.normal(size=(N, D)), rng.integers(0, K, size=N)
    W0 = 0.1 * rng.normal(size=(K, D))
    reg = 0.1

    def loss_fun(W: np.ndarray) -> float:  # plain numbers in, one number out
        return (tg.softmax_loss(tg.tensor(X) @ tg.tensor(W).T, y) + reg * tg.l2(W)).item()

    W = tg.tensor(W0.copy(), requires_grad=True, name="W")
    L = tg.softmax_loss(tg.tensor(X) @ W.T, y) + reg * tg.l2(W)
    L.backward()
    analytic = W.grad

    lecture = num_grad(loss_fun, W0.copy())
    central = tg.numerical_grad(loss_fun, W0.copy())
    print(f"softmax loss + {reg} * L2 at a random W ({K} x {D}): L = {L.item():.6f}")
    print("dL/dW[0, :3]  backward     :", analytic[0, :3].round(8).tolist())
    print("              lecture      :", lecture[0, :3].round(8).tolist())
    print("              tg (central) :", central[0, :3].round(8).tolist())
    print(f"max relative error, lecture num_grad vs backward:  {rel_error(lecture, analytic):.1e}")
    print(f"max relative error, tg.numerical_grad vs backward: {rel_error(central, analytic):.1e}")

    # tg.gradcheck does the comparison (and warns near a kink such as the SVM's hinge).
    result = tg.gradcheck(
        lambda W: tg.softmax_loss(tg.tensor(X) @ W.T, y) + reg * tg.l2(W), tg.tensor(W0)
    )
    print(result)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
