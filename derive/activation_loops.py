"""What every generated activation module ends with, appended verbatim (below the marker): the checks of the
pre-activation variance and of the correlation, and the loops of the simulator over arrays of variances.

The module defines ``moments``, ``kernel``, ``Q_MIN``, ``Q_MAX`` and ``Q_ERROR``. The loops live in each module,
calling its own functions as globals, because Numba caches no function that takes compiled functions as arguments:
a generic loop in rfdsm/ would recompile in every process.
"""
# ruff: noqa: F821 -- moments, kernel and the Q_ names are defined by the generated module this text is appended to.

import numba
import numpy as np

# --- emitted below ---


@numba.njit(cache=True)
def check_q(q):
    """Raise ``ValueError(Q_ERROR)`` unless ``Q_MIN ≤ q ≤ Q_MAX`` (NaN included)."""
    if not Q_MIN <= q <= Q_MAX:
        raise ValueError(Q_ERROR)


@numba.njit(cache=True)
def check_gamma(gamma):
    """Raise ``ValueError`` unless ``|γ| ≤ 1`` up to round-off (NaN included); the kernels clip γ to [−1, 1]."""
    if not abs(gamma) <= 1.0 + 1e-12:
        raise ValueError("gamma: a correlation must lie in [-1, 1]")


@numba.njit(cache=True)
def row_moments(q):
    """moments(q_k) for every entry q_k of the array q, as the three rows of a (3, q.size) array."""
    out = np.empty((3, q.size))
    for k in range(q.size):
        out[0, k], out[1, k], out[2, k] = moments(q[k])
    return out


# Serial on purpose: a Numba (OpenMP) parallel region leaves spinning threads that slow the BLAS call after it by more
# than it saves (2 cores, ReLU at p = 1000: −2 ms in the loop, +4 to 6 ms in the SYRK that follows).
@numba.njit(cache=True)
def kernel_upper(q, gamma, out):
    """out[k, l] = kernel(gamma[k, l], q[k], q[l]) for k < l: the strict upper triangle, column by column (contiguous
    in Fortran order)."""
    for l in range(q.size):
        for k in range(l):
            out[k, l] = kernel(gamma[k, l], q[k], q[l])
