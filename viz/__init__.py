"""viz: draws tensorgraph graphs with their values and gradients (Graphviz, networkx)."""

from viz.backends import RendererNotFound, available_backends, render_dot

__all__ = ["RendererNotFound", "available_backends", "render_dot"]
