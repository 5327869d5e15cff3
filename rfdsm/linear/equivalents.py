"""Deterministic equivalents of the sample covariance, and spectral traces ``(1/d) tr(B f(C))``.

Convention: ``C = (1/n) Sigma^{1/2} Z Z^T Sigma^{1/2}``, ``Z`` a ``d x n`` matrix of i.i.d. ``N(0, 1)``
(no mean subtraction; the sample covariance about a *learned* mean is ``(n/N)`` times this with
``n = N - 1``, which :class:`SpectralContour` handles through ``scale``).  ``kappa`` below is the effective ridge
(:func:`effective_ridge`), not the activation constant of RF-DSM.  ``Sigma = diag(lambda)``
and ``B = diag(b)`` is any matrix diagonal in Sigma's eigenbasis (``I``, ``Sigma``, ``Sigma^{-1}``, ...).

For ``z = -shift`` off the spectrum,
    ``(C - z)^{-1}  ~  (kappa / (-z)) (Sigma + kappa)^{-1}``,
    ``kappa - (kappa / n) sum_nu lambda_nu / (lambda_nu + kappa) + z = 0``,
the branch with ``kappa ~ -z`` at infinity (for ``shift > 0`` the unique root ``kappa > shift``).
Hence ``(1/d) tr(B (C + shift)^{-1}) ~ (kappa/shift) S_B(kappa)``, ``S_B(kappa) = (1/d) sum b/(lambda + kappa)``,
and its ``shift``-derivative gives ``(1/d) tr(B (C + shift)^{-2})``
(``dkappa/dshift = 1/(1 - (1/n) sum lambda^2/(lambda+kappa)^2)``).
When ``n < d``, ``C`` has an atom at 0 of weight ``(1/d) tr(B 1_{C=0}) ~ kappa_0 S_B(kappa_0)``, where
``(1/n) sum lambda/(lambda + kappa_0) = 1``.

For a function ``f`` analytic in the sector ``|arg z| <= half_angle`` (where every ``f`` of this package is: their
poles lie on the negative axis), Cauchy's formula gives
    ``(1/d) tr(B f(C)) ~ atom_B f(0) + (1/(2 pi i)) oint f(z) kappa(z) S_B(kappa(z)) d(ln z)``
on a contour around the positive spectrum; it is a rectangle in ``w = ln z`` (``|Im w| <= half_angle``), integrated
by composite Gauss-Legendre, and ``kappa`` is followed along it by Newton continuation.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from ..validate import count, finite_array, positive, positive_array
from .chain import check_spectrum


def _diagonal(b, d: int) -> np.ndarray:
    """The diagonal ``b`` of ``B`` in Sigma's eigenbasis (default ``I``): ``d`` finite numbers."""
    if b is None:
        return np.ones(d)
    b = finite_array("b", b)
    if b.shape != (d,):
        raise ValueError(f"b: shape {b.shape}, expected the spectrum's ({d},)")
    return b


def effective_ridge_at_zero(spectrum, n) -> float:
    """Root ``kappa_0`` of ``(1/n) sum lambda/(lambda + kappa_0) = 1`` for ``n < d`` (0 when ``n >= d``)."""
    eigenvalues = check_spectrum(spectrum)
    n = positive("n", n)
    if n >= eigenvalues.size:
        return 0.0
    lo, hi = 0.0, eigenvalues.sum() / n
    for _ in range(200):  # bisection: the left side decreases in kappa
        mid = 0.5 * (lo + hi)
        if np.sum(eigenvalues / (eigenvalues + mid)) > n:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            return 0.5 * (lo + hi)
    raise RuntimeError("effective_ridge_at_zero: bisection did not converge")


def effective_ridge(shift, spectrum, n) -> np.ndarray:
    """``kappa(shift)``, root of ``kappa - (kappa/n) sum lambda/(lambda + kappa) = shift`` for ``shift > 0`` (array),
    by bisection on ``[max(shift, kappa_0), shift + tr Sigma/n]``."""
    eigenvalues = check_spectrum(spectrum)
    n = positive("n", n)
    shift = positive_array("shift", shift)
    flat = shift.reshape(-1, 1)
    lo = np.maximum(flat, effective_ridge_at_zero(eigenvalues, n))
    hi = flat + eigenvalues.sum() / n
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        value = mid * (1.0 - np.sum(eigenvalues / (eigenvalues + mid), axis=1, keepdims=True) / n)
        above = value > flat
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
        if np.all(hi - lo <= 4e-16 * hi):
            return (0.5 * (lo + hi)).reshape(shift.shape)
    raise RuntimeError("effective_ridge: bisection did not converge")


def resolvent_traces(shift, spectrum, n, b=None):
    """``((1/d) tr(B (C+shift)^{-1}), (1/d) tr(B (C+shift)^{-2}))`` from the deterministic equivalent.

    ``b`` is the diagonal of ``B`` in Sigma's eigenbasis (default ``I``).  Broadcasts over ``shift``.
    """
    eigenvalues = check_spectrum(spectrum)
    n = positive("n", n)
    d = eigenvalues.size
    b = _diagonal(b, d)
    shift = positive_array("shift", shift)
    k = effective_ridge(shift, eigenvalues, n)[..., None]
    z = shift[..., None]
    sb = np.sum(b / (eigenvalues + k), axis=-1, keepdims=True) / d
    sb1 = -np.sum(b / (eigenvalues + k) ** 2, axis=-1, keepdims=True) / d
    dk = 1.0 / (1.0 - np.sum(eigenvalues**2 / (eigenvalues + k) ** 2, axis=-1, keepdims=True) / n)
    r1 = k / z * sb
    r2 = -((dk / z - k / z**2) * sb + k / z * sb1 * dk)
    return r1[..., 0], r2[..., 0]


@numba.njit(cache=True)
def _continue_ridge(z, lam, n, k_start):
    """Newton continuation of ``kappa - (kappa/n) sum lam/(lam+kappa) + z = 0`` along the nodes ``z``."""
    out = np.empty(z.size, dtype=np.complex128)
    k = k_start
    for j in range(z.size):
        ok = False
        for _ in range(100):
            s1 = 0.0 + 0.0j
            s2 = 0.0 + 0.0j
            for lv in lam:
                r = lv / (lv + k)
                s1 += r
                s2 += r * r
            f = k - k * s1 / n + z[j]
            df = 1.0 - s2 / n
            step = f / df
            k = k - step
            # quadratic convergence: once the step is 1e-9 relative the iterate is at rounding level,
            # and a fixed 1e-14 target can be out of reach of rounding noise in the d-term sums
            if ok:
                break
            ok = abs(step) <= 1e-9 * abs(k)
        if not ok:
            return out, j
        out[j] = k
    return out, -1


class SpectralContour:
    """Quadrature for ``(1/d) tr(B f(C))`` with ``C`` = ``scale`` times the standard form with ``n`` samples.

    ``z`` holds the contour nodes (already multiplied by ``scale``) where the caller evaluates ``f``;
    :meth:`trace` turns those values into the trace.  Only the upper half of the contour is stored
    (``f`` real on the real axis makes the lower half the mirror image).
    """

    def __init__(self, spectrum, n, scale: float = 1.0, half_angle: float = 0.5, nodes_per_panel: int = 24):
        lam = check_spectrum(spectrum)
        self.n = positive("n", n)
        scale = positive("scale", scale)
        h = positive("half_angle", half_angle)
        if not h < math.pi / 2:
            raise ValueError(f"half_angle: must be in (0, pi/2), got {half_angle}")
        nodes_per_panel = count("nodes_per_panel", nodes_per_panel)
        d = lam.size
        r = math.sqrt(d / self.n)
        if abs(r - 1.0) < 1e-9:
            raise ValueError("n: the deterministic-equivalent contour needs n != d (hard edge at 0)")
        self.eigenvalues, self.d, self.scale = lam, d, scale
        # the positive spectrum lies in [lam_min (1 - r)^2, lam_max (1 + r)^2]; leave a factor 2 margin
        u_lo = math.log(0.5 * lam.min() * (1.0 - r) ** 2)
        u_hi = math.log(2.0 * lam.max() * (1.0 + r) ** 2)
        xg, wg = np.polynomial.legendre.leggauss(nodes_per_panel)
        pieces_w, pieces_dw = [], []

        def segment(a, b):
            m = max(1, math.ceil(abs(b - a) / (0.5 * h)))
            edges = np.linspace(0.0, 1.0, m + 1)
            for e0, e1 in zip(edges[:-1], edges[1:]):
                tt = e0 + (e1 - e0) * (xg + 1) / 2
                pieces_w.append(a + (b - a) * tt)
                pieces_dw.append((b - a) * (e1 - e0) / 2 * wg)

        segment(complex(u_hi, 0), complex(u_hi, h))
        segment(complex(u_hi, h), complex(u_lo, h))
        segment(complex(u_lo, h), complex(u_lo, 0))
        # Gauss nodes avoid the end points: append the real crossing at u_lo to check the branch there
        w = np.concatenate(pieces_w + [np.array([complex(u_lo, 0)])])
        self._dw = np.concatenate(pieces_dw)
        zs = np.exp(w)  # nodes of the standard-form C
        k_init = self._real_kappa_right(math.exp(u_hi))
        ks, fail = _continue_ridge(zs, lam, self.n, complex(k_init))
        if fail >= 0:
            raise RuntimeError(f"SpectralContour: Newton continuation failed at node {fail}")
        m = -(ks / zs) * np.mean(1.0 / (lam[None, :] + ks[:, None]), axis=1)
        if np.any(m[:-1].imag <= 0):
            raise RuntimeError("SpectralContour: continuation left the physical branch (Im m <= 0)")
        if abs(ks[-1].imag) > 1e-8 * abs(ks[-1]):
            raise RuntimeError("SpectralContour: kappa not real where the contour recrosses the axis")
        self.effective_ridge = ks[:-1]
        self.z = self.scale * zs[:-1]
        self.ridge_at_zero = effective_ridge_at_zero(lam, self.n)
        self.atom = max(0.0, 1.0 - self.n / d)

    def _real_kappa_right(self, x):
        """Real root with ``kappa ~ -x`` for real ``x`` right of the spectrum (Newton from the asymptote)."""
        lam, n = self.eigenvalues, self.n
        k = -x + lam.sum() / n
        for _ in range(200):
            r = lam / (lam + k)
            step = (k - k * r.sum() / n + x) / (1.0 - np.sum(r * r) / n)
            k -= step
            if abs(step) <= 1e-15 * abs(k):
                return k
        raise RuntimeError("SpectralContour: no real kappa right of the spectrum")

    def weights(self, b=None) -> np.ndarray:
        """Complex weights ``omega_j`` with ``(1/d) tr(B f(C)) = Im(sum_j omega_j f(z_j)) / pi + atom``."""
        b = _diagonal(b, self.d)
        sb = np.mean(b[None, :] / (self.eigenvalues[None, :] + self.effective_ridge[:, None]), axis=1)
        return self._dw * self.effective_ridge * sb

    def atom_weight(self, b=None) -> float:
        """``(1/d) tr(B 1_{C=0})``: ``kappa_0 S_B(kappa_0)`` for ``n < d``, else 0."""
        if self.atom == 0.0:
            return 0.0
        b = _diagonal(b, self.d)
        return float(self.ridge_at_zero * np.mean(b / (self.eigenvalues + self.ridge_at_zero)))

    def trace(self, fz, f0=None, b=None) -> np.ndarray:
        """``(1/d) tr(B f(C))`` from values ``fz = f(self.z)`` (last axis = nodes) and ``f0 = f(0)``.

        ``f0`` is needed only when ``C`` has an atom at 0 (``n < d``); an infinite ``f0`` with a positive
        atom weight gives ``±inf``.
        """
        fz = np.asarray(fz)
        val = np.imag(fz @ self.weights(b)) / math.pi
        aw = self.atom_weight(b)
        if aw > 0:
            if f0 is None:
                raise ValueError("f0: C has an atom at 0 (n < d); give f(0)")
            val = val + aw * np.asarray(f0)
        return val
