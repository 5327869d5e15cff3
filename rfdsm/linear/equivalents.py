"""Deterministic equivalents of the sample covariance, and spectral traces ``(1/d) tr(B f(C))``.

Convention: ``C = (1/n) Sigma^{1/2} Z Z^T Sigma^{1/2}``, ``Z`` a ``d x n`` matrix of i.i.d. ``N(0, 1)``
(no mean subtraction; the sample covariance about a *learned* mean is ``(n/N)`` times this with
``n = N - 1``, which :class:`SpectralContour` handles through ``scale``).  ``Sigma = diag(lambda)``
and ``B = diag(b)`` is any matrix diagonal in Sigma's eigenbasis (``I``, ``Sigma``, ``Sigma^{-1}``, ...).

For ``z`` off the spectrum,
    ``(C - z)^{-1}  ~  (kappa / (-z)) (Sigma + kappa)^{-1}``,
    ``kappa - (kappa / n) sum_nu lambda_nu / (lambda_nu + kappa) + z = 0``,
the branch with ``kappa ~ -z`` at infinity (for ``z = -zeta < 0`` the unique root ``kappa > zeta``).
Hence ``(1/d) tr(B (C + zeta)^{-1}) ~ (kappa/zeta) S_B(kappa)``, ``S_B(kappa) = (1/d) sum b/(lambda + kappa)``,
and its ``zeta``-derivative gives ``(1/d) tr(B (C + zeta)^{-2})`` (``dkappa/dzeta = 1/(1 - (1/n) sum lambda^2/(lambda+kappa)^2)``).
When ``n < d``, ``C`` has an atom at 0 of weight ``(1/d) tr(B 1_{C=0}) ~ kappa_0 S_B(kappa_0)``, where
``(1/n) sum lambda/(lambda + kappa_0) = 1``.

For a function ``f`` analytic in the sector ``|arg z| <= h`` (where every ``f`` of this package is: their
poles lie on the negative axis), Cauchy's formula gives
    ``(1/d) tr(B f(C)) ~ atom_B f(0) + (1/(2 pi i)) oint f(z) kappa(z) S_B(kappa(z)) d(ln z)``
on a contour around the positive spectrum; it is a rectangle in ``w = ln z`` (``|Im w| <= h``), integrated
by composite Gauss-Legendre, and ``kappa`` is followed along it by Newton continuation.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .chain import check_spectrum


def _check_n(n):
    if not n > 0:
        raise ValueError(f"n: number of samples must be > 0, got {n}")
    return float(n)


def kappa0(spectrum, n) -> float:
    """Root of ``(1/n) sum lambda/(lambda + kappa0) = 1`` for ``n < d`` (0 when ``n >= d``)."""
    lam = check_spectrum(spectrum)
    n = _check_n(n)
    if n >= lam.size:
        return 0.0
    lo, hi = 0.0, lam.sum() / n
    for _ in range(200):  # bisection: the left side decreases in kappa
        mid = 0.5 * (lo + hi)
        if np.sum(lam / (lam + mid)) > n:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            return 0.5 * (lo + hi)
    raise RuntimeError("kappa0: bisection did not converge")


def kappa(zeta, spectrum, n) -> np.ndarray:
    """``kappa(zeta)`` for ``z = -zeta``, ``zeta > 0`` (array), by bisection on ``[max(zeta, kappa0), zeta + tr Sigma/n]``."""
    lam = check_spectrum(spectrum)
    n = _check_n(n)
    zeta = np.asarray(zeta, dtype=float)
    if np.any(~(zeta > 0)):
        raise ValueError("zeta: must be > 0")
    flat = zeta.reshape(-1, 1)
    lo = np.maximum(flat, kappa0(lam, n))
    hi = flat + lam.sum() / n
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        h = mid * (1.0 - np.sum(lam / (lam + mid), axis=1, keepdims=True) / n)
        above = h > flat
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
        if np.all(hi - lo <= 4e-16 * hi):
            return (0.5 * (lo + hi)).reshape(zeta.shape)
    raise RuntimeError("kappa: bisection did not converge")


def resolvent_traces(zeta, spectrum, n, b=None):
    """``((1/d) tr(B (C+zeta)^{-1}), (1/d) tr(B (C+zeta)^{-2}))`` from the deterministic equivalent.

    ``b`` is the diagonal of ``B`` in Sigma's eigenbasis (default ``I``).  Broadcasts over ``zeta``.
    """
    lam = check_spectrum(spectrum)
    n = _check_n(n)
    b = np.ones_like(lam) if b is None else np.asarray(b, float)
    zeta = np.asarray(zeta, float)
    k = kappa(zeta, lam, n)[..., None]
    z = zeta[..., None]
    d = lam.size
    sb = np.sum(b / (lam + k), axis=-1, keepdims=True) / d
    sb1 = -np.sum(b / (lam + k) ** 2, axis=-1, keepdims=True) / d
    dk = 1.0 / (1.0 - np.sum(lam**2 / (lam + k) ** 2, axis=-1, keepdims=True) / n)
    r1 = k / z * sb
    r2 = -((dk / z - k / z**2) * sb + k / z * sb1 * dk)
    return r1[..., 0], r2[..., 0]


@numba.njit(cache=True)
def _continue_kappa(z, lam, n, k_start):
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

    def __init__(self, spectrum, n, scale: float = 1.0, h: float = 0.5, nodes_per_panel: int = 24):
        lam = check_spectrum(spectrum)
        self.n = _check_n(n)
        if not scale > 0:
            raise ValueError(f"scale: must be > 0, got {scale}")
        if not 0 < h < math.pi / 2:
            raise ValueError(f"h: contour half-angle must be in (0, pi/2), got {h}")
        d = lam.size
        r = math.sqrt(d / self.n)
        if abs(r - 1.0) < 1e-9:
            raise ValueError("n: the deterministic-equivalent contour needs n != d (hard edge at 0)")
        self.lam, self.d, self.scale = lam, d, float(scale)
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
        ks, fail = _continue_kappa(zs, lam, self.n, complex(k_init))
        if fail >= 0:
            raise RuntimeError(f"SpectralContour: Newton continuation failed at node {fail}")
        m = -(ks / zs) * np.mean(1.0 / (lam[None, :] + ks[:, None]), axis=1)
        if np.any(m[:-1].imag <= 0):
            raise RuntimeError("SpectralContour: continuation left the physical branch (Im m <= 0)")
        if abs(ks[-1].imag) > 1e-8 * abs(ks[-1]):
            raise RuntimeError("SpectralContour: kappa not real where the contour recrosses the axis")
        self.kappa = ks[:-1]
        self.z = self.scale * zs[:-1]
        self.kappa0 = kappa0(lam, self.n)
        self.atom = max(0.0, 1.0 - self.n / d)

    def _real_kappa_right(self, x):
        """Real root with ``kappa ~ -x`` for real ``x`` right of the spectrum (Newton from the asymptote)."""
        lam, n = self.lam, self.n
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
        b = np.ones(self.d) if b is None else np.asarray(b, float)
        sb = np.mean(b[None, :] / (self.lam[None, :] + self.kappa[:, None]), axis=1)
        return self._dw * self.kappa * sb

    def atom_weight(self, b=None) -> float:
        """``(1/d) tr(B 1_{C=0})``: ``kappa0 S_B(kappa0)`` for ``n < d``, else 0."""
        if self.atom == 0.0:
            return 0.0
        b = np.ones(self.d) if b is None else np.asarray(b, float)
        return float(self.kappa0 * np.mean(b / (self.lam + self.kappa0)))

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
