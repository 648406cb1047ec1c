"""viz: draws tensorgraph graphs with their values and gradients (Graphviz, networkx).

PyTorch's graphs too: ``with viz.record_torch():`` around PyTorch code, then the same
functions (draw, render, to_networkx, steps, animate, render_steps) on its tensors, and
``viz.compare(ours, theirs)`` for the two side by side. torch is never imported here.
"""

from viz.backends import RendererNotFound, available_backends, render_dot
from viz.check import check_graph
from viz.compare import Comparison, compare
from viz.draw import Drawing, draw, render
from viz.graph import to_networkx
from viz.player import Player, animate, render_steps
from viz.record import record_torch
from viz.steps import steps

__all__ = [
    "Comparison",
    "Drawing",
    "Player",
    "RendererNotFound",
    "animate",
    "available_backends",
    "check_graph",
    "compare",
    "draw",
    "record_torch",
    "render",
    "render_dot",
    "render_steps",
    "steps",
    "to_networkx",
]
