"""Hyperparameter search on a validation split.

The lecture's discipline: train on the training split, choose hyperparameters by their
accuracy on the validation split, and evaluate on the test split once, at the end
(``grid_search`` never sees the test split).
"""

from __future__ import annotations

import html
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["GridSearchResult", "grid_search"]


@dataclass(repr=False)
class GridSearchResult:
    """What ``grid_search`` found.

    ``table``: one dict per setting, in grid order: the hyperparameters, then
    ``val_accuracy``, ``train_accuracy`` and ``fit_seconds`` (accuracies are NaN and
    ``error`` says why when training diverged). ``best_params``: the setting with the
    highest validation accuracy (the first one in grid order on a tie).
    ``best_model``: that setting trained on the training split only.

    ``print(result)`` shows the table as text; in Jupyter the result shows itself as an
    HTML table (``_repr_html_``), the best row in bold.
    """

    table: list[dict[str, Any]]
    best_params: dict[str, Any]
    best_model: Any
    best_val_accuracy: float

    def __repr__(self) -> str:
        head = (
            f"GridSearchResult({len(self.table)} settings; best {self.best_params}, "
            f"val_accuracy {_cell(self.best_val_accuracy)})"
        )
        return f"{head}\n{self}"

    def _repr_html_(self) -> str:
        """The table as HTML, for Jupyter: one row per setting, the best in bold.

        >>> r = GridSearchResult([{"reg": 0.1, "val_accuracy": 0.9}], {"reg": 0.1}, None, 0.9)
        >>> "<th>val_accuracy</th>" in r._repr_html_() and "<b>0.1</b>" in r._repr_html_()
        True
        """
        if not self.table:
            return "<p>(empty grid)</p>"
        names = [k for k in self.table[0] if k != "error"]
        notes = any(row.get("error") for row in self.table)
        head = "".join(f"<th>{html.escape(n)}</th>" for n in names) + ("<th></th>" if notes else "")
        rows = []
        for row in self.table:
            best = _params_of(row, self.best_params) == self.best_params
            cells = [html.escape(_cell(row.get(k))) for k in names]
            if notes:
                cells.append(html.escape(row.get("error") or ""))
            if best:
                cells = [f"<b>{c}</b>" if c else c for c in cells]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p>best: {html.escape(str(self.best_params))} (in bold), validation accuracy "
            f"{_cell(self.best_val_accuracy)}</p>"
        )

    def __str__(self) -> str:
        if not self.table:
            return "(empty grid)"
        names = [k for k in self.table[0] if k not in ("error",)]
        rows = [[_cell(row.get(k)) for k in names] for row in self.table]
        widths = [max(len(n), *(len(r[i]) for r in rows)) for i, n in enumerate(names)]
        lines = ["  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True))]
        for row, cells in zip(self.table, rows, strict=True):
            mark = "  <- best" if _params_of(row, self.best_params) == self.best_params else ""
            note = f"  ({row['error']})" if row.get("error") else ""
            line = "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))
            lines.append(line + mark + note)
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _params_of(row: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in like}


def grid_search(
    Model: type,
    grid: dict[str, Sequence[Any]],
    X_train: Any,
    y_train: Any,
    X_val: Any,
    y_val: Any,
    *,
    progress: bool = False,
    **fixed: Any,
) -> GridSearchResult:
    """Train ``Model`` for every combination in ``grid``; pick the best on validation.

    ``Model`` is a class like ``tg.LinearSVM``; ``fixed`` keywords go to every model.
    Quiet by default, as scikit-learn's GridSearchCV is: ``progress=True`` shows one
    progress bar for the search (the models' own ``verbose`` bars stay off unless a
    fixed ``verbose=True`` turns them on). The best model is trained on the training
    split only (cs231n style: the validation split chooses, it never trains). Training
    is seeded, so the model the search trained with the best setting *is* the refit,
    and no second fit is needed. A setting whose training diverges gets NaN accuracy.

    >>> import numpy as np, tensorgraph as tg
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0]] * 4), np.array([0, 1] * 4)
    >>> result = grid_search(tg.LinearSVM, {"reg": [0.0, 0.1]}, X, y, X, y,
    ...                      epochs=5, progress=False)
    >>> result.best_params, len(result.table)
    ({'reg': 0.0}, 2)
    """
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid_search: grid must be a non-empty dict of lists, got {grid!r}")
    for name, values in grid.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(
                f"grid_search: grid[{name!r}] must be a non-empty list of values, got {values!r}"
            )
        if name in fixed:
            raise ValueError(f"grid_search: {name!r} is both in the grid and a fixed keyword")
    fixed.setdefault("verbose", False)
    names = list(grid)
    settings = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]

    bar = None
    if progress:
        from tqdm import tqdm  # lazily: the engine itself needs numpy alone

        bar = tqdm(total=len(settings), desc=f"grid search {Model.__name__}", unit="fit")
    table: list[dict[str, Any]] = []
    best: tuple[float, dict[str, Any], Any] | None = None
    try:
        for params in settings:
            try:
                model = Model(**fixed, **params)
            except TypeError as err:
                raise TypeError(
                    f"grid_search: {Model.__name__}(**{params}) failed: {err}"
                ) from None
            row: dict[str, Any] = dict(params)
            start = time.perf_counter()
            try:
                model.fit(X_train, y_train, X_val, y_val)
            except FloatingPointError as err:
                row.update(val_accuracy=math.nan, train_accuracy=math.nan)
                row.update(fit_seconds=time.perf_counter() - start, error=f"diverged: {err}")
                table.append(row)
                if bar is not None:
                    bar.update(1)
                continue
            seconds = time.perf_counter() - start
            val = model.score(X_val, y_val)
            row.update(val_accuracy=val, train_accuracy=model.score(X_train, y_train))
            row["fit_seconds"] = seconds
            table.append(row)
            if best is None or val > best[0]:
                best = (val, params, model)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(best_val=f"{best[0]:.4f}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    if best is None:
        raise FloatingPointError(
            f"grid_search: training diverged for every setting of {Model.__name__}; "
            "try smaller learning rates"
        )
    return GridSearchResult(table, dict(best[1]), best[2], best[0])
