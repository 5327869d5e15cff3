"""Divergences between Gaussians and Gaussian mixtures: KL, squared Hellinger, squared L2, in log space.

Conventions
-----------
* A covariance is given either as ``cov``: a scalar ``v`` (meaning ``v I``), a 1-D array (a diagonal) or a
  symmetric positive semi-definite ``d x d`` matrix; or as a ``factor`` ``F`` with ``S = F F^T``.
* ``GaussianMixture(weights, means, cov)``: density ``sum_i w_i N(x; means[i], S)``; every component shares one
  covariance (a Gaussian is the one-component case, :func:`gaussian`).  This covers the Gaussian-kernel
  approximation ``(1/N) sum_i N(x_i, eps^2 I)`` of a sample set (:func:`kernel_density`).
* Singular covariance (the rank rule of ``numpy.linalg.matrix_rank``, applied to the matrix the covariance was
  given as): ``S`` is singular when its smallest eigenvalue is ``<= d eps`` times its largest (``eps`` = 2.2e-16,
  machine epsilon); ``S = F F^T`` is singular when the smallest singular value of ``F`` is ``<= max(F.shape) eps``
  times its largest.  The singular values of ``F`` are accurate to ``eps |F|``, the eigenvalues of ``F F^T`` only
  to ``eps |F|^2``: giving the factor resolves covariances whose condition number is the square.  A singular law
  has no density: its KL is ``math.inf`` in both directions and its L2 inner product with itself is infinite.
* ``kl(p, q) = E_p ln(p/q) = 1/2 [tr(S_q^{-1} S_p) + dmu^T S_q^{-1} dmu - d + ln det S_q - ln det S_p]`` (nats).
* ``hellinger2(p, q) = 1 - int sqrt(p q)`` (in ``[0, 1]``), with the Bhattacharyya coefficient
  ``det(S_p)^{1/4} det(S_q)^{1/4} det(S̄)^{-1/2} exp(-dmu^T S̄^{-1} dmu / 8)``, ``S̄ = (S_p + S_q)/2``.
* ``log_inner(p, q) = ln int p q``; for two mixtures ``int p q = sum_ij w_i v_j N(a_i - b_j; 0, S_p + S_q)``.
* ``l2sq(p, q) = int (p - q)^2 = <p,p> - 2 <p,q> + <q,q>``.  In high dimension each inner product is ``exp``
  of hundreds; the difference is returned as a :class:`SignedLog` (sign and ``ln |value|``) built from the log
  inner products, so it never overflows; ``.value`` converts to float when it fits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from scipy.special import logsumexp

from .validate import finite_array, positive

_EPS = float(np.finfo(float).eps)
_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# covariances

def _rank_deficient(values: np.ndarray, size: int) -> bool:
    """``numpy.linalg.matrix_rank``'s rule on non-negative singular values (or PSD eigenvalues) of a matrix."""
    top = float(values.max())
    return top == 0.0 or float(values.min()) <= size * _EPS * top


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


# --------------------------------------------------------------------------------------------
# mixtures

class GaussianMixture:
    """``sum_i weights[i] N(means[i], S)`` with one shared covariance ``S``, given as ``cov`` or as ``factor``.

    ``cov`` (``d x d`` after construction) and ``singular`` (the rank rule of the module docstring) are public;
    the eigen-decomposition of ``S`` is kept for every divergence that involves this law.
    """

    def __init__(self, weights, means, cov=None, *, factor=None):
        means = np.atleast_2d(finite_array("means", means))
        w = np.atleast_1d(np.asarray(weights, dtype=float))
        if w.shape != (means.shape[0],):
            raise ValueError(f"weights: shape {w.shape}, expected ({means.shape[0]},)")
        if np.any(w < 0) or not np.isclose(w.sum(), 1.0, rtol=1e-10):
            raise ValueError("weights: must be non-negative and sum to 1")
        d = means.shape[1]
        self.weights, self.means = w, means
        self._iso = None
        if (cov is None) == (factor is None):
            raise ValueError("cov: give exactly one of cov and factor")
        if factor is not None:
            f = finite_array("factor", factor)
            if f.ndim != 2 or f.shape[0] != d:
                raise ValueError(f"factor: shape {f.shape}, expected ({d}, k)")
            u, s, _ = np.linalg.svd(f, full_matrices=True)
            e = np.zeros(d)
            e[:s.size] = s[:d] ** 2
            self.cov, self._evals, self._evecs = f @ f.T, e, u
            self.singular = f.shape[1] < d or _rank_deficient(s, max(f.shape))
            return
        raw = np.asarray(cov, dtype=float)
        self.cov = _as_cov(raw, d)
        if raw.ndim == 0:
            self._iso = positive("cov", raw, allow_zero=True)
            self._evals, self._evecs = np.full(d, self._iso), None
        elif raw.ndim == 1:
            if np.any(raw < 0):
                raise ValueError("cov: diagonal entries must be >= 0")
            self._evals, self._evecs = raw.copy(), np.eye(d)
        else:
            self._evals, self._evecs = _eig_psd(self.cov)
        self.singular = _rank_deficient(self._evals, d)

    def __repr__(self) -> str:
        return f"GaussianMixture(dim={self.dim}, n_components={self.n_components}, singular={self.singular})"

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        return self.means.shape[0]


def gaussian(mean, cov=None, *, factor=None) -> GaussianMixture:
    """The Gaussian ``N(mean, S)`` as a one-component mixture; ``S = cov``, or ``S = factor factor^T``."""
    mean = np.atleast_1d(np.asarray(mean, dtype=float))
    return GaussianMixture(np.ones(1), mean[None, :], cov, factor=factor)


def kernel_density(samples, eps: float) -> GaussianMixture:
    """Gaussian-kernel approximation ``(1/N) sum_i N(x_i, eps^2 I)`` of the rows of ``samples``."""
    x = np.atleast_2d(finite_array("samples", samples))
    eps = positive("eps", eps)
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
def _pair_logsumexp(a, b, log_wa, log_wb, same, diagonal):
    """``ln sum_ij exp(log_wa[i] + log_wb[j] - |a_i - b_j|^2 / 2)`` (rows already whitened).

    ``same`` says ``a is b``: only ``i <= j`` is visited and off-diagonal terms are doubled; ``diagonal=False``
    (with ``same``) leaves out ``i = j``.  Two passes (max, then sum) keep every exponent <= 0.
    """
    na = a.shape[0]
    nb = b.shape[0]
    skip = 0 if diagonal else 1
    best = -np.inf
    for i in range(na):
        for j in range(i + skip if same else 0, nb):
            best = max(best, _pair_exponent(a, b, log_wa, log_wb, i, j))
    if best == -np.inf:
        return best
    total = 0.0
    for i in range(na):
        for j in range(i + skip if same else 0, nb):
            v = math.exp(_pair_exponent(a, b, log_wa, log_wb, i, j) - best)
            total += v if (not same or i == j) else 2.0 * v
    return best + math.log(total)


def _sum_eig(p: GaussianMixture, q: GaussianMixture):
    """Eigen-decomposition of ``S_p + S_q`` (``u = None`` means the identity) and whether the sum is singular."""
    if p is q:
        return 2.0 * p._evals, p._evecs, p.singular
    if p._iso is not None and q._iso is not None:
        e, u = np.full(p.dim, p._iso + q._iso), None
    elif q._iso is not None:
        e, u = p._evals + q._iso, p._evecs
    elif p._iso is not None:
        e, u = q._evals + p._iso, q._evecs
    else:
        e, u = _eig_psd(p.cov + q.cov)
    return e, u, _rank_deficient(e, p.dim)


def _log_pairs(p: GaussianMixture, q: GaussianMixture, diagonal: bool) -> float:
    if p.dim != q.dim:
        raise ValueError(f"q: dimension {q.dim} differs from p's {p.dim}")
    e, u, singular = _sum_eig(p, q)
    if singular:
        raise ValueError("p, q: S_p + S_q is singular, the L2 inner product is infinite")
    scale = 1.0 / np.sqrt(e)
    a = (p.means if u is None else p.means @ u) * scale
    same = p is q
    b = a if same else (q.means if u is None else q.means @ u) * scale
    with np.errstate(divide="ignore"):
        lwa, lwb = np.log(p.weights), np.log(q.weights)
    s = _pair_logsumexp(np.ascontiguousarray(a), np.ascontiguousarray(b), lwa, lwb, same, diagonal)
    return float(s - 0.5 * (p.dim * _LOG_2PI + np.sum(np.log(e))))


def log_inner(p: GaussianMixture, q: GaussianMixture) -> float:
    """``ln int p(x) q(x) dx = ln sum_ij w_i v_j N(a_i - b_j; 0, S_p + S_q)``.

    The summed covariance is diagonalised once; the pairs are whitened and summed by log-sum-exp (Numba).
    Raises ``ValueError`` if ``S_p + S_q`` is singular (the inner product is infinite).
    """
    return _log_pairs(p, q, diagonal=True)


def log_inner_off_diagonal(p: GaussianMixture) -> float:
    """``ln sum_{i != j} w_i w_j N(a_i - a_j; 0, 2 S)``: ``ln <p, p>`` without its ``i = j`` terms (``-inf`` for one
    component).  The ``i = j`` terms sum to ``sum_i w_i^2 N(0; 0, 2 S)`` in closed form, which lets a caller cancel
    them analytically against an equal term instead of subtracting two rounded numbers."""
    return _log_pairs(p, p, diagonal=False)


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
    """``sum_i signs[i] exp(logs[i])`` without overflow (``scipy.special.logsumexp`` with signed weights)."""
    logs = np.asarray(logs, dtype=float)
    if np.any(np.isnan(logs) | (logs == math.inf)):
        raise ValueError(f"logs: must be finite or -inf, got {logs}")
    log_abs, sign = logsumexp(logs, b=np.asarray(signs, dtype=float), return_sign=True)
    return SignedLog(int(sign), float(log_abs))


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
    """``KL(p || q)`` in nats between two Gaussians (formula in the module docstring); ``math.inf`` if singular."""
    mp, sp = _single(p, "p")
    mq, _ = _single(q, "q")
    if mp.shape != mq.shape:
        raise ValueError(f"q: dimension {mq.shape[0]} differs from p's {mp.shape[0]}")
    if p.singular or q.singular:
        return math.inf
    eq, uq = q._evals, q._evecs
    # S_q^{-1/2} in q's eigenbasis keeps the trace exact when S_q is ill-conditioned
    half = (np.eye(eq.size) if uq is None else uq) / np.sqrt(eq)
    m = half.T @ sp @ half
    dm = half.T @ (mq - mp)
    d = mp.shape[0]
    return float(0.5 * (np.trace(m) + dm @ dm - d + np.sum(np.log(eq)) - np.sum(np.log(p._evals))))


def hellinger2(p: GaussianMixture, q: GaussianMixture) -> float:
    """Squared Hellinger ``1 - int sqrt(p q)`` between two Gaussians (Bhattacharyya coefficient in logs)."""
    mp, sp = _single(p, "p")
    mq, sq = _single(q, "q")
    if p.singular != q.singular:
        # a law carried by a Lebesgue-null set has zero affinity with a law that has a density
        return 1.0
    if p.singular and q.singular:
        if np.allclose(mp, mq) and np.allclose(sp, sq):
            return 0.0
        raise ValueError("p, q: both covariances singular; restrict them to their common support first")
    eb, ub, _ = _sum_eig(p, q)
    eb = 0.5 * eb
    dm = (mp - mq) if ub is None else ub.T @ (mp - mq)
    log_bc = (0.25 * np.sum(np.log(p._evals)) + 0.25 * np.sum(np.log(q._evals)) - 0.5 * np.sum(np.log(eb))
              - 0.125 * np.sum(dm * dm / eb))
    return float(-np.expm1(log_bc))
