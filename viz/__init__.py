"""viz: draws tensorgraph graphs with their values and gradients (Graphviz, networkx)."""

from viz.backends import RendererNotFound, available_backends, render_dot
from viz.draw import Drawing, draw, render
from viz.graph import to_networkx

__all__ = [
    "Drawing",
    "RendererNotFound",
    "available_backends",
    "draw",
    "render",
    "render_dot",
    "to_networkx",
]
