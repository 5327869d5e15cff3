"""Gaussian data ``x ~ N(0, Σ)`` with ``Σ = O diag(λ_1 … λ_d) O^T`` (docs/data.md): the data model every other one here
specialises.

What the rest of the code reads from a data model:

- ``spectrum(d)``: the spectral law of ``Σ`` as atoms ``(λ_k, w_k)``, ``Σ w_k = 1`` (rows of a ``(K, 2)`` array): the
  argument ``s`` of the generated pencils. ``d = None`` gives the high-dimensional limit; an integer ``d`` the law of
  the ``d`` eigenvalues that ``sample`` draws at that dimension (so theory at finite ``d`` sees the same ``Σ``);
- ``second_moment(d) = tr Σ/d``, the pre-activation variance ``q = a² tr Σ/d + h`` of the score network and the
  activation constants at that ``q`` (``constants``: never the unit-variance ones when ``q ≠ 1``);
- ``exact_score(y, t) = −Σ_t^{-1} y`` with ``Σ_t = a² Σ + h``, ``a = e^{−t}``, ``h = 1 − e^{−2t}``;
- ``baseline(t) = C_t = 1 − (h/d) tr Σ_t^{-1} = 1 − h ∫ dμ(λ)/(a² λ + h)``, the test error of the exact score, so that
  ``ε_test = C_t + h ε_score`` for any score;
- ``sample(rng, n, d)``: ``n`` points at dimension ``d``;
- ``realise(rng, d)``: the law at dimension ``d`` for one simulation draw (``GaussianLaw`` here): ``sample(rng, n)``
  training points, ``test(rng, n)`` test points, ``eigh()`` the eigenvalues and basis of ``Σ``, and ``gaussian``, which
  tells the simulation whether the test and score errors can be exact Gaussian expectations (True here). A data model
  that is not Gaussian (a non-linear manifold, images) returns a law with ``gaussian = False`` whose ``eigh()`` is the
  covariance of its Gaussian model; the simulation then averages over its test points (rfdsm/simulation/errors.py).

The basis ``O``. Since the random features ``W`` are Gaussian, no learning curve depends on ``O``; it is still drawn,
Haar-distributed, so that the data are not aligned with the coordinates. It is drawn once per dimension ``d`` from
``seed`` and kept: it is part of the data law (like the manifold ``M`` of docs/data.md), not of a draw, so that
``sample``, ``covariance`` and ``exact_score`` describe one ``Σ``. Training sets differ by the ``rng`` given to
``sample``. A law with one atom (``Σ = λ I``) needs no basis.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from rfdsm.activation_constants import Constants, constants
from rfdsm.validate import count, positive, positive_array


class Gaussian:
    """Data ``N(0, Σ)`` with the eigenvalues ``eigenvalues`` of ``Σ`` (non-negative, not all zero): the ``d``
    eigenvalues themselves, or fewer taken as a spectral law of atoms with ``weights`` (equal by default), whose ``d``
    quantiles are the eigenvalues at dimension ``d`` (``eigenvalues(d)``). ``seed`` fixes the basis at each ``d``
    (module docstring)."""

    def __init__(self, eigenvalues, weights=None, *, seed: int = 0):
        if np.ndim(eigenvalues) != 1:
            raise ValueError(f"eigenvalues: expected a 1-D array, got shape {np.shape(eigenvalues)}")
        values = positive_array("eigenvalues", eigenvalues, allow_zero=True)
        if not np.any(values > 0):
            raise ValueError("eigenvalues: all zero (Σ = 0 is no data law)")
        if weights is None:
            weights = np.full(values.size, 1.0 / values.size)
        elif np.shape(weights) != values.shape:
            raise ValueError(f"weights: expected {values.size} weights (one per eigenvalue), got shape "
                             f"{np.shape(weights)}")
        self._law = _atoms(values, positive_array("weights", weights))
        self.seed = count("seed", seed, minimum=0)
        self._bases: dict[int, np.ndarray] = {}

    @classmethod
    def from_samples(cls, X, *, seed: int = 0) -> Gaussian:
        """The Gaussian model of a data set: the eigenvalues of the sample covariance of the rows of ``X`` (``n × d``,
        ``n ≥ 2``), centred (this model has mean 0); with ``n < d`` the law has an atom at 0."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[0] < 2:
            raise ValueError(f"X: expected an n × d array with n ≥ 2, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X: expected finite numbers")
        values = np.linalg.eigvalsh(np.cov(X, rowvar=False).reshape(X.shape[1], X.shape[1]))
        # The null space of a rank-deficient covariance comes out as round-off of either sign: make it exactly 0.
        values[values <= values[-1] * X.shape[1] * np.finfo(float).eps] = 0.0
        return cls(values, seed=seed)

    def __repr__(self) -> str:
        # The digest tells laws apart that share their size and mean: saved results and resumed sweeps key on the repr.
        digest = hashlib.sha256(self._law.tobytes()).hexdigest()[:12]
        return f"Gaussian({len(self._law)} atoms, tr Σ/d = {self.second_moment():.4g}, law {digest}, seed={self.seed})"

    # -- the spectral law ------------------------------------------------------------------------------------------

    def spectrum(self, d: int | None = None) -> np.ndarray:
        """Atoms ``(λ_k, w_k)`` of the spectral law (rows of a ``(K, 2)`` array, ``Σ w_k = 1``): the limit law, or the
        empirical law of ``eigenvalues(d)``."""
        if d is None:
            return self._law.copy()
        values = self.eigenvalues(d)
        return _atoms(values, np.full(values.size, 1.0 / values.size))

    def eigenvalues(self, d: int) -> np.ndarray:
        """The ``d`` eigenvalues of ``Σ`` at dimension ``d``, increasing: the quantiles of the law at ``(i + ½)/d``,
        which are the law's atoms when it has ``d`` of equal weight."""
        d = count("d", d)
        cumulative = np.cumsum(self._law[:, 1])
        index = np.searchsorted(cumulative / cumulative[-1], (np.arange(d) + 0.5) / d)
        return self._law[np.minimum(index, len(self._law) - 1), 0]

    def second_moment(self, d: int | None = None) -> float:
        """``tr Σ/d = E ‖x‖²/d``."""
        law = self.spectrum(d)
        return float(law[:, 0] @ law[:, 1])

    def preactivation_variance(self, t: float, d: int | None = None) -> float:
        """``q = a² tr Σ/d + h``, the variance of the score network's pre-activations ``W y/√d`` at time ``t``."""
        a2, h = _schedule(t)
        return a2 * self.second_moment(d) + h

    def constants(self, activation: str, t: float, d: int | None = None) -> Constants:
        """The Gaussian constants of ``activation`` at time ``t`` and at this data's pre-activation variance ``q``."""
        return constants(activation, t, self.second_moment(d))

    def baseline(self, t: float, d: int | None = None) -> float:
        """``C_t = 1 − (h/d) tr Σ_t^{-1} = a² ∫ dμ(λ) λ/(a² λ + h)`` (the weights sum to 1), the test error of the exact
        score (``a²`` for ``Σ = I``), in the second form: no cancellation when ``C_t`` is small (``a² = 4e-44`` at
        ``t = 50``)."""
        a2, h = _schedule(t)
        law = self.spectrum(d)
        return float(a2 * (law[:, 1] @ (law[:, 0] / (a2 * law[:, 0] + h))))

    # -- realisations at dimension d ---------------------------------------------------------------------------------

    def basis(self, d: int) -> np.ndarray:
        """The orthogonal ``O`` at dimension ``d``: Haar-distributed, drawn once from ``(seed, d)``; the identity for a
        law with one atom."""
        d = count("d", d)
        if len(self._law) == 1:
            return np.eye(d)
        if d not in self._bases:
            gaussian = np.random.default_rng([self.seed, d]).standard_normal((d, d))
            basis, upper = np.linalg.qr(gaussian)
            self._bases[d] = basis * np.sign(np.diag(upper))  # the sign fix makes the QR factor Haar-distributed
        return self._bases[d]

    def covariance(self, d: int) -> np.ndarray:
        """``Σ = O diag(eigenvalues(d)) O^T``."""
        basis = self.basis(d)
        return (basis * self.eigenvalues(d)) @ basis.T

    def realise(self, rng: np.random.Generator, d: int) -> GaussianLaw:
        """The law at dimension ``d`` (module docstring): ``Σ`` with ``eigenvalues(d)`` in ``basis(d)``. It draws
        nothing from ``rng`` (the basis is part of the data law)."""
        check_generator(rng)
        basis = None if len(self._law) == 1 else self.basis(d)
        return GaussianLaw(self.eigenvalues(d), basis)

    def sample(self, rng: np.random.Generator, n: int, d: int) -> np.ndarray:
        """``n`` points of ``N(0, Σ)`` at dimension ``d``, as the rows of an ``n × d`` array (``x = O Λ^{1/2} z``)."""
        return self.realise(rng, d).sample(rng, n)

    def exact_score(self, y, t: float) -> np.ndarray:
        """``∇ log p_t(y) = −Σ_t^{-1} y`` at points ``y`` (last axis: the dimension ``d``), ``Σ_t = a² Σ + h``."""
        y = np.asarray(y, dtype=float)
        if y.ndim < 1 or y.shape[-1] < 1:
            raise ValueError(f"y: expected points along the last axis, got shape {y.shape}")
        a2, h = _schedule(t)
        d = y.shape[-1]
        inverse = 1.0 / (a2 * self.eigenvalues(d) + h)
        if len(self._law) == 1:
            return -inverse[0] * y
        basis = self.basis(d)
        return -((y @ basis) * inverse) @ basis.T


@dataclass(frozen=True)
class GaussianLaw:
    """``N(0, Σ)`` at dimension ``d = eigenvalues.size``, ``Σ = basis diag(eigenvalues) basisᵀ`` (``basis = None``:
    the identity), as a simulation draw sees it (``Gaussian.realise``)."""

    eigenvalues: np.ndarray
    basis: np.ndarray | None
    #: The test and score errors of a score trained on this law are exact Gaussian expectations.
    gaussian = True

    @property
    def d(self) -> int:
        return self.eigenvalues.size

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` points ``x = basis Λ^{1/2} z``, ``z ~ N(0, I_d)``, as the rows of an ``n × d`` array."""
        check_generator(rng)
        x = rng.standard_normal((count("n", n), self.d)) * np.sqrt(self.eigenvalues)
        return x if self.basis is None else x @ self.basis.T

    def test(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Test points: ``n`` fresh samples (the law is known, nothing is held out)."""
        return self.sample(rng, n)

    def eigh(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``(eigenvalues, basis)`` of ``Σ``."""
        return self.eigenvalues, self.basis


def check_generator(rng) -> None:
    """``ValueError`` naming ``rng`` unless it is a ``numpy.random.Generator`` (what every data law draws from)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected a numpy.random.Generator, got {rng!r}")


def _atoms(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Atoms ``(λ, w)`` sorted by ``λ``, equal values merged, weights normalised to sum to 1."""
    unique, inverse = np.unique(values, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=weights)
    return np.stack([unique, merged / merged.sum()], axis=1)


def _schedule(t: float) -> tuple[float, float]:
    """``(a², h) = (e^{−2t}, 1 − e^{−2t})``."""
    t = positive("t", t)
    return math.exp(-2 * t), -math.expm1(-2 * t)
