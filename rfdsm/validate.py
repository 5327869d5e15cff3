"""Checks of user input: every public function of rfdsm rejects bad input with a ``ValueError`` naming the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np


def finite(name: str, value) -> float:
    """``value`` as a finite float; strings are refused (``float("1")`` would hide a wrong type)."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return number


def positive(name: str, value, *, allow_zero: bool = False) -> float:
    """``value`` as a float, which must be finite and ``> 0`` (``≥ 0`` with ``allow_zero``)."""
    number = finite(name, value)
    if number < 0 or (number == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: must be {bound}, got {value!r}")
    return number


def finite_array(name: str, value) -> np.ndarray:
    """``value`` as a non-empty float array of finite entries (strings refused, as in :func:`finite`)."""
    try:
        if np.asarray(value).dtype.kind in "US":
            raise TypeError
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers, got {value!r}") from None
    if array.size == 0:
        raise ValueError(f"{name}: expected at least one value")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite numbers, got {value!r}")
    return array


def positive_array(name: str, value, *, allow_zero: bool = False) -> np.ndarray:
    """``value`` as a float array whose entries are all finite and ``> 0`` (``≥ 0`` with ``allow_zero``)."""
    array = finite_array(name, value)
    if np.any(array < 0) or (not allow_zero and np.any(array == 0)):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: every value must be {bound}, got {value!r}")
    return array


def count(name: str, value, *, minimum: int = 1) -> int:
    """``value`` as an int ``≥ minimum`` (booleans and non-integral floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: must be ≥ {minimum}, got {value!r}")
    return int(value)


def noise_samples(m) -> float:
    """The number ``m`` of noise samples per data point: a positive integer, or ``math.inf``."""
    if isinstance(m, float) and math.isinf(m) and m > 0:
        return math.inf
    return count("m", m)
