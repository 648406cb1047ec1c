"""viz: draws tensorgraph graphs with their values and gradients (Graphviz, networkx)."""
