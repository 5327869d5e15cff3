"""Figure 2 of the manifold seed (arXiv 2603.22962, docs/manifolds.md): score errors of the ReLU random-features score
on linear (σ(u) = u) and non-linear (σ = tanh) manifolds, against ψn = n/d, at t = 0.001 and t = 0.1; ψp = 4, λ = 1e-3,
m = 1. On the tanh manifold the score error is measured against the score −Σ_t^{-1} y of the Gaussian-equivalent law, Σ
= ν1² M Mᵀ/D + ν*² I (the exact score of those data is not available).

    python scripts/fig_manifold_2.py [--out out/seed] [--quick]

Writes ``manifold_fig2.png``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import colours, figure, finish_axes, legend, parser, save  # noqa: E402
import numpy as np  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.data import Manifold  # noqa: E402

ACTIVATION, PSI_P, M, LAM = "relu", 4.0, 1, 1e-3
TIMES = (0.001, 0.1)
PSI_D = (0.1, 0.5)
SIGMAS = {"linear": "-", "tanh": "--"}


def main(argv=None) -> None:
    args = parser(__doc__).parse_args(argv)
    start = time.perf_counter()
    psi_n = np.geomspace(0.05, 100, 40 if args.quick else 200)
    fig, axes = figure(len(TIMES))
    for ax, t in zip(axes[0], TIMES):
        for colour, psi_D in zip(colours(len(PSI_D)), PSI_D):
            for sigma, style in SIGMAS.items():
                c = rfdsm.learning_curve(ACTIVATION, t, psi_n, PSI_P, m=M, lam=LAM, data=Manifold(psi_D, sigma))
                ax.plot(psi_n, c.score, color=colour, lw=1.3, ls=style, label=f"ψ_D = {psi_D:g}, σ = {sigma}")
        ax.axvline(PSI_P, color="gray", lw=0.8, ls="-.", label="ψn = ψp")
        finish_axes(ax, "ψn = n/d")
        ax.set_title(f"t = {t:g}")
    axes[0, 0].set_ylabel("score error\n(tanh: against the Gaussian-equivalent score)")
    fig.suptitle(f"Score error on linear and tanh manifolds: {ACTIVATION} score, ψp = {PSI_P:g}, λ = {LAM:g}, m = {M}",
                 fontsize=9)
    legend(fig, axes)
    save(fig, args.out, "manifold_fig2.png", start)


if __name__ == "__main__":
    main()
