"""The docs the engine generates, and the examples in its docstrings."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import tensorgraph as tg

ROOT = Path(__file__).resolve().parent.parent


def test_derivative_doc_is_up_to_date() -> None:
    text = (ROOT / "docs" / "derivatives.md").read_text(encoding="utf-8")
    assert text == tg.ops.derivative_doc(), (
        "docs/derivatives.md is out of date; regenerate it with `python3 dev.py docs`"
    )


def test_derivative_table_has_one_row_per_op() -> None:
    rows = [line for line in tg.derivative_table().splitlines() if line.startswith("| ")][1:]
    names = [row.split("|")[1].strip() for row in rows]
    assert names == list(tg.OPS)
    for name, info in tg.OPS.items():
        assert info.local.strip(), f"{name} has no local gradient in the registry"
        assert f"| {name} | `{info.example()}` | `{info.symbol}` | {info.local} |" in (
            tg.derivative_table()
        )


def test_derivative_doc_starts_with_its_header() -> None:
    doc = tg.ops.derivative_doc()
    assert doc.startswith("# Derivative table\n\n")
    assert doc.endswith(tg.derivative_table())


ENGINE = [
    "tensorgraph.tensor",
    "tensorgraph.creation",
    "tensorgraph.ops",
    "tensorgraph.registry",
    "tensorgraph.modes",
    "tensorgraph.inplace",
]


@pytest.mark.parametrize("module", ["tensorgraph", *ENGINE])
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{module} has no doctest"
    assert result.failed == 0, f"{result.failed} doctest(s) of {module} failed (output above)"


@pytest.mark.parametrize("module", ENGINE)
def test_public_functions_have_an_example(module: str) -> None:
    mod = importlib.import_module(module)
    missing = []
    for name in getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]:
        obj = getattr(mod, name)
        mine = callable(obj) and getattr(obj, "__module__", None) == module
        if mine and ">>>" not in (obj.__doc__ or ""):
            missing.append(name)
    assert not missing, f"public functions of {module} without a >>> example: {missing}"
