"""The lecture's graph under sliders: move x, y, z, w and watch every value and gradient.

In a notebook cell::

    from viz.course.interactive import LectureSliders
    LectureSliders()        # four sliders above the drawing, redrawn as they move

The drawing is :func:`lecture_svg`, the graph of f = 2·(x·y + max(z, w)) after
backward at the sliders' values; ``update(x=..., ...)`` redraws it from code (what a
slider does when it moves). ipywidgets is an optional extra: ``pip install -e
'.[notebooks]'``, which ``python3 dev.py notebooks`` installs.
"""

from __future__ import annotations

from typing import Any

from viz.course.lecture import VALUES, lecture_graph
from viz.draw import draw

__all__ = ["LectureSliders", "lecture_svg"]


def lecture_svg(**values: float) -> str:
    """The lecture's graph after backward at ``values`` (the slide's where not given), as SVG.

    >>> svg = lecture_svg(x=1, y=2, z=-3, w=5)
    >>> ">14<" in svg and ">grad 4<" in svg  # f = 2·(1·2 + max(-3, 5)), ∂f/∂x = 2y
    True
    """
    f = lecture_graph(**values)
    f.backward()
    shown = {**VALUES, **values}
    title = "f = 2·(x·y + max(z, w))   at " + ", ".join(f"{n} = {v:g}" for n, v in shown.items())
    return draw(f, title=title).svg()


class LectureSliders:
    """Sliders for x, y, z, w over the lecture's graph, redrawn as they move.

    ``update(**values)`` sets the sliders given by name, redraws once and returns the new
    SVG; ``svg`` is the SVG shown, ``picture`` the image widget that shows it,
    ``sliders`` the four sliders by name.

    >>> panel = LectureSliders()  # doctest: +SKIP
    >>> ">14<" in panel.update(x=1, y=2, z=-3, w=5)  # doctest: +SKIP
    True
    """

    def __init__(self, low: float = -5.0, high: float = 5.0, step: float = 0.5) -> None:
        try:
            import ipywidgets as widgets
        except ImportError:
            raise ImportError(
                "LectureSliders needs ipywidgets: pip install -e '.[notebooks]' (python3 "
                "dev.py notebooks installs it)"
            ) from None
        self.sliders = {
            n: widgets.FloatSlider(
                value=v,
                min=low,
                max=high,
                step=step,
                description=n,
                layout=widgets.Layout(width="300px"),
                style={"description_width": "20px"},
            )
            for n, v in VALUES.items()
        }
        self.picture = widgets.Image(format="svg+xml")
        row = widgets.HBox(list(self.sliders.values()), layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([row, self.picture])
        self._quiet = False
        for slider in self.sliders.values():
            slider.observe(self._moved, names="value")
        self.update()

    def _moved(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.update()

    def update(self, **values: float) -> str:
        """Move the sliders named in ``values``, redraw once; return the SVG shown."""
        unknown = set(values) - set(self.sliders)
        if unknown:
            raise TypeError(f"update: no slider named {sorted(unknown)}; there are x, y, z, w")
        self._quiet = True
        try:
            for name, value in values.items():
                self.sliders[name].value = value
        finally:
            self._quiet = False
        self.svg = lecture_svg(**{n: s.value for n, s in self.sliders.items()})
        self.picture.value = self.svg.encode("utf-8")
        return self.svg

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
