"""Divergences between Gaussians and Gaussian mixtures, computed in log space.

Conventions
-----------
* A covariance is given either as a scalar ``v`` (meaning ``v I``), a 1-D array (a diagonal) or a
  symmetric ``d x d`` matrix.  All must be positive semi-definite.
* ``GaussianMixture(weights, means, cov)``: density ``sum_i w_i N(x; means[i], cov)``; every component
  shares one covariance (a Gaussian is the one-component case, see :func:`gaussian`).  This covers the
  Gaussian-kernel approximation ``(1/N) sum_i N(x_i, eps^2 I)`` of a sample set.
* ``kl(p, q) = E_p ln(p/q) = 1/2 [tr(S_q^{-1} S_p) + dmu^T S_q^{-1} dmu - d + ln det S_q - ln det S_p]``.
  A covariance with an eigenvalue below ``SINGULAR_RTOL * largest`` is treated as singular, and then the
  KL is ``math.inf`` in both directions (the two laws are mutually singular or the density blows up).
* ``hellinger2(p, q) = 1 - int sqrt(p q)``  (in ``[0, 1]``), with the Bhattacharyya coefficient
  ``det(S_p)^{1/4} det(S_q)^{1/4} det(S̄)^{-1/2} exp(-dmu^T S̄^{-1} dmu / 8)``, ``S̄ = (S_p + S_q)/2``.
* ``log_inner(p, q) = ln int p q``; for two mixtures ``int p q = sum_ij w_i v_j N(a_i - b_j; 0, S_p + S_q)``.
* ``l2sq(p, q) = int (p - q)^2 = <p,p> - 2 <p,q> + <q,q>``.  In high dimension each inner product is
  ``exp`` of hundreds; the difference is returned as a :class:`SignedLog` (sign and ``ln |value|``) built
  from the log inner products, so it never overflows; ``.value`` converts to float when it fits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

SINGULAR_RTOL = 1e-12
_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# covariances

def _as_cov(cov, d: int) -> np.ndarray:
    """Full ``d x d`` matrix from a scalar, a diagonal or a matrix; checks shape, symmetry, sign."""
    c = np.asarray(cov, dtype=float)
    if c.ndim == 0:
        c = float(c) * np.eye(d)
    elif c.ndim == 1:
        if c.shape[0] != d:
            raise ValueError(f"cov: diagonal has length {c.shape[0]}, expected {d}")
        c = np.diag(c)
    elif c.shape != (d, d):
        raise ValueError(f"cov: shape {c.shape}, expected ({d}, {d})")
    if not np.all(np.isfinite(c)):
        raise ValueError("cov: contains non-finite entries")
    if not np.allclose(c, c.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(c).max())):
        raise ValueError("cov: not symmetric")
    return 0.5 * (c + c.T)


def _eig_psd(c: np.ndarray):
    """Eigenvalues (clipped at 0) and eigenvectors of a PSD matrix; raises if not PSD."""
    e, u = np.linalg.eigh(c)
    scale = max(abs(e[-1]), 1e-300)
    if e[0] < -1e-9 * scale:
        raise ValueError(f"cov: not positive semi-definite (eigenvalue {e[0]:.3g})")
    return np.maximum(e, 0.0), u


def _is_singular(e: np.ndarray) -> bool:
    return bool(e.min() <= SINGULAR_RTOL * e.max())


# --------------------------------------------------------------------------------------------
# mixtures

@dataclass(frozen=True)
class GaussianMixture:
    """``sum_i weights[i] N(means[i], cov)`` with one shared covariance (``d x d`` after construction)."""

    weights: np.ndarray
    means: np.ndarray
    cov: np.ndarray

    def __post_init__(self):
        means = np.atleast_2d(np.asarray(self.means, dtype=float))
        w = np.atleast_1d(np.asarray(self.weights, dtype=float))
        if w.shape != (means.shape[0],):
            raise ValueError(f"weights: shape {w.shape}, expected ({means.shape[0]},)")
        if np.any(w < 0) or not np.isclose(w.sum(), 1.0, rtol=1e-10):
            raise ValueError("weights: must be non-negative and sum to 1")
        if not np.all(np.isfinite(means)):
            raise ValueError("means: contains non-finite entries")
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "weights", w)
        raw = np.asarray(self.cov, dtype=float)
        cov = _as_cov(raw, means.shape[1])
        if raw.ndim == 0:
            if not raw >= 0:
                raise ValueError(f"cov: variance must be >= 0, got {float(raw)}")
            iso, e, u = float(raw), np.full(means.shape[1], float(raw)), None
        elif raw.ndim == 1:
            if np.any(raw < 0):
                raise ValueError("cov: diagonal entries must be >= 0")
            iso, e, u = None, raw.copy(), np.eye(raw.size)
        else:
            iso = None
            e, u = _eig_psd(cov)
        object.__setattr__(self, "cov", cov)
        # the eigen-decomposition is reused by every divergence involving this law
        object.__setattr__(self, "_iso", iso)
        object.__setattr__(self, "_evals", e)
        object.__setattr__(self, "_evecs", u)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        return self.means.shape[0]


def gaussian(mean, cov) -> GaussianMixture:
    """The Gaussian ``N(mean, cov)`` as a one-component mixture."""
    mean = np.atleast_1d(np.asarray(mean, dtype=float))
    return GaussianMixture(np.ones(1), mean[None, :], cov)


def kernel_density(samples, eps: float) -> GaussianMixture:
    """Gaussian-kernel approximation ``(1/N) sum_i N(x_i, eps^2 I)`` of the rows of ``samples``."""
    x = np.atleast_2d(np.asarray(samples, dtype=float))
    if not eps > 0:
        raise ValueError(f"eps: must be positive, got {eps}")
    n = x.shape[0]
    return GaussianMixture(np.full(n, 1.0 / n), x, eps**2)


@numba.njit(cache=True)
def _pair_exponent(a, b, log_wa, log_wb, i, j):
    """``log_wa[i] + log_wb[j] - |a_i - b_j|^2 / 2``."""
    s = 0.0
    for k in range(a.shape[1]):
        diff = a[i, k] - b[j, k]
        s += diff * diff
    return log_wa[i] + log_wb[j] - 0.5 * s


@numba.njit(cache=True)
def _pair_logsumexp(a, b, log_wa, log_wb, same):
    """``ln sum_ij exp(log_wa[i] + log_wb[j] - |a_i - b_j|^2 / 2)`` (rows already whitened).

    ``same`` says ``a is b``: only ``i <= j`` is visited and off-diagonal terms are doubled.
    Two passes (max, then sum) keep every exponent <= 0.
    """
    na = a.shape[0]
    nb = b.shape[0]
    best = -np.inf
    for i in range(na):
        for j in range(i if same else 0, nb):
            best = max(best, _pair_exponent(a, b, log_wa, log_wb, i, j))
    if best == -np.inf:
        return best
    total = 0.0
    for i in range(na):
        for j in range(i if same else 0, nb):
            v = math.exp(_pair_exponent(a, b, log_wa, log_wb, i, j) - best)
            total += v if (not same or i == j) else 2.0 * v
    return best + math.log(total)


def _sum_eig(p: GaussianMixture, q: GaussianMixture):
    """Eigen-decomposition of ``S_p + S_q`` (``u = None`` means the identity), shifting a stored one if possible."""
    if p._iso is not None and q._iso is not None:
        return np.full(p.dim, p._iso + q._iso), None
    if q._iso is not None:
        return p._evals + q._iso, p._evecs
    if p._iso is not None:
        return q._evals + p._iso, q._evecs
    if p is q:
        return 2.0 * p._evals, p._evecs
    return _eig_psd(p.cov + q.cov)


def log_inner(p: GaussianMixture, q: GaussianMixture) -> float:
    """``ln int p(x) q(x) dx = ln sum_ij w_i v_j N(a_i - b_j; 0, S_p + S_q)``.

    The summed covariance is diagonalised once; the pairs are whitened and summed by log-sum-exp
    (Numba).  Raises ``ValueError`` if ``S_p + S_q`` is singular (the inner product is infinite).
    """
    if p.dim != q.dim:
        raise ValueError(f"q: dimension {q.dim} differs from p's {p.dim}")
    e, u = _sum_eig(p, q)
    if _is_singular(e):
        raise ValueError("p, q: S_p + S_q is singular, the L2 inner product is infinite")
    scale = 1.0 / np.sqrt(e)
    rot = (lambda x: x) if u is None else (lambda x: x @ u)
    a = rot(p.means) * scale
    same = p is q
    b = a if same else rot(q.means) * scale
    with np.errstate(divide="ignore"):
        lwa, lwb = np.log(p.weights), np.log(q.weights)
    s = _pair_logsumexp(np.ascontiguousarray(a), np.ascontiguousarray(b), lwa, lwb, same)
    return float(s - 0.5 * (p.dim * _LOG_2PI + np.sum(np.log(e))))


# --------------------------------------------------------------------------------------------
# signed sums in log space

@dataclass(frozen=True)
class SignedLog:
    """A real number stored as ``sign * exp(log_abs)`` (``sign`` in {-1, 0, 1})."""

    sign: int
    log_abs: float

    @property
    def value(self) -> float:
        """As a float; ``±inf`` if it overflows float64."""
        if self.sign == 0:
            return 0.0
        return self.sign * (math.exp(self.log_abs) if self.log_abs < 709.0 else math.inf)


def signed_logsumexp(logs, signs) -> SignedLog:
    """``sum_i signs[i] exp(logs[i])`` without overflow: factor out the largest term."""
    logs = np.asarray(logs, dtype=float)
    signs = np.asarray(signs, dtype=float)
    if not np.all(np.isfinite(logs)):
        raise ValueError("logs: must be finite")
    top = logs.max()
    total = float(np.sum(signs * np.exp(logs - top)))
    if total == 0.0:
        return SignedLog(0, -math.inf)
    return SignedLog(int(np.sign(total)), float(top + math.log(abs(total))))


def l2sq(p: GaussianMixture, q: GaussianMixture) -> SignedLog:
    """``int (p - q)^2 = <p,p> - 2<p,q> + <q,q>`` as a :class:`SignedLog` (always >= 0 up to rounding)."""
    lpp, lqq, lpq = log_inner(p, p), log_inner(q, q), log_inner(p, q)
    return signed_logsumexp([lpp, lqq, lpq + math.log(2.0)], [1.0, 1.0, -1.0])


# --------------------------------------------------------------------------------------------
# single Gaussians

def _single(p: GaussianMixture, name: str):
    if p.n_components != 1:
        raise ValueError(f"{name}: closed form needs a single Gaussian, got {p.n_components} components")
    return p.means[0], p.cov


def kl(p: GaussianMixture, q: GaussianMixture) -> float:
    """``KL(p || q)`` between two Gaussians (formula in the module docstring); ``math.inf`` if singular."""
    mp, sp = _single(p, "p")
    mq, sq = _single(q, "q")
    if mp.shape != mq.shape:
        raise ValueError(f"q: dimension {mq.shape[0]} differs from p's {mp.shape[0]}")
    ep, eq, uq = p._evals, q._evals, q._evecs
    if _is_singular(ep) or _is_singular(eq):
        return math.inf
    # S_q^{-1/2} in q's eigenbasis keeps the trace exact when S_q is ill-conditioned
    half = (np.eye(eq.size) if uq is None else uq) / np.sqrt(eq)
    m = half.T @ sp @ half
    dm = half.T @ (mq - mp)
    d = mp.shape[0]
    return float(0.5 * (np.trace(m) + dm @ dm - d + np.sum(np.log(eq)) - np.sum(np.log(ep))))


def hellinger2(p: GaussianMixture, q: GaussianMixture) -> float:
    """Squared Hellinger ``1 - int sqrt(p q)`` between two Gaussians (Bhattacharyya coefficient in logs)."""
    mp, sp = _single(p, "p")
    mq, sq = _single(q, "q")
    ep, eq = p._evals, q._evals
    sing_p, sing_q = _is_singular(ep), _is_singular(eq)
    if sing_p != sing_q:
        # a law carried by a Lebesgue-null set has zero affinity with a law that has a density
        return 1.0
    if sing_p and sing_q:
        if np.allclose(mp, mq) and np.allclose(sp, sq):
            return 0.0
        raise ValueError("p, q: both covariances singular; restrict them to their common support first")
    eb, ub = _sum_eig(p, q)
    eb = 0.5 * eb
    dm = (mp - mq) if ub is None else ub.T @ (mp - mq)
    log_bc = (0.25 * np.sum(np.log(ep)) + 0.25 * np.sum(np.log(eq)) - 0.5 * np.sum(np.log(eb))
              - 0.125 * np.sum(dm * dm / eb))
    return float(-np.expm1(log_bc))
