"""Figure 3 of the manifold seed (arXiv 2603.22962, docs/manifolds.md): score error and sample complexity, ReLU score,
ψp = 100, λ = 1e-3, m = ∞.

    python scripts/fig_manifold_3.py [--out out/seed] [--quick]

Writes ``manifold_fig3.png``: (a) the excess score error ε_score(ψn) − ε_∞ on linear manifolds at t = 0.1 for several
ψ_D, with the target; (b) the sample complexity ψn* = n*/d (``rfdsm.sample_complexity``: least ψn with excess ≤ target)
against ψ_D on linear and tanh manifolds at t = 0.1, with the fits; (c) the same at t = 0.01, target scaled by
h(0.1)/h(0.01) (the score error grows like 1/h), where ψn* does not grow with ψ_D. Prints ψn*, the straight-line fit
ψn* = a + b ψ_D over ψ_D ≤ 0.4 and the log-log slope over the whole range, for each panel and σ.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import WIDTH, colours, finish_axes, parser, save  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.complexity import LIMIT  # noqa: E402
from rfdsm.data import Manifold  # noqa: E402

ACTIVATION, PSI_P, M, LAM = "relu", 100.0, math.inf, 1e-3
#: Target on the excess score error at t = 0.1; at other t it is scaled by h(0.1)/h(t).
TARGET = 0.1
TIMES = (0.1, 0.01)
PSI_D = (0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0)
#: The straight-line fit uses ψ_D up to this value (beyond it ψn* bends below the line).
FIT_UP_TO = 0.4
SIGMAS = {"linear": "C0", "tanh": "C3"}


def target(t: float) -> float:
    return TARGET * math.expm1(-0.2) / math.expm1(-2 * t)


def fits(psi_D: np.ndarray, psi_n: np.ndarray) -> tuple[float, float, float]:
    """``(a, b)`` of ``ψn* = a + b ψ_D`` over ``ψ_D ≤ FIT_UP_TO`` and the slope of ``log ψn*`` against ``log ψ_D``."""
    low = psi_D <= FIT_UP_TO
    b, a = np.polyfit(psi_D[low], psi_n[low], 1)
    return a, b, float(np.polyfit(np.log(psi_D), np.log(psi_n), 1)[0])


def main(argv=None) -> None:
    args = parser(__doc__).parse_args(argv)
    start = time.perf_counter()
    psi_D = np.array(PSI_D[::2] if args.quick else PSI_D)
    fig, (excess_ax, *complexity_axes) = plt.subplots(1, 3, figsize=(WIDTH * 1.3, 3.2), layout="constrained")
    psi_n = np.geomspace(1, 1e4, 40 if args.quick else 160)
    for colour, p in zip(colours(len(psi_D)), psi_D):
        data = Manifold(p)
        limit = float(rfdsm.learning_curve(ACTIVATION, TIMES[0], LIMIT, PSI_P, m=M, lam=LAM, data=data).score)
        c = rfdsm.learning_curve(ACTIVATION, TIMES[0], psi_n, PSI_P, m=M, lam=LAM, data=data)
        excess_ax.plot(psi_n, c.score - limit, color=colour, lw=1.2, label=f"ψ_D = {p:g}")
    excess_ax.axhline(TARGET, color="k", lw=0.8, ls=":", label="target")
    finish_axes(excess_ax, "ψn = n/d")
    excess_ax.set(title=f"(a) linear manifold, t = {TIMES[0]:g}", ylabel="ε_score − ε_∞")
    excess_ax.legend(fontsize=6.5, frameon=False, ncol=2, loc="lower left")
    for ax, t, letter in zip(complexity_axes, TIMES, "bc"):
        for sigma, colour in SIGMAS.items():
            result = rfdsm.sample_complexity(ACTIVATION, t, PSI_P, [Manifold(p, sigma) for p in psi_D], target(t),
                                             m=M, lam=LAM)
            a, b, slope = fits(psi_D, result.psi_n)
            print(f"t = {t:g}, σ = {sigma}, target {target(t):.4g}: ψn* = {np.round(result.psi_n, 1).tolist()}; "
                  f"fit over ψ_D ≤ {FIT_UP_TO:g}: ψn* = {a:.3g} + {b:.4g} ψ_D; log-log slope {slope:.3f}")
            ax.plot(psi_D, result.psi_n, "o-", color=colour, ms=3.5, lw=1.0,
                    label=f"{sigma}: {a:.3g} {'+' if b >= 0 else '−'} {abs(b):.0f} ψ_D\n  log-log slope {slope:.2f}")
            line = psi_D[psi_D <= FIT_UP_TO]
            ax.plot(line, a + b * line, color=colour, lw=0.7, ls="--")
        ax.set(title=f"({letter}) ψn*, t = {t:g}, target {target(t):.3g}", xlabel="ψ_D = D/d", ylabel="ψn* = n*/d",
               xlim=(0, 1.05), ylim=(0, None))
        ax.grid(alpha=0.25)
        ax.legend(fontsize=7, frameon=False, loc="lower right" if t == TIMES[0] else "upper right")
    fig.suptitle(f"Sample complexity on manifolds: {ACTIVATION} score, ψp = {PSI_P:g}, λ = {LAM:g}, m = ∞; ψn* = least "
                 "ψn with ε_score − ε_∞ ≤ target (tanh: against the Gaussian-equivalent score)", fontsize=8.5)
    save(fig, args.out, "manifold_fig3.png", start)


if __name__ == "__main__":
    main()
