"""viz: draws tensorgraph graphs with their values and gradients (Graphviz, networkx)."""

from viz.backends import RendererNotFound, available_backends, render_dot
from viz.check import check_graph
from viz.draw import Drawing, draw, render
from viz.graph import to_networkx
from viz.player import Player, animate, render_steps
from viz.steps import steps

__all__ = [
    "Drawing",
    "Player",
    "RendererNotFound",
    "animate",
    "available_backends",
    "check_graph",
    "draw",
    "render",
    "render_dot",
    "render_steps",
    "steps",
    "to_networkx",
]
