"""Figure 4 of the manifold seed (arXiv 2603.22962, docs/manifolds.md): test and train errors of the ReLU
random-features score on the tanh manifold x = tanh(Mξ/√D) (ψ_D = 0.3) against ψp, next to simulations of the real data
(not their Gaussian equivalent) with a fresh M a draw. t = 0.1, ψn = 1, λ = 1e-3, m = 1 and m = ∞.

    python scripts/fig_manifold_4.py [--d 200] [--seeds 10] [--out out/seed] [--quick]

Writes ``manifold_fig4.png``. Lines: the theory as d → ∞ (solid: test, dashed: train) and on the spectrum of size d
(thin dotted); the grey line is C_t. Points: simulations at d/2 and d (open, light; mean ± standard error over draws)
and their extrapolation to d = ∞ in 1/d (filled, ``rfdsm.compare``). Prints the z-scores of the extrapolation.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import figure, finish_axes, label_m, legend, parser, save  # noqa: E402
import numpy as np  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.data import Gaussian, Manifold  # noqa: E402

ACTIVATION, T, PSI_N, LAM = "relu", 0.1, 1.0, 1e-3
DATA = Manifold(0.3, "tanh")
MS = (1, math.inf)
SIMULATED = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
STYLE = {"test": ("o", "C0"), "train": ("s", "C3")}


def main(argv=None) -> None:
    args = parser(__doc__, default_d=200).parse_args(argv)
    sizes = (20, 40) if args.quick else (args.d // 2, args.d)
    seeds = 2 if args.quick else (10 if args.seeds == 3 else args.seeds)  # 10 draws unless told otherwise
    simulated = SIMULATED[2:3] if args.quick else SIMULATED
    start = time.perf_counter()
    psi_p = np.geomspace(0.2, 10, 30 if args.quick else 150)
    fig, axes = figure(len(MS), sharey=True)
    for ax, m in zip(axes[0], MS):
        limit = rfdsm.learning_curve(ACTIVATION, T, PSI_N, psi_p, m=m, lam=LAM, data=DATA)
        at_d = rfdsm.learning_curve(ACTIVATION, T, PSI_N, psi_p, m=m, lam=LAM,
                                    data=Gaussian(*DATA.spectrum(sizes[-1]).T))
        result = rfdsm.compare(ACTIVATION, T, PSI_N, simulated, m=m, lam=LAM, sizes=sizes, seeds=seeds, data=DATA)
        print(result.table())
        for error, (marker, colour) in STYLE.items():
            ax.plot(psi_p, getattr(limit, error), color=colour, lw=1.3, ls="-" if error == "test" else "--",
                    label=f"{error}: theory, d → ∞")
            ax.plot(psi_p, getattr(at_d, error), color=colour, lw=0.7, ls=":",
                    label=f"{error}: theory at d = {sizes[-1]}")
            for k, d in enumerate(sizes):
                ax.errorbar(np.array(simulated) * (1.04 + 0.04 * k), result.mean[error][k], yerr=result.se[error][k],
                            fmt=marker, ms=3, mfc="white", color=colour, alpha=0.45, capsize=1.5, lw=0.7,
                            label=f"{error}: simulated at d = {', '.join(map(str, sizes))}")
            ax.errorbar(simulated, result.extrapolated[error], yerr=result.extrapolated_se[error], fmt=marker, ms=4,
                        color=colour, mec="k", mew=0.5, capsize=2, lw=0.8, zorder=3,
                        label=f"{error}: extrapolated to d = ∞ ({seeds} draws a size)")
        ax.axhline(limit.baseline, color="gray", lw=0.8, label="C_t (Gaussian-equivalent law)")
        finish_axes(ax)
        ax.set_title(f"m = {label_m(m)}")
    axes[0, 0].set_ylabel("error")
    fig.suptitle(f"tanh manifold (ψ_D = {DATA.psi_D:g}): {ACTIVATION} score, t = {T:g}, ψn = {PSI_N:g}, λ = {LAM:g}",
                 fontsize=9)
    legend(fig, axes)
    save(fig, args.out, "manifold_fig4.png", start)


if __name__ == "__main__":
    main()
