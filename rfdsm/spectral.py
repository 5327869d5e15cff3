"""The limiting eigenvalue law of the feature Gram matrix ``U`` of RF-DSM (docs/dynamics.md §2), for every ``m`` and
every data model of rfdsm.data.

The generated models ``rfdsm_resolvent_infinite`` / ``rfdsm_resolvent_finite`` (derive/models/rfdsm_resolvent.py)
give, at a complex ``z`` off the spectrum, the Stieltjes transform ``G(z) = (1/p) tr (U − z)^{-1}`` on its Herglotz
branch (continuation from ``Im z = 10⁴``; every accepted point has ``Im G · Im z ≥ 0``). The law of ``U`` is

    μ = w0 δ_{u0} + ρ(u) du,      ρ(u) = lim_{ε→0} (1/π) Im G(u + iε)   (Stieltjes inversion),

with one atom at the bottom of the spectrum, ``u0``, and its weight ``w0`` (the dimension of the kernel of the part
of ``U`` above ``u0``, over ``p``):

- finite m: ``U = F Fᵀ/(n m)`` has rank ``min(p, n m)``: ``u0 = 0``, ``w0 = max(0, 1 − ψn m/ψp)`` (``μ*² = 0``, a linear
  activation, lowers the rank to ``min(p, n m, d)``);
- m = ∞: ``U = Ĝ Ĝᵀ/ψn + h c² W̃ W̃ᵀ + s²`` with ``Ĝ`` of ``n`` columns: ``u0 = s² = μ*² (1 − κ)``,
  ``w0 = max(0, 1 − r/ψp)``, ``r = 1 + ψn`` (``r = 1`` if ``κ μ*² = 0``; ``r = ψn`` if ``μ1 = 0``).

The density is read at ``ε = 10⁻⁷ ·`` the top of the spectrum with the atom's own term ``w0 ε/((u − u0)² + ε²)``
removed; the bulk edges are where it vanishes, located by bisection (to ``~ 1e-5`` of the top: within ``~ 100 ε`` of
an edge the solves fail and fall back to ``10 ε``, which blurs the test of ``_inside``), and the mass of each bulk
(tanh-sinh quadrature) is returned so that ``w0 + Σ mass = 1``
can be checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rfdsm import solver
from rfdsm.data import Gaussian, Isotropic
from rfdsm.results import Result
from rfdsm.validate import finite_array, noise_samples, positive

#: Solver tolerance (scaled residual and Newton step).
_TOL = 1e-12
#: Distance ``ε`` of the evaluation points above the real axis, relative to the top of the spectrum. Within ``ε`` of
#: a square-root edge the fixed point is nearly singular (condition ``~ ε^{-1/2}``) and the continuation from
#: ``Im z = 10⁴`` fails below ``ε ≈ 1e-10``; ``1e-7`` keeps every point solvable. The density is then the law smoothed
#: by a Cauchy kernel of width ``ε``: its relative error is ``~ ε/δ`` at a distance ``δ`` from an edge.
_EPS = 1e-7
#: The grid on which the bulks are found, as fractions of ``[u0, top]`` (their edges are then refined by bisection):
#: uniform, and geometric towards ``u0``, where near the interpolation threshold a bulk starts at ``~ 1e-3`` of the top.
#: Half a step above ``u0`` at least: at the atom itself ``G`` has a pole of height ``w0/ε``.
_GRID = np.union1d(np.linspace(0, 1, 301)[1:], np.geomspace(1e-6, 1, 100)[:-1])
#: How many times the guess of the top of the spectrum may double before the law is declared not found.
_DOUBLINGS = 8
#: The tanh-sinh rule of a bulk's mass: step and nodes on each side (``|τ| ≤ 3.2``).
_STEP = 0.05
_NODES = 64


@dataclass(frozen=True)
class Setting:
    """The generated model and its parameters (all but ``z``) for one activation, time, ``ψn``, ``ψp``, ``m`` and data
    model; ``s`` the data's spectral law; ``consts`` the activation constants at the data's pre-activation variance."""

    model: str
    params: dict
    s: np.ndarray
    consts: object
    data: Gaussian
    m: float

    @property
    def bottom(self) -> tuple[float, float]:
        """``(u0, w0)``: the lowest point of the spectrum of ``U`` and the weight of its atom there (module
        docstring)."""
        p, c = self.params, self.consts
        if self.m == math.inf:
            r = (1.0 if c.mu1 != 0 else 0.0) + (p["psi_n"] if c.mustar2 * c.kappa > 0 else 0.0)
            return c.mustar2 * (1 - c.kappa), max(0.0, 1 - r / p["psi_p"])
        rank = p["psi_n"] * self.m if c.mustar2 > 0 else min(p["psi_n"] * self.m, 1.0)
        return 0.0, max(0.0, 1 - rank / p["psi_p"])

    def top_guess(self) -> float:
        """A generous guess of the top of the spectrum (Marchenko–Pastur edges of the feature covariance with ``n``
        independent columns); callers check the mass and double it if some is missing."""
        p, c = self.params, self.consts
        a2, h = math.exp(-2 * c.t), c.h
        sigma_y = a2 * float(np.max(self.s[:, 0])) + h
        feature = c.mu1**2 / c.q * sigma_y * (1 + math.sqrt(p["psi_p"])) ** 2 + c.mustar2
        return 2 * feature * (1 + math.sqrt(p["psi_p"] / p["psi_n"])) ** 2

    def transforms(self, z: np.ndarray, on_failure: str = "raise") -> solver.Sweep:
        """The observables of the model at the points ``z`` (one side of the real axis), solved in order."""
        return solver.sweep(self.model, dict(self.params, z=np.asarray(z, dtype=complex)), tol=_TOL,
                            on_failure=on_failure, spectrum=self.s)


def setting(activation: str, t, psi_n, psi_p, m=math.inf, data=None) -> Setting:
    """Validate the arguments and build the ``Setting`` (``data``: a model of rfdsm.data, ``Isotropic()`` by
    default)."""
    t = positive("t", t)
    psi_n, psi_p = positive("psi_n", psi_n), positive("psi_p", psi_p)
    m = noise_samples(m)
    data = Isotropic() if data is None else data
    if not isinstance(data, Gaussian):
        raise ValueError(f"data: expected a data model of rfdsm.data (Isotropic(), PowerLaw(k), …), got {data!r}")
    c = data.constants(activation, t)
    params = {"psi_n": psi_n, "psi_p": psi_p, "h": c.h, "q": c.q, "mu1": c.mu1, "mustar2": c.mustar2,
              "kappa": c.kappa}
    if m != math.inf:
        params["m"] = float(m)
    model = "rfdsm_resolvent_" + ("infinite" if m == math.inf else "finite")
    return Setting(model, params, np.ascontiguousarray(data.spectrum(), dtype=float), c, data, m)


@dataclass(frozen=True, repr=False)
class Spectrum(Result):
    """The eigenvalue law of ``U``: ``density`` on the points ``u``, the atom (``atom`` at ``atom_weight``), the bulks
    ``edges`` (rows ``(lower, upper)``) with their ``masses``; ``w0 + Σ masses = 1`` up to the quadrature error."""

    activation: str
    t: float
    m: float
    psi_n: float
    psi_p: float
    u: np.ndarray
    density: np.ndarray
    atom: float
    atom_weight: float
    edges: np.ndarray
    masses: np.ndarray
    data: str = "Isotropic()"

    @property
    def mass(self) -> float:
        """``w0 + Σ masses``: 1 for a law found whole."""
        return self.atom_weight + float(np.sum(self.masses))

    def _dataset(self):
        import xarray as xr

        attrs = {name: getattr(self, name) for name in ("activation", "t", "m", "psi_n", "psi_p", "atom",
                                                        "atom_weight", "data")}
        return xr.Dataset({"density": ("u", self.density), "lower": ("bulk", self.edges[:, 0]),
                           "upper": ("bulk", self.edges[:, 1]), "mass": ("bulk", self.masses)},
                          coords={"u": self.u}, attrs=attrs)

    @classmethod
    def _from_dataset(cls, data, attrs):
        edges = np.stack([data["lower"].values, data["upper"].values], axis=1).reshape(-1, 2)
        return cls(u=data["u"].values, density=data["density"].values, edges=edges, masses=data["mass"].values,
                   **{k: attrs[k] for k in ("activation", "t", "m", "psi_n", "psi_p", "atom", "atom_weight", "data")})

    def _generated(self) -> list[str]:
        model = f"rfdsm_resolvent_{'infinite' if self.m == math.inf else 'finite'}"
        return [*super()._generated(), f"generated.models.{model}"]

    def _summary(self) -> str:
        bulks = ", ".join(f"[{lo:.4g}, {hi:.4g}]" for lo, hi in self.edges)
        return (f"{self.activation}, t={self.t:g}, m={self.m:g}, ψn={self.psi_n:g}, ψp={self.psi_p:g}; atom "
                f"{self.atom_weight:.4g} at {self.atom:.4g}; bulks {bulks}")


def _imag(setting: Setting, u: np.ndarray, eps: float) -> np.ndarray:
    """``Im G(u + iε)``; at a point where the continuation fails (within ``~ ε`` of an edge, where the fixed point is
    nearly singular) ``Im G(u + 10 iε)``."""
    im = setting.transforms(u + 1j * eps, "nan")["stieltjes"].imag
    failed = np.isnan(im)
    if np.any(failed):
        im[failed] = setting.transforms(u[failed] + 10j * eps)["stieltjes"].imag
    return im


def _density(setting: Setting, u: np.ndarray, eps: float) -> np.ndarray:
    """``(1/π) Im G(u + iε)`` without the atom's own term ``w0 ε/((u − u0)² + ε²)``."""
    u0, w0 = setting.bottom
    return np.maximum(_imag(setting, u, eps) - w0 * eps / ((u - u0) ** 2 + eps**2), 0.0) / np.pi


def _inside(setting: Setting, u: np.ndarray, eps: float) -> np.ndarray:
    """Whether each point lies in a bulk: ``Im G(u + iε) > ¾ Im G(u + 2iε)``. Off the support (and at the atom)
    ``Im G`` is linear in ``ε``, so the ratio is ½; inside a bulk it tends to ``πρ`` and the ratio to 1. The two meet
    within ``~ ε`` of an edge, whatever the height of the bulk."""
    return _imag(setting, u, eps) > 0.75 * _imag(setting, u, 2 * eps)


def _edge(setting: Setting, inside: float, outside: float, eps: float) -> float:
    """The bulk edge between a point ``inside`` and a point ``outside``, by bisection down to ``ε``."""
    while abs(inside - outside) > eps:
        middle = 0.5 * (inside + outside)
        if _inside(setting, np.array([middle]), eps)[0]:
            inside = middle
        else:
            outside = middle
    return 0.5 * (inside + outside)


def _bulk_mass(setting: Setting, lower: float, upper: float, eps: float) -> float:
    """``∫ ρ`` over ``[lower, upper]`` by the tanh-sinh rule ``u = c + r tanh(π/2 sinh τ)``: its nodes crowd the ends
    double-exponentially, so square-root edges, and the ``1/u`` rise of a bulk that starts just above 0 near the
    interpolation threshold, cost no accuracy."""
    tau = _STEP * np.arange(-_NODES, _NODES + 1)
    x = np.tanh(0.5 * np.pi * np.sinh(tau))
    weights = _STEP * 0.5 * np.pi * np.cosh(tau) / np.cosh(0.5 * np.pi * np.sinh(tau)) ** 2
    half = 0.5 * (upper - lower)
    keep = np.abs(x) < 1.0
    u = lower + half * (1 + x[keep])
    return float(np.sum(weights[keep] * _density(setting, u, eps)) * half)


def spectrum(activation: str, t, psi_n, psi_p, m=math.inf, *, data=None, u=None, points: int = 100) -> Spectrum:
    """The limiting eigenvalue law of ``U = (1/(n m)) Σ F Fᵀ`` (``m = ∞``: the expectation over the noise) for the
    activation at time ``t``, ``ψn = n/d``, ``ψp = p/d``, ``m`` noise samples per point and ``data`` (a model of
    rfdsm.data, ``Isotropic()`` by default): the density on the points ``u`` (default: ``points`` points from the
    lowest bulk edge to the highest; a point at the atom itself has no finite density and raises
    ``ConvergenceError``), the atom at the bottom and the bulks with their edges and masses (module docstring)."""
    where = setting(activation, t, psi_n, psi_p, m, data)
    u0, w0 = where.bottom
    top = where.top_guess()
    for _ in range(_DOUBLINGS):
        eps = _EPS * top
        grid = u0 + (top - u0) * _GRID
        on = _inside(where, grid, eps)
        if not on[-1]:
            break
        top *= 2
    else:
        raise solver.ConvergenceError(f"spectrum: the density does not vanish up to u = {top:g} ({where.model} at "
                                      f"{where.params})")
    edges = [u0] if on[0] else []
    for i in np.flatnonzero(np.diff(on.astype(int)) != 0):
        inside, outside = (grid[i], grid[i + 1]) if on[i] else (grid[i + 1], grid[i])
        edges.append(_edge(where, inside, outside, eps))
    edges = np.array(edges).reshape(-1, 2)
    masses = np.array([_bulk_mass(where, lo, hi, eps) for lo, hi in edges])
    if u is None:
        count = int(points)
        if count != points or count < 2:
            raise ValueError(f"points: expected an integer ≥ 2, got {points!r}")
        u = np.linspace(edges[0, 0], edges[-1, 1], count) if edges.size else np.linspace(u0, top, count)
    u = finite_array("u", u)
    return Spectrum(activation=activation, t=float(t), m=where.m, psi_n=float(psi_n), psi_p=float(psi_p), u=u,
                    density=_density(where, u, eps), atom=u0, atom_weight=w0, edges=edges, masses=masses,
                    data=repr(where.data))
