"""Checks of user input: every public function of rfdsm rejects bad input with a ``ValueError`` naming the argument."""

from __future__ import annotations

import math
import numbers

import numpy as np


def _numeric(name: str, value) -> np.ndarray:
    """``value`` as a float array, refusing what NumPy would convert silently: strings, booleans, complex numbers."""
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested sequences
        array = None
    if array is None or array.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected real numbers, got {value!r}")
    return array.astype(float)


def finite(name: str, value) -> float:
    """``value`` as a finite float, of any sign."""
    array = _numeric(name, value)
    if array.ndim or not math.isfinite(float(array)):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return float(array)


def finite_array(name: str, value) -> np.ndarray:
    """``value`` as a non-empty float array of finite entries, of any sign."""
    array = _numeric(name, value)
    if array.size == 0:
        raise ValueError(f"{name}: expected at least one value")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite numbers, got {value!r}")
    return array


def positive(name: str, value, *, allow_zero: bool = False) -> float:
    """``value`` as a float, which must be finite and ``> 0`` (``≥ 0`` with ``allow_zero``)."""
    array = _numeric(name, value)
    if array.ndim:
        raise ValueError(f"{name}: expected a number, got {value!r}")
    number = float(array)
    if not math.isfinite(number):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if number < 0 or (number == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: must be {bound}, got {value!r}")
    return number


def positive_array(name: str, value, *, allow_zero: bool = False) -> np.ndarray:
    """``value`` as a float array whose entries are all finite and ``> 0`` (``≥ 0`` with ``allow_zero``)."""
    array = finite_array(name, value)
    if np.any(array < 0) or (not allow_zero and np.any(array == 0)):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: every value must be {bound}, got {value!r}")
    return array


#: Largest integer accepted as a count: beyond 2^53 doubles no longer hold every integer (use ``math.inf`` for m).
MAX_COUNT = 2**53


def count(name: str, value, *, minimum: int = 1) -> int:
    """``value`` as an int ``≥ minimum`` (booleans and non-integral floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        value = int(value)
    elif not (math.isfinite(value) and float(value).is_integer()):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if value > MAX_COUNT:
        raise ValueError(f"{name}: must be ≤ {MAX_COUNT} (2^53, exact in double precision), got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: must be ≥ {minimum}, got {value!r}")
    return int(value)


def noise_samples(m) -> float:
    """The number ``m`` of noise samples per data point: a positive integer, or ``math.inf``."""
    if isinstance(m, float) and math.isinf(m) and m > 0:
        return math.inf
    return count("m", m)
