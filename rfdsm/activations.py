"""The generated activation modules (``generated/activations/<name>.py``), found by name.

Each module provides ``rho`` (a Numba ufunc), ``moments(q)``, ``kernel(gamma, q1, q2)``, for quadrature activations
``hermite(q, K)``, and ``Q_MIN, Q_MAX``: the certified range of ``q``, outside which its functions raise
``ValueError``; see ``derive/activation_code.py``.
"""

from __future__ import annotations

import importlib
import keyword
from functools import cache
from pathlib import Path
from types import ModuleType

import generated.activations

_FOLDER = Path(generated.activations.__file__).parent


def available() -> list[str]:
    """Names of the activations that have a generated module."""
    return sorted(p.stem for p in _FOLDER.glob("*.py") if not p.stem.startswith("_"))


@cache
def load(activation: str) -> ModuleType:
    """The generated module of ``activation``; a ``ValueError`` that gives the command to generate a missing one."""
    if not isinstance(activation, str):
        raise ValueError(f"activation: expected the name of an activation, got {activation!r}")
    if not activation.isidentifier() or keyword.iskeyword(activation):
        raise ValueError(
            f"activation: {activation!r} is not the name of a generated activation; to add an expression, run\n"
            f"    python -m derive --activation '{activation}' --name NAME\n"
            f"and then use NAME (available: {', '.join(available())})"
        )
    if activation not in available():
        raise ValueError(
            f"activation: no generated module for {activation!r} (available: {', '.join(available())}); generate it with\n"
            f"    python -m derive --activation '<SymPy expression in x>' --name {activation}"
        )
    return importlib.import_module(f"generated.activations.{activation}")
