"""DDPM chain with one linear denoiser per step: schedule, denoisers, generated law, losses (finite d).

Conventions (MODELS.md §5; the choices made here are marked *)
--------------------------------------------------------------
* Steps ``t = 1..T`` (stored at index ``t-1``); ``beta_t`` linear from ``1e-4`` to ``1e-2``;
  ``alpha_t = 1 - beta_t``; ``abar_t = prod_{s<=t} alpha_s``; ``a = abar_t``, ``s = 1 - abar_t``.
  Forward: ``x_t = sqrt(a) x_0 + sqrt(s) eps``.
* Denoiser ``eps_theta(x, t) = W_t x + b_t``, trained on ``N`` points with the noise-averaged loss
  ``L_t(W, b) = (1/N) sum_i E_eps |W x_t,i + b - eps|^2 + c |W|_F^2`` (ridge ``c >= 0`` on ``W`` only).
  *The intercept is always at its optimum given ``W``: ``b_t = -sqrt(a) W_t mu_hat``, i.e. ``W`` is trained
  on data centred by ``mu_hat`` (``mean="learned"``: ``mu_hat`` the sample mean and
  ``C = (1/N) sum (x_i - mu_hat)(x_i - mu_hat)^T``, rank ``<= N-1``; ``mean="known"``: ``mu_hat = mu``
  and ``C`` the second moment about ``mu``, rank ``<= N``).
  Then ``W_t = w_t(C)`` with, on each eigenvalue ``l`` of ``C`` and ``u = a l + s + c``,
      ``w_t(l) = sqrt(s) (1 - exp(-eta tau u)) / u``
  (*gradient flow ``dW/dtau = -(eta/2) dL/dW`` from ``W = 0``; ``tau = inf`` is the ridge optimum
  ``sqrt(s) (a C + (s + c) I)^{-1}``).
* Ancestral sampler: ``x_T ~ N(0, I)``,
  ``x_{t-1} = (x_t - beta_t / sqrt(s_t) eps_theta(x_t, t)) / sqrt(alpha_t) + sigma_t z``,
  *``sigma_t^2 = beta~_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)`` (posterior variance, ``sigma_1 = 0``;
  ``sampler_var="beta"`` uses ``beta_t``).  With ``y_t = x_t - sqrt(abar_t) mu_hat`` the step is
  ``y_{t-1} = M_t y_t + sigma_t z``, ``M_t = (I - beta_t / sqrt(s_t) W_t) / sqrt(alpha_t)``: the intercept
  cancels exactly, so the generated law is ``N(mu_0, Sigma_0)`` with
      ``mu_0 = mu_hat - sqrt(abar_T) P(C) mu_hat``,  ``Sigma_0 = g(C)``,
      ``P = prod_t m_t``,  ``g = v_0`` where ``v_T = 1``, ``v_{t-1} = m_t^2 v_t + sigma_t^2``,
  ``m_t(l) = (1 - beta_t w_t(l) / sqrt(s_t)) / sqrt(alpha_t)``.  Every ``W_t`` is a function of ``C`` and
  ``x_T`` is isotropic, so everything commutes with ``C`` and is diagonal in its eigenbasis; for
  denoisers that do not commute use :func:`ancestral_law` (the matrix recursion).
  With ``c = 0``, ``tau = inf`` and the posterior variance, a null direction of ``C`` gets
  ``m_1 = 0``, ``sigma_1 = 0``: ``Sigma_0`` is singular for ``N <= d`` (``N <= d - 1`` known mean) and both
  KLs are ``math.inf``.
* Losses, per dimension, noise averaged, no ridge term:
  train ``(1/(N d)) sum_i E_eps |eps_theta(x_t,i) - eps|^2 = (1/d) tr[W^2 (a C + s)] - 2 sqrt(s)/d tr W + 1``;
  test  ``(1/d) E_{x ~ N(mu, Sigma)} ... = (1/d) tr[W (a Sigma + s) W] - 2 sqrt(s)/d tr W + 1
  + (a/d) |W (mu - mu_hat)|^2``.  "Summed" is the sum over the ``T`` steps.
* Data ``N(mu, Sigma)`` with ``Sigma = diag(spectrum)``: every quantity here is rotation invariant, so a
  spectrum fixes the model.  :func:`power_law_spectrum` gives ``l_nu = d nu^{-k} / sum_mu mu^{-k}``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import gaussians


# --------------------------------------------------------------------------------------------
# inputs

def power_law_spectrum(d: int, k: float) -> np.ndarray:
    """``l_nu = d nu^{-k} / sum_{mu<=d} mu^{-k}``, ``nu = 1..d`` (so ``tr Sigma = d``)."""
    if int(d) != d or d <= 0:
        raise ValueError(f"d: must be a positive integer, got {d}")
    if not k >= 0:
        raise ValueError(f"k: must be >= 0, got {k}")
    nu = np.arange(1, int(d) + 1, dtype=float)
    lam = nu ** (-float(k))
    return lam * (d / lam.sum())


def check_spectrum(spectrum) -> np.ndarray:
    lam = np.asarray(spectrum, dtype=float)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError("spectrum: must be a non-empty 1-D array")
    if not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError("spectrum: eigenvalues must be finite and positive")
    return lam


@dataclass(frozen=True)
class Schedule:
    """DDPM noise schedule; arrays indexed by ``t - 1`` for ``t = 1..T``."""

    beta: np.ndarray
    sampler_var: str = "posterior"
    alpha: np.ndarray = field(init=False, repr=False)
    abar: np.ndarray = field(init=False, repr=False)
    s: np.ndarray = field(init=False, repr=False)
    sigma2: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        beta = np.asarray(self.beta, dtype=float)
        if beta.ndim != 1 or beta.size == 0 or np.any(beta <= 0) or np.any(beta >= 1):
            raise ValueError("beta: must be a non-empty 1-D array in (0, 1)")
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
    def T(self) -> int:
        return self.beta.size


def linear_schedule(T: int = 1000, beta_min: float = 1e-4, beta_max: float = 1e-2,
                    sampler_var: str = "posterior") -> Schedule:
    """``beta_t`` linear from ``beta_min`` (t = 1) to ``beta_max`` (t = T)."""
    if int(T) != T or T <= 0:
        raise ValueError(f"T: must be a positive integer, got {T}")
    if not 0 < beta_min <= beta_max < 1:
        raise ValueError(f"beta_min, beta_max: need 0 < beta_min <= beta_max < 1, got {beta_min}, {beta_max}")
    return Schedule(np.linspace(beta_min, beta_max, int(T)), sampler_var)


@dataclass(frozen=True)
class Training:
    """How each step's ``W_t`` is trained: ridge ``c``, gradient-flow time ``tau`` (inf = converged), rate ``eta``."""

    c: float = 0.0
    tau: float = math.inf
    eta: float = 1.0

    def __post_init__(self):
        if not self.c >= 0 or not math.isfinite(self.c):
            raise ValueError(f"c: ridge must be finite and >= 0, got {self.c}")
        if not self.tau > 0:
            raise ValueError(f"tau: training time must be > 0, got {self.tau}")
        if not self.eta > 0 or not math.isfinite(self.eta):
            raise ValueError(f"eta: learning rate must be finite and > 0, got {self.eta}")


# --------------------------------------------------------------------------------------------
# spectral maps (real or complex eigenvalue argument)

def denoiser_weights(lam, schedule: Schedule, training: Training) -> np.ndarray:
    """``w_t(l) = sqrt(s_t) (1 - exp(-eta tau u)) / u``, ``u = abar_t l + s_t + c``; shape ``(T,) + lam.shape``."""
    lam = np.asarray(lam)
    a = schedule.abar.reshape((-1,) + (1,) * lam.ndim)
    s = schedule.s.reshape(a.shape)
    u = a * lam + s + training.c
    frac = 1.0 if math.isinf(training.tau) else -np.expm1(-training.eta * training.tau * u)
    return np.sqrt(s) * frac / u


def generated_spectrum(lam, schedule: Schedule, training: Training):
    """``(g(l), P(l))``: generated variance ``g = v_0`` and mean propagator ``P = prod_t m_t`` on eigenvalue ``l``.

    ``m_t = (1 - beta_t w_t / sqrt(s_t)) / sqrt(alpha_t)``, ``v_T = 1``, ``v_{t-1} = m_t^2 v_t + sigma_t^2``.
    Works on any array of (real or complex) ``l``.
    """
    lam = np.asarray(lam)
    v = np.ones(lam.shape, dtype=np.result_type(lam, float))
    p = np.ones_like(v)
    flow = not math.isinf(training.tau)
    for t in range(schedule.T - 1, -1, -1):
        u = schedule.abar[t] * lam + schedule.s[t] + training.c
        frac = -np.expm1(-training.eta * training.tau * u) if flow else 1.0
        # beta_t w_t / sqrt(s_t) = beta_t frac / u
        m = (1.0 - schedule.beta[t] * frac / u) / math.sqrt(schedule.alpha[t])
        v = m * m * v + schedule.sigma2[t]
        p = m * p
    return v, p


def step_losses(lam_hat, q, schedule: Schedule, training: Training, mean_err2=None):
    """Per-step train and test losses per dimension from ``C``'s eigenvalues ``lam_hat``.

    ``q[i] = u_i^T Sigma u_i`` (test-set second moment along ``C``'s eigenvectors) and
    ``mean_err2[i] = (u_i^T (mu - mu_hat))^2`` (omit for zero).  Returns ``(train, test)``, each ``(T,)``.
    """
    lam_hat, q = np.asarray(lam_hat, float), np.asarray(q, float)
    d = lam_hat.size
    w = denoiser_weights(lam_hat, schedule, training)
    a, s = schedule.abar[:, None], schedule.s[:, None]
    common = -2.0 * np.sqrt(s) * w.sum(axis=1, keepdims=True) / d + 1.0
    train = (w * w * (a * lam_hat + s)).sum(axis=1) / d + common[:, 0]
    second = q if mean_err2 is None else q + np.asarray(mean_err2, float)
    test = (w * w * (a * second + s)).sum(axis=1) / d + common[:, 0]
    return train, test


# --------------------------------------------------------------------------------------------
# general (non-commuting) recursion

def ancestral_law(W, b, schedule: Schedule, mean_T=None, cov_T=None):
    """Exact law of the ancestral sampler for arbitrary linear denoisers ``eps_theta = W_t x + b_t``.

    ``W``: ``(T, d, d)``, ``b``: ``(T, d)`` (index ``t-1``).  Matrix recursion
    ``mu_{t-1} = A_t mu_t - beta_t b_t / sqrt(alpha_t s_t)``, ``S_{t-1} = A_t S_t A_t^T + sigma_t^2 I``,
    ``A_t = (I - beta_t W_t / sqrt(s_t)) / sqrt(alpha_t)``, from ``N(mean_T, cov_T)`` (default ``N(0, I)``).
    Costs ``O(T d^3)``: use :func:`generated_spectrum` when the ``W_t`` commute with ``C``.
    """
    W, b = np.asarray(W, float), np.asarray(b, float)
    T, d = schedule.T, W.shape[-1]
    if W.shape != (T, d, d) or b.shape != (T, d):
        raise ValueError(f"W, b: shapes {W.shape}, {b.shape}, expected ({T}, {d}, {d}), ({T}, {d})")
    mu = np.zeros(d) if mean_T is None else np.asarray(mean_T, float)
    S = np.eye(d) if cov_T is None else np.asarray(cov_T, float)
    eye = np.eye(d)
    for t in range(T - 1, -1, -1):
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

    lam_hat: np.ndarray
    U: np.ndarray
    mu_hat: np.ndarray
    schedule: Schedule
    training: Training

    def denoisers(self):
        """``(W, b)`` as full matrices, ``W_t = U w_t(Lambda) U^T``, ``b_t = -sqrt(abar_t) W_t mu_hat``."""
        w = denoiser_weights(self.lam_hat, self.schedule, self.training)
        W = np.einsum("ik,tk,jk->tij", self.U, w, self.U)
        b = -np.sqrt(self.schedule.abar)[:, None] * (W @ self.mu_hat)
        return W, b

    def generated_law(self):
        """``(mu_0, Sigma_0)`` of the generated Gaussian (module docstring)."""
        g, p = generated_spectrum(self.lam_hat, self.schedule, self.training)
        mu0 = self.mu_hat - math.sqrt(self.schedule.abar[-1]) * (self.U @ (p * (self.U.T @ self.mu_hat)))
        return mu0, (self.U * g) @ self.U.T


def train(X, schedule: Schedule, training: Training, mean: str = "learned", mu=None) -> TrainedChain:
    """Fit all ``T`` linear denoisers on the rows of ``X`` (closed form, see the module docstring)."""
    X = np.asarray(X, float)
    if X.ndim != 2 or X.shape[0] <= 0:
        raise ValueError("X: must be an (N, d) array with N > 0")
    if mean == "learned":
        mu_hat = X.mean(axis=0)
    elif mean == "known":
        if mu is None:
            raise ValueError("mu: required with mean='known'")
        mu_hat = np.asarray(mu, float)
    else:
        raise ValueError(f"mean: 'learned' or 'known', got {mean!r}")
    Xc = X - mu_hat
    lam_hat, U = np.linalg.eigh(Xc.T @ Xc / X.shape[0])
    return TrainedChain(np.maximum(lam_hat, 0.0), U, mu_hat, schedule, training)


@dataclass(frozen=True)
class Losses:
    """KLs between the generated and the true law and per-step train and test losses (arrays over ``t = 1..T``)."""

    N: int
    d: int
    training: Training
    kl_gen_true: float
    kl_true_gen: float
    train_loss: np.ndarray
    test_loss: np.ndarray

    @property
    def train_loss_sum(self) -> float:
        return float(self.train_loss.sum())

    @property
    def test_loss_sum(self) -> float:
        return float(self.test_loss.sum())


class Realisation(Losses):
    """Exact results for one training set (losses per dimension; KL in nats, not divided by ``d``)."""


def simulate(spectrum, N: int, schedule: Schedule | None = None, training: Training | None = None,
             mu=None, mean: str = "learned", seed=None) -> Realisation:
    """Draw ``N`` points from ``N(mu, diag(spectrum))``, train the chain, return exact KLs and losses.

    ``KL(p_gen || p)`` and ``KL(p || p_gen)`` are ``math.inf`` when ``Sigma_0`` is singular.
    """
    lam = check_spectrum(spectrum)
    if int(N) != N or N <= 0:
        raise ValueError(f"N: must be a positive integer, got {N}")
    schedule = linear_schedule() if schedule is None else schedule
    training = Training() if training is None else training
    d = lam.size
    mu = np.zeros(d) if mu is None else np.asarray(mu, float)
    rng = np.random.default_rng(seed)
    X = mu + rng.standard_normal((int(N), d)) * np.sqrt(lam)
    chain = train(X, schedule, training, mean=mean, mu=mu)
    mu0, S0 = chain.generated_law()
    p_true = gaussians.gaussian(mu, lam)
    p_gen = gaussians.gaussian(mu0, S0)
    q = (chain.U**2 * lam[:, None]).sum(axis=0)
    err2 = (chain.U.T @ (mu - chain.mu_hat)) ** 2
    tr, te = step_losses(chain.lam_hat, q, schedule, training, err2)
    return Realisation(int(N), d, training, gaussians.kl(p_gen, p_true), gaussians.kl(p_true, p_gen), tr, te)
