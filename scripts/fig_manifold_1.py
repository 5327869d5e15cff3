"""Figure 1 of the manifold seed (arXiv 2603.22962, docs/manifolds.md): test and train errors of the ReLU
random-features score on data on a linear manifold, x = Mξ/√D, against ψn = n/d, for several ψ_D = D/d; the test error
of the exact score, C_t = 1 − (h/d) tr Σ_t^{-1}, as a dotted line of each colour. t = 0.1, ψp = 4, λ = 1e-3, m = 1 and
m = ∞; the y axis stops at 0.03 (the train error at m = 1 goes on down to 1e-9 where the model interpolates, ψn < ψp).

    python scripts/fig_manifold_1.py [--out out/seed] [--quick]

Writes ``manifold_fig1.png``.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import colours, figure, finish_axes, label_m, legend, parser, save  # noqa: E402
import numpy as np  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.data import Manifold  # noqa: E402

ACTIVATION, T, PSI_P, LAM = "relu", 0.1, 4.0, 1e-3
PSI_D = (0.1, 0.3, 0.6, 1.0)
MS = (1, math.inf)


def main(argv=None) -> None:
    args = parser(__doc__).parse_args(argv)
    start = time.perf_counter()
    psi_n = np.geomspace(0.05, 100, 40 if args.quick else 200)
    fig, axes = figure(len(MS), sharey=True)
    for ax, m in zip(axes[0], MS):
        for colour, psi_D in zip(colours(len(PSI_D)), PSI_D):
            c = rfdsm.learning_curve(ACTIVATION, T, psi_n, PSI_P, m=m, lam=LAM, data=Manifold(psi_D))
            ax.plot(psi_n, c.test, color=colour, lw=1.3, label=f"ψ_D = {psi_D:g}")
            ax.plot(psi_n, c.train, color=colour, lw=1.3, ls="--")
            ax.axhline(c.baseline, color=colour, lw=1.0, ls=":")
        ax.axvline(PSI_P, color="gray", lw=0.8, ls="-.", label="ψn = ψp")
        finish_axes(ax, "ψn = n/d")
        ax.set_title(f"m = {label_m(m)}")
    axes[0, 0].set(ylabel="error", ylim=(0.03, None))  # the train error at m = 1 falls to 1e-9 (module docstring)
    axes[0, 0].plot([], [], color="k", lw=1.3, label="test error (solid)")
    axes[0, 0].plot([], [], color="k", lw=1.3, ls="--", label="train error (dashed)")
    axes[0, 0].plot([], [], color="k", lw=1.0, ls=":", label="C_t: test error of the exact score")
    fig.suptitle(f"Linear manifold x = Mξ/√D: {ACTIVATION} score, t = {T:g}, ψp = {PSI_P:g}, λ = {LAM:g}", fontsize=9)
    legend(fig, axes)
    save(fig, args.out, "manifold_fig1.png", start)


if __name__ == "__main__":
    main()
