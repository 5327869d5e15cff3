"""DDPM chain with one linear denoiser per step: schedule, denoisers, generated law, losses (finite d).

Conventions (docs/linear.md; the choices made here are marked *)
-----------------------------------------------------------------
* Steps ``t = 1..K`` (``K = schedule.steps``, stored at index ``t-1``); ``beta_t`` linear from ``1e-4`` to
  ``1e-2``; ``alpha_t = 1 - beta_t``; ``abar_t = prod_{s<=t} alpha_s``; ``a = abar_t``, ``s = 1 - abar_t``.
  Forward: ``x_t = sqrt(a) x_0 + sqrt(s) eps``.
* Denoiser ``eps_theta(x, t) = W_t x + b_t``, trained on ``N`` points with the noise-averaged loss
  ``L_t(W, b) = (1/N) sum_i E_eps |W x_t,i + b - eps|^2 + c |W|_F^2`` (ridge ``c >= 0`` on ``W`` only).
  *The intercept is always at its optimum given ``W``: ``b_t = -sqrt(a) W_t centre``, i.e. ``W`` is trained
  on data centred by ``centre`` (learned mean: the sample mean, and
  ``C = (1/N) sum (x_i - centre)(x_i - centre)^T`` has rank ``<= N-1``; known mean: ``centre = mean``, and
  ``C`` is the second moment about it, rank ``<= N``).  ``C``'s eigen-decomposition comes from the SVD of the
  centred data; singular values ``<= max(N, d) eps`` times the largest (``numpy.linalg.matrix_rank``'s rule)
  are rounding and are set to 0.
  Then ``W_t = w_t(C)`` with, on each eigenvalue ``l`` of ``C`` and ``u = a l + s + c``,
      ``w_t(l) = sqrt(s) (1 - exp(-eta tau u)) / u``
  (*gradient flow ``dW/dtau = -(eta/2) dL/dW`` from ``W = 0``; ``tau = inf`` is the ridge optimum
  ``sqrt(s) (a C + (s + c) I)^{-1}``).
* Ancestral sampler: ``x_K ~ N(0, I)``,
  ``x_{t-1} = (x_t - beta_t / sqrt(s_t) eps_theta(x_t, t)) / sqrt(alpha_t) + sigma_t z``,
  *``sigma_t^2 = beta~_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)`` (posterior variance, ``sigma_1 = 0``;
  ``sampler_var="beta"`` uses ``beta_t``).  With ``y_t = x_t - sqrt(abar_t) centre`` the step is
  ``y_{t-1} = M_t y_t + sigma_t z``, ``M_t = (I - beta_t / sqrt(s_t) W_t) / sqrt(alpha_t)``: the intercept
  cancels exactly, so the generated law is ``N(mu_0, Sigma_0)`` with
      ``mu_0 = centre - sqrt(abar_K) P(C) centre``,  ``Sigma_0 = g(C)``,
      ``P = prod_t m_t``,  ``g = v_0`` where ``v_K = 1``, ``v_{t-1} = m_t^2 v_t + sigma_t^2``,
  ``m_t(l) = (1 - beta_t w_t(l) / sqrt(s_t)) / sqrt(alpha_t)``.  Every ``W_t`` is a function of ``C`` and
  ``x_K`` is isotropic, so everything commutes with ``C`` and is diagonal in its eigenbasis; for
  denoisers that do not commute use :func:`ancestral_law` (the matrix recursion).
  With ``c = 0``, ``tau = inf`` and the posterior variance, a null direction of ``C`` gets
  ``m_1 = 0``, ``sigma_1 = 0``: ``Sigma_0`` is singular for ``N <= d`` (``N <= d - 1`` known mean) and both
  KLs are ``math.inf``.
* Losses, per dimension, noise averaged, no ridge term:
  train ``(1/(N d)) sum_i E_eps |eps_theta(x_t,i) - eps|^2 = (1/d) tr[W^2 (a C + s)] - 2 sqrt(s)/d tr W + 1``;
  test  ``(1/d) E_{x ~ N(mean, Sigma)} ... = (1/d) tr[W (a Sigma + s) W] - 2 sqrt(s)/d tr W + 1
  + (a/d) |W (mean - centre)|^2``.  "Summed" is the sum over the ``K`` steps.
* KL divergences per dimension (``KL / d``, nats), like the losses and like :mod:`.theory`.
* Data ``N(mean, Sigma)`` with ``Sigma = diag(spectrum)``: every quantity here is rotation invariant, so a
  spectrum fixes the model.  :func:`power_law_spectrum` gives ``l_nu = d nu^{-k} / sum_mu mu^{-k}``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import divergences
from ..results import Result
from ..validate import count, finite_array, positive, positive_array

_EPS = float(np.finfo(float).eps)


# --------------------------------------------------------------------------------------------
# inputs

def power_law_spectrum(d: int, k: float) -> np.ndarray:
    """``l_nu = d nu^{-k} / sum_{mu<=d} mu^{-k}``, ``nu = 1..d`` (so ``tr Sigma = d``)."""
    d = count("d", d)
    k = positive("k", k, allow_zero=True)
    nu = np.arange(1, d + 1, dtype=float)
    eigenvalues = nu ** (-k)
    return eigenvalues * (d / eigenvalues.sum())


def check_spectrum(spectrum) -> np.ndarray:
    """The eigenvalues of ``Sigma``: a 1-D array of finite positive numbers."""
    eigenvalues = positive_array("spectrum", spectrum)
    if eigenvalues.ndim != 1:
        raise ValueError(f"spectrum: must be 1-D, got shape {eigenvalues.shape}")
    return eigenvalues


@dataclass(frozen=True)
class Schedule:
    """DDPM noise schedule; arrays indexed by ``t - 1`` for ``t = 1..steps``."""

    beta: np.ndarray = field(repr=False)
    sampler_var: str = "posterior"
    alpha: np.ndarray = field(init=False, repr=False)
    abar: np.ndarray = field(init=False, repr=False)
    s: np.ndarray = field(init=False, repr=False)
    sigma2: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        beta = positive_array("beta", self.beta)
        if beta.ndim != 1 or np.any(beta >= 1):
            raise ValueError("beta: must be a 1-D array in (0, 1)")
        if self.sampler_var not in ("posterior", "beta"):
            raise ValueError(f"sampler_var: 'posterior' or 'beta', got {self.sampler_var!r}")
        log_abar = np.cumsum(np.log1p(-beta))
        s = -np.expm1(log_abar)  # 1 - abar without cancellation at small t
        s_prev = np.concatenate([[0.0], s[:-1]])
        sigma2 = beta * s_prev / s if self.sampler_var == "posterior" else beta.copy()
        for name, val in (("beta", beta), ("alpha", 1 - beta), ("abar", np.exp(log_abar)), ("s", s),
                          ("sigma2", sigma2)):
            object.__setattr__(self, name, val)

    @property
    def steps(self) -> int:
        return self.beta.size


def linear_schedule(steps: int = 1000, beta_min: float = 1e-4, beta_max: float = 1e-2,
                    sampler_var: str = "posterior") -> Schedule:
    """``beta_t`` linear from ``beta_min`` (t = 1) to ``beta_max`` (t = steps)."""
    steps = count("steps", steps)
    beta_min, beta_max = positive("beta_min", beta_min), positive("beta_max", beta_max)
    if not beta_min <= beta_max < 1:
        raise ValueError(f"beta_max: need beta_min <= beta_max < 1, got {beta_min}, {beta_max}")
    return Schedule(np.linspace(beta_min, beta_max, steps), sampler_var)


@dataclass(frozen=True)
class Training:
    """How each step's ``W_t`` is trained: ridge ``c``, gradient-flow time ``tau`` (inf = converged), rate ``eta``."""

    c: float = 0.0
    tau: float = math.inf
    eta: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "c", positive("c", self.c, allow_zero=True))
        if self.tau != math.inf:
            object.__setattr__(self, "tau", positive("tau", self.tau))
        object.__setattr__(self, "eta", positive("eta", self.eta))


# --------------------------------------------------------------------------------------------
# spectral maps (real or complex eigenvalue argument)

def denoiser_weights(eigenvalues, schedule: Schedule, training: Training) -> np.ndarray:
    """``w_t(l) = sqrt(s_t) (1 - exp(-eta tau u)) / u``, ``u = abar_t l + s_t + c``; shape ``(steps,) + l.shape``."""
    eigenvalues = np.asarray(eigenvalues)
    a = schedule.abar.reshape((-1,) + (1,) * eigenvalues.ndim)
    s = schedule.s.reshape(a.shape)
    u = a * eigenvalues + s + training.c
    frac = 1.0 if math.isinf(training.tau) else -np.expm1(-training.eta * training.tau * u)
    return np.sqrt(s) * frac / u


def generated_spectrum(eigenvalues, schedule: Schedule, training: Training):
    """``(g(l), P(l))``: generated variance ``g = v_0`` and mean propagator ``P = prod_t m_t`` on eigenvalue ``l``.

    ``m_t = (1 - beta_t w_t / sqrt(s_t)) / sqrt(alpha_t)``, ``v_K = 1``, ``v_{t-1} = m_t^2 v_t + sigma_t^2``, summed
    in closed form: ``g = sum_t sigma_t^2 prod_{s<t} m_s^2 + prod_{s<=K} m_s^2`` (one cumulative product over the
    steps instead of a Python loop).  Works on any array of (real or complex) ``l``.
    """
    eigenvalues = np.asarray(eigenvalues)
    shape = (-1,) + (1,) * eigenvalues.ndim
    u = schedule.abar.reshape(shape) * eigenvalues + schedule.s.reshape(shape) + training.c
    frac = 1.0 if math.isinf(training.tau) else -np.expm1(-training.eta * training.tau * u)
    # beta_t w_t / sqrt(s_t) = beta_t frac / u
    m = (1.0 - schedule.beta.reshape(shape) * frac / u) / np.sqrt(schedule.alpha).reshape(shape)
    m2 = np.cumprod(m * m, axis=0)
    g = schedule.sigma2[0] + np.sum(schedule.sigma2[1:].reshape(shape) * m2[:-1], axis=0) + m2[-1]
    return g, np.prod(m, axis=0)


def step_losses(eigenvalues, test_moment, schedule: Schedule, training: Training, mean_err2=None):
    """Per-step train and test losses per dimension from ``C``'s eigenvalues.

    ``test_moment[i] = u_i^T Sigma u_i`` (test-set second moment along ``C``'s eigenvectors) and
    ``mean_err2[i] = (u_i^T (mean - centre))^2`` (omit for zero).  Returns ``(train, test)``, each ``(steps,)``.
    """
    eigenvalues, test_moment = np.asarray(eigenvalues, float), np.asarray(test_moment, float)
    d = eigenvalues.size
    w = denoiser_weights(eigenvalues, schedule, training)
    a, s = schedule.abar[:, None], schedule.s[:, None]
    common = -2.0 * np.sqrt(s) * w.sum(axis=1, keepdims=True) / d + 1.0
    train = (w * w * (a * eigenvalues + s)).sum(axis=1) / d + common[:, 0]
    second = test_moment if mean_err2 is None else test_moment + np.asarray(mean_err2, float)
    test = (w * w * (a * second + s)).sum(axis=1) / d + common[:, 0]
    return train, test


# --------------------------------------------------------------------------------------------
# general (non-commuting) recursion

def ancestral_law(W, b, schedule: Schedule, mean_start=None, cov_start=None):
    """Exact law of the ancestral sampler for arbitrary linear denoisers ``eps_theta = W_t x + b_t``.

    ``W``: ``(steps, d, d)``, ``b``: ``(steps, d)`` (index ``t-1``).  Matrix recursion
    ``mu_{t-1} = A_t mu_t - beta_t b_t / sqrt(alpha_t s_t)``, ``S_{t-1} = A_t S_t A_t^T + sigma_t^2 I``,
    ``A_t = (I - beta_t W_t / sqrt(s_t)) / sqrt(alpha_t)``, from ``N(mean_start, cov_start)`` (default ``N(0, I)``).
    Costs ``O(steps d^3)``: use :func:`generated_spectrum` when the ``W_t`` commute with ``C``.
    """
    W, b = np.asarray(W, float), np.asarray(b, float)
    K, d = schedule.steps, W.shape[-1]
    if W.shape != (K, d, d) or b.shape != (K, d):
        raise ValueError(f"W: shapes {W.shape}, {b.shape} of W, b, expected ({K}, {d}, {d}), ({K}, {d})")
    mu = np.zeros(d) if mean_start is None else np.asarray(mean_start, float)
    S = np.eye(d) if cov_start is None else np.asarray(cov_start, float)
    eye = np.eye(d)
    for t in range(K - 1, -1, -1):
        k = schedule.beta[t] / math.sqrt(schedule.s[t])
        A = (eye - k * W[t]) / math.sqrt(schedule.alpha[t])
        mu = A @ mu - k * b[t] / math.sqrt(schedule.alpha[t])
        S = A @ S @ A.T + schedule.sigma2[t] * eye
    return mu, S


# --------------------------------------------------------------------------------------------
# one training set, exactly

@dataclass(frozen=True)
class TrainedChain:
    """A trained linear DDPM: eigen-decomposition of ``C``, the centring mean and how it was trained."""

    eigenvalues: np.ndarray = field(repr=False)
    eigenvectors: np.ndarray = field(repr=False)
    centre: np.ndarray = field(repr=False)
    schedule: Schedule
    training: Training

    def denoisers(self):
        """``(W, b)`` as full matrices, ``W_t = U w_t(Lambda) U^T``, ``b_t = -sqrt(abar_t) W_t centre``."""
        U = self.eigenvectors
        w = denoiser_weights(self.eigenvalues, self.schedule, self.training)
        W = np.einsum("ik,tk,jk->tij", U, w, U)
        b = -np.sqrt(self.schedule.abar)[:, None] * (W @ self.centre)
        return W, b

    def generated_law(self) -> divergences.GaussianMixture:
        """``N(mu_0, Sigma_0)`` of the generated Gaussian (module docstring), ``Sigma_0`` by its factor ``U sqrt(g)``."""
        U = self.eigenvectors
        g, p = generated_spectrum(self.eigenvalues, self.schedule, self.training)
        mu0 = self.centre - math.sqrt(self.schedule.abar[-1]) * (U @ (p * (U.T @ self.centre)))
        return divergences.gaussian(mu0, factor=U * np.sqrt(g))


def train(X, schedule: Schedule, training: Training, centre=None) -> TrainedChain:
    """Fit all the linear denoisers on the rows of ``X`` (closed form, module docstring).

    ``centre=None`` centres on the sample mean (learned mean); otherwise on ``centre`` (a known mean).
    """
    X = finite_array("X", X)
    if X.ndim != 2:
        raise ValueError(f"X: must be an (N, d) array, got shape {X.shape}")
    N, d = X.shape
    centre = X.mean(axis=0) if centre is None else finite_array("centre", centre)
    if centre.shape != (d,):
        raise ValueError(f"centre: shape {centre.shape}, expected ({d},)")
    _, sv, vt = np.linalg.svd((X - centre) / math.sqrt(N), full_matrices=N < d)
    sv = np.where(sv <= max(N, d) * _EPS * sv.max(), 0.0, sv)
    eigenvalues = np.zeros(d)
    eigenvalues[:sv.size] = sv**2
    return TrainedChain(eigenvalues, vt.T, centre, schedule, training)


@dataclass(frozen=True, repr=False)
class Losses(Result):
    """KLs per dimension between the generated and the true law, and per-step train and test losses."""

    N: int
    d: int
    training: Training
    kl_gen_true_per_dim: float
    kl_true_gen_per_dim: float
    train_loss: np.ndarray
    test_loss: np.ndarray

    @property
    def train_loss_sum(self) -> float:
        return float(self.train_loss.sum())

    @property
    def test_loss_sum(self) -> float:
        return float(self.test_loss.sum())

    def _dataset(self):
        import xarray as xr

        steps = np.arange(1, self.train_loss.size + 1)
        attrs = {"N": self.N, "d": self.d, "c": self.training.c, "tau": self.training.tau, "eta": self.training.eta,
                 "kl_gen_true_per_dim": self.kl_gen_true_per_dim, "kl_true_gen_per_dim": self.kl_true_gen_per_dim}
        return xr.Dataset({"train_loss": ("step", self.train_loss), "test_loss": ("step", self.test_loss)},
                          coords={"step": steps}, attrs=attrs)

    @classmethod
    def _from_dataset(cls, data, attrs):
        return cls(attrs["N"], attrs["d"], Training(attrs["c"], attrs["tau"], attrs["eta"]),
                   attrs["kl_gen_true_per_dim"], attrs["kl_true_gen_per_dim"], data["train_loss"].values,
                   data["test_loss"].values)

    def _summary(self) -> str:
        return (f"N={self.N}, d={self.d}, c={self.training.c:g}, τ={self.training.tau:g}; KL(gen‖true)/d = "
                f"{self.kl_gen_true_per_dim:.4g}, KL(true‖gen)/d = {self.kl_true_gen_per_dim:.4g}, "
                f"{self.train_loss.size} steps")


class Realisation(Losses):
    """Exact results for one training set (losses and KLs per dimension)."""


def realise(spectrum, N: int, schedule: Schedule | None = None, training: Training | None = None,
            mean=None, known_mean: bool = False, seed=None) -> Realisation:
    """Draw ``N`` points from ``N(mean, diag(spectrum))`` (``mean`` default 0), train the chain, return exact KLs
    and losses.  ``known_mean=True`` centres on ``mean`` instead of the sample mean.

    ``KL(p_gen || p) / d`` and ``KL(p || p_gen) / d`` are ``math.inf`` when ``Sigma_0`` is singular.
    """
    eigenvalues = check_spectrum(spectrum)
    N = count("N", N)
    schedule = linear_schedule() if schedule is None else schedule
    training = Training() if training is None else training
    d = eigenvalues.size
    mean = np.zeros(d) if mean is None else finite_array("mean", mean)
    if mean.shape != (d,):
        raise ValueError(f"mean: shape {mean.shape}, expected ({d},)")
    rng = np.random.default_rng(seed)
    X = mean + rng.standard_normal((N, d)) * np.sqrt(eigenvalues)
    chain = train(X, schedule, training, centre=mean if known_mean else None)
    p_gen = chain.generated_law()
    p_true = divergences.gaussian(mean, eigenvalues)
    U = chain.eigenvectors
    test_moment = (U**2 * eigenvalues[:, None]).sum(axis=0)
    err2 = (U.T @ (mean - chain.centre)) ** 2
    tr, te = step_losses(chain.eigenvalues, test_moment, schedule, training, err2)
    return Realisation(N, d, training, divergences.kl(p_gen, p_true) / d, divergences.kl(p_true, p_gen) / d,
                       tr, te)
