"""Data on a linear or non-linear manifold, ``x = σ(M ξ/√D) − ν0`` (docs/manifolds.md; seed
2603.22962).

The law. Latent ``ξ ~ N(0, I_D)``, ``M ∈ R^{d×D}`` with i.i.d. ``N(0, 1)`` entries, ``ψ_D = D/d ∈ (0, 1]``, ``σ`` an
activation of ``rfdsm.activations`` applied entrywise. The entries of ``M ξ/√D`` have variance ``‖M_i‖²/D → 1``, so
the Gaussian constants of ``σ`` at unit variance enter: ``ν0 = E σ(g)``, ``ν1 = E g σ(g)``, ``ν*² = E σ(g)² − ν0² −
ν1²``. The mean ``ν0 1`` is removed (centred data, as every other data model here): the score network sees
``x − ν0 1``, so its pre-activation variance is ``q = a² (ν1² + ν*²) + h``.

The covariance the theory uses. Linear ``σ`` (``ν*² = 0``): the data are ``N(0, Σ)`` with ``Σ = M Mᵀ/D``. Non-linear
``σ``: the Gaussian equivalent ``x ≈ ν1 M ξ/√D + ν* η``, ``η ~ N(0, I_d)``, whose covariance is
``Σ = ν1² M Mᵀ/D + ν*² I``; the score error is measured against that law's score ``−Σ_t^{-1} y`` (the exact score of
the real data is not available). The spectral law of ``M Mᵀ/D``: ``ψ_D`` times the Marchenko–Pastur law of ratio
``ψ_D`` (mean 1, variance ``ψ_D``) scaled by ``1/ψ_D``, plus ``(1 − ψ_D) δ_0``.

The quadrature of the Marchenko–Pastur law (``spectrum()``). The ``K``-point Gauss rule of the law itself, from its
Jacobi matrix (Golub–Welsch): the MP law of ratio ``c`` has the recurrence coefficients ``α_0 = 1``, ``α_k = 1 + c``
and ``β_k = c`` (``k ≥ 1``), the free Poisson law. The rule integrates polynomials of degree ``2K − 1`` exactly against
the density with its square-root edges (and the inverse-square-root edge at 0 of ``c = 1``), so the error depends only
on how smooth the pencil's functions of ``λ`` are on the support; ``ATOMS`` is chosen by the convergence study of
tests/test_manifold.py. The weights sum to 1 and the mean is 1 exactly.

At a finite dimension ``d`` (``eigenvalues(d)``) the eigenvalues are deterministic: ``D = round(ψ_D d)`` quantiles of
the MP law of the realised ratio ``D/d`` at ``(i + ½)/D`` (its distribution function in closed form, inverted by
bisection), scaled by ``d/D``, and ``d − D`` zeros, all mapped by ``λ ↦ ν1² λ + ν*²``: the deterministic equivalent of
the spectrum that a draw at ``d`` realises (``rfdsm.compare`` takes the theory at each size on it). A simulation
draw uses the eigenvalues of its own ``M`` (``realise``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh_tridiagonal

from rfdsm.activation_constants import ACCURACY
from rfdsm.activations import available, load
from rfdsm.data.gaussian import Gaussian, check_generator
from rfdsm.validate import count, positive

#: Atoms of the Gauss rule of the MP law in ``spectrum()``: the learning curves change by less than 1e-9 (relative)
#: from ``ATOMS`` to ``2 ATOMS`` over the grids of tests/test_manifold.py (t down to 1e-3, ψ_D up to 1).
ATOMS = 256


def marchenko_pastur_rule(c: float, atoms: int) -> np.ndarray:
    """The ``atoms``-point Gauss rule ``(x_k, w_k)`` (rows) of the Marchenko–Pastur law of ratio ``c ∈ (0, 1]``, mean 1,
    density ``√((b − x)(x − a))/(2π c x)`` on ``[a, b] = [(1 ∓ √c)²]``: the eigenvalues of the Jacobi matrix with
    diagonal ``1, 1 + c, 1 + c, …`` and off-diagonal ``√c``, and the squared first components of its eigenvectors."""
    diagonal = np.full(atoms, 1.0 + c)
    diagonal[0] = 1.0
    nodes, vectors = eigh_tridiagonal(diagonal, np.full(atoms - 1, math.sqrt(c)))
    return np.stack([nodes, vectors[0] ** 2], axis=1)


def marchenko_pastur_quantiles(c: float, levels: np.ndarray) -> np.ndarray:
    """The points ``x`` of the MP law of ratio ``c ∈ (0, 1]`` with ``P(X ≤ x) = levels``. With ``x = 1 + c + 2√c cos θ``
    the mass above ``x`` is ``G(θ) = [(1 + c) θ − 2√c sin θ − 2 (1 − c) arctan(ρ tan(θ/2))]/(2π c)``,
    ``ρ = (1 − √c)/(1 + √c)`` (the density in ``θ`` is ``2 sin²θ/(π x)``), increasing from 0 at ``θ = 0`` to 1 at
    ``π``; it is inverted by bisection to round-off."""
    root = math.sqrt(c)
    rho = (1 - root) / (1 + root)
    target = 1.0 - np.asarray(levels, dtype=float)
    low, high = np.zeros_like(target), np.full_like(target, math.pi)
    for _ in range(60):  # 2^-60 π: below the spacing of doubles near π
        theta = (low + high) / 2
        above = ((1 + c) * theta - 2 * root * np.sin(theta)
                 - 2 * (1 - c) * np.arctan(rho * np.tan(theta / 2))) / (2 * math.pi * c)
        low, high = np.where(above < target, theta, low), np.where(above < target, high, theta)
    theta = (low + high) / 2
    return (1 - root) ** 2 + 4 * root * np.cos(theta / 2) ** 2  # 1 + c + 2√c cos θ without cancellation near a = 0


class Manifold(Gaussian):
    """Data ``x = σ(M ξ/√D) − ν0`` with ``ψ_D = D/d ∈ (0, 1]`` and ``σ`` the name of an activation (module docstring).
    For the theory it is the Gaussian law with ``Σ = ν1² M Mᵀ/D + ν*² I`` (``M Mᵀ/D`` for linear ``σ``), whose
    spectral law ``spectrum()`` has ``atoms`` Gauss atoms for the MP part; a simulation draw realises the real data
    with a fresh ``M`` (``realise``)."""

    def __init__(self, psi_D: float, sigma: str = "linear", *, atoms: int = ATOMS):
        psi_D = positive("psi_D", psi_D)
        if psi_D > 1:
            raise ValueError(f"psi_D: must be ≤ 1 (D = ψ_D d latent dimensions of data in dimension d), got {psi_D!r}")
        if not isinstance(sigma, str) or sigma not in available():
            raise ValueError(f"sigma: expected the name of an activation ({', '.join(available())}), got {sigma!r}")
        self.psi_D, self.sigma, self.atoms = psi_D, sigma, count("atoms", atoms)
        nu0, nu1, norm2 = (float(v) for v in load(sigma).moments(1.0))
        nustar2 = norm2 - nu0**2 - nu1**2
        # ν*² within the round-off of ‖σ‖² is a linear σ: its data are Gaussian (activation_constants, same bound).
        self.nu0, self.nu1, self.nustar2 = nu0, nu1, nustar2 if nustar2 > 3 * ACCURACY * norm2 else 0.0
        law = marchenko_pastur_rule(psi_D, self.atoms)
        values, weights = self._covariance_values(law[:, 0] / psi_D), psi_D * law[:, 1]
        if psi_D < 1:  # the null space of M Mᵀ/D
            values, weights = np.append(values, self.nustar2), np.append(weights, 1 - psi_D)
        super().__init__(values, weights)

    def __repr__(self) -> str:
        return f"Manifold(psi_D={self.psi_D:g}, sigma={self.sigma!r}, atoms={self.atoms})"

    def _covariance_values(self, values: np.ndarray) -> np.ndarray:
        """Eigenvalues ``ν1² λ + ν*²`` of ``Σ`` from those ``λ`` of ``M Mᵀ/D``."""
        return self.nu1**2 * values + self.nustar2

    def eigenvalues(self, d: int) -> np.ndarray:
        """The ``d`` eigenvalues of ``Σ`` at dimension ``d``, increasing: ``d − D`` of them ``ν*²`` and the rest from
        the ``D = round(ψ_D d)`` quantiles of the MP law of ratio ``D/d`` (module docstring)."""
        d = count("d", d)
        latent = latent_dimension(self.psi_D, d)
        ratio = latent / d  # the realised D/d: ψ_D up to the rounding of D
        quantiles = marchenko_pastur_quantiles(ratio, (np.arange(latent) + 0.5) / latent)
        return self._covariance_values(np.concatenate([np.zeros(d - latent), quantiles / ratio]))

    def realise(self, rng: np.random.Generator, d: int) -> ManifoldLaw:
        """The data at dimension ``d`` for one simulation draw: a fresh ``M`` (``d × D``, ``D = round(ψ_D d)``) drawn
        from ``rng``."""
        check_generator(rng)
        d = count("d", d)
        return ManifoldLaw(self, rng.standard_normal((d, latent_dimension(self.psi_D, d))))

    def covariance(self, d: int) -> np.ndarray:
        """Refused: ``Σ`` depends on the ``M`` of a draw; ``realise(rng, d).eigh()`` gives it."""
        raise ValueError("d: a manifold's covariance depends on its M, drawn by realise(rng, d); use its eigh()")

    def exact_score(self, y, t: float) -> np.ndarray:
        """Refused: the score depends on the ``M`` of a draw; ``realise(rng, d).score(y, t)`` gives it."""
        raise ValueError("y: a manifold's score depends on its M, drawn by realise(rng, d); use its score(y, t)")


def latent_dimension(psi_D: float, d: int) -> int:
    """``D = round(ψ_D d)``, at least 1."""
    return max(1, round(psi_D * d))


@dataclass(frozen=True)
class ManifoldLaw:
    """The data of ``manifold`` at dimension ``d`` with one matrix ``M`` (``d × D``), as a simulation draw sees it
    (``Manifold.realise``): points ``σ(M ξ/√D) − ν0``, and the covariance ``ν1² M Mᵀ/D + ν*² I`` of their Gaussian
    model (their own covariance for linear ``σ``)."""

    manifold: Manifold
    M: np.ndarray

    @property
    def d(self) -> int:
        return self.M.shape[0]

    @property
    def gaussian(self) -> bool:
        """True for a linear ``σ``: the data are then ``N(0, M Mᵀ/D)``, the simulation's errors exact expectations."""
        return self.manifold.nustar2 == 0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` points ``σ(M ξ/√D) − ν0``, ``ξ ~ N(0, I_D)``, as the rows of an ``n × d`` array."""
        check_generator(rng)
        latent = rng.standard_normal((count("n", n), self.M.shape[1]))
        u = latent @ (self.M.T / math.sqrt(self.M.shape[1]))
        return u if self.manifold.sigma == "linear" else load(self.manifold.sigma).rho(u) - self.manifold.nu0

    def test(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Test points: ``n`` fresh samples (the law is known, nothing is held out)."""
        return self.sample(rng, n)

    def eigh(self) -> tuple[np.ndarray, np.ndarray]:
        """``(eigenvalues, basis)`` of ``Σ = ν1² M Mᵀ/D + ν*² I`` from the SVD ``M = U S Vᵀ`` (``U`` complete,
        ``d × d``): ``Σ = U diag(ν1² S²/D, 0 … 0) Uᵀ + ν*² I`` (``d − D`` zeros)."""
        basis, singular, _ = np.linalg.svd(self.M, full_matrices=True)
        values = np.zeros(self.d)
        values[:singular.size] = singular**2 / self.M.shape[1]
        return self.manifold._covariance_values(values), basis

    def score(self, y, t: float) -> np.ndarray:
        """``−Σ_t^{-1} y``, ``Σ_t = a² Σ + h I`` (``Σ`` of ``eigh``): the exact score of linear-manifold data, the score
        of the Gaussian model otherwise, at points ``y`` (rows)."""
        t = positive("t", t)
        a2, h = math.exp(-2 * t), -math.expm1(-2 * t)
        values, basis = self.eigh()
        return -(((np.asarray(y, dtype=float) @ basis) / (a2 * values + h)) @ basis.T)
