"""Beyond the linear classifier: micrograd's demo, a 2-16-16-1 neural network on two moons.

micrograd's demo notebook, step for step (the same data, loss, learning-rate schedule
and 100 full-batch steps; viz/course/moons.py has the code, cell by cell), then:

- the decision boundary it learned (``moons_boundary.png``);
- one training step drawn, every layer with its values and gradients as heatmaps
  (``mlp_step.svg`` / ``.png``);
- a 2-3-1 net on one point, backprop gate by gate (``tiny_net_backprop.html``);
- the same network checked against PyTorch and handed to it (when torch is installed).

    python examples/13_neural_network.py [OUT]
"""

import sys
from pathlib import Path

import numpy as np

import tensorgraph as tg
import viz
from viz.course import moons, plots


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)

    def log(k: int, loss: float, acc: float) -> None:
        if k % 10 == 0 or k == 99:
            print(f"step {k} loss {loss:.6f}, accuracy {acc * 100:.1f}%")

    run = moons.train_moons(log=log)
    print(run.model)
    print(f"number of parameters {sum(p.size for p in run.model.parameters())}")
    print(f"training accuracy {run.accuracy:.3f} after 100 steps ({run.seconds:.2f} s)")

    print("wrote", plots.decision_boundary(
        run.predict_scores, run.X, run.y, out / "moons_boundary.png",
        title="micrograd's demo in tensorgraph: MLP 2-16-16-1",
    ))  # fmt: skip

    # The first training step (every hinge term still active), drawn top to bottom.
    start = run.initial_model()  # the weights before step 0, from a state dict
    loss, _ = moons.moons_loss(start, run.X, run.y)
    loss.backward()
    for suffix in ("svg", "png"):
        path = viz.render(
            loss, out / f"mlp_step.{suffix}", heatmaps=True, rankdir="TB",
            title="micrograd's demo, step 0: MLP 2-16-16-1 on 100 points",
        )  # fmt: skip
        print("wrote", path)
    print(f"the step's graph: {len(tg.graph_nodes(loss))} tensors")

    tiny = moons.tiny_net_loss()
    player = viz.animate(
        tiny, out / "tiny_net_backprop.html", rankdir="TB",
        title="Backprop through a 2-3-1 net on one point, gate by gate",
    )  # fmt: skip
    print("wrote", player)

    check_with_pytorch(run)


def check_with_pytorch(run: moons.MoonsRun) -> None:
    """The same network in PyTorch, from the same state dict: loss, gradients, predictions."""
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install torch==2.13.0 to compare")
        return
    # Step 0 in both, from the same state dict: the same loss and gradients.
    model = run.initial_model()
    twin = tg.nn.to_torch(model)  # torch.nn.Sequential with the same weights
    loss, _ = moons.moons_loss(model, run.X, run.y)
    loss.backward()
    X, y = torch.from_numpy(run.X), torch.from_numpy(run.y).double()
    scores = twin(X).reshape(-1)
    reg = 1e-4 * sum((p * p).sum() for p in twin.parameters())
    torch_loss = torch.relu(1 - y * scores).mean() + reg
    torch_loss.backward()
    worst = max(
        float(np.abs(p.grad - q.grad.numpy()).max() / np.abs(q.grad.numpy()).max())
        for p, q in zip(model.parameters(), twin.parameters(), strict=True)
    )
    print(f"PyTorch, step 0: loss {torch_loss.item():.12f} (tensorgraph {loss.item():.12f}), "
          f"gradients equal to {worst:.1e} (largest relative difference)")  # fmt: skip

    trained = tg.nn.to_torch(run.model)  # the trained net, handed over
    same = np.array_equal(
        trained(X).detach().numpy().reshape(-1) > 0, run.predict_scores(run.X) > 0
    )
    print(f"handed to PyTorch: the same predictions on all 100 points: {same}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
