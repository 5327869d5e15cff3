"""Figure 2 of the seed paper (arXiv 2502.00336) with its caption's settings: RF-DSM learning curves against ψp at
several diffusion times t, for m = ∞, ψn = 20, λ = 1e-3, ReLU. Errors are divided by each time's baseline
a² = e^{−2t} (the test error of the exact score), so that the curves of different t share one axis.

    python scripts/fig_seed_2.py [--d 50] [--seeds 3] [--out out/seed] [--quick]

Writes ``seed_fig2.png``: (a) test (solid) and train (dashed) errors at t = 0.01, 0.1, 0.5, 1; (b) the t = 0.1 curves
with simulations of the real model at one ``d``. And ``seed_fig2_m.png``: panel (a) for m = 2, 4, 16 (beyond the
paper).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import (  # noqa: E402
    colours, curve, draw_curve, draw_points, figure, finish_axes, guides, label_m, legend, parser, save, simulated,
    style_legend_entries,
)
import numpy as np  # noqa: E402

ACTIVATION, M, PSI_N, LAM = "relu", math.inf, 20.0, 1e-3
TIMES = (0.01, 0.1, 0.5, 1.0)
EXTRA_M = (2, 4, 16)
#: The simulated curve and its points (ψp d must be whole at the chosen d).
SIMULATED_T = 0.1
SIMULATED_PSI_P = (1.0, 2.0, 5.0, 10.0, 20.0)


def panel(ax, m, psi_p: np.ndarray) -> None:
    """Test and train errors over a² against ψp, one colour per t."""
    for colour, t in zip(colours(len(TIMES)), TIMES):
        draw_curve(ax, curve(ACTIVATION, t, PSI_N, psi_p, m, LAM), colour, f"t = {t:g}", relative=True)
    guides(ax, 1.0, [PSI_N])
    finish_axes(ax)


def main(argv=None) -> None:
    p = parser(__doc__)
    p.add_argument("--d", type=int, default=50, help="dimension of the simulations (default: 50)")
    p.add_argument("--seeds", type=int, default=3, help="independent draws per simulated point (default: 3)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    psi_p = np.geomspace(0.1, 1000, 40 if args.quick else 200)
    simulated_psi_p = SIMULATED_PSI_P[:1] if args.quick else SIMULATED_PSI_P
    seeds = 2 if args.quick else args.seeds
    fixed = f"ReLU, m = {label_m(M)}, ψn = {PSI_N:g}, λ = {LAM:g}"

    fig, ((left, right),) = figure(2)
    panel(left, M, psi_p)
    left.set(title="(a) theory", ylabel="error / a²")
    style_legend_entries(left)
    colour = colours(len(TIMES))[TIMES.index(SIMULATED_T)]
    zoom = psi_p[(psi_p >= 0.5) & (psi_p <= 40)]
    draw_curve(right, curve(ACTIVATION, SIMULATED_T, PSI_N, zoom, M, LAM), colour, None, relative=True)
    points = simulated(ACTIVATION, SIMULATED_T, PSI_N, simulated_psi_p, M, LAM, args.d, seeds)
    draw_points(right, points, colour, scale=math.exp(-2 * SIMULATED_T))
    guides(right, 1.0, [PSI_N])
    finish_axes(right)
    right.set(title=f"(b) t = {SIMULATED_T:g}: theory and simulation", ylabel="error / a²")
    fig.suptitle(f"Learning curves at several t: {fixed}", fontsize=9)
    legend(fig, [left, right])
    save(fig, args.out, "seed_fig2.png", start)

    fig, axes = figure(len(EXTRA_M), sharey=True)
    for ax, m in zip(axes[0], EXTRA_M):
        panel(ax, m, psi_p)
        ax.set_title(f"m = {m:g}", fontsize=9)
    axes[0, 0].set_ylabel("error / a²")
    style_legend_entries(axes[0, 0])
    fig.suptitle(f"Figure 2 for finite m: ReLU, ψn = {PSI_N:g}, λ = {LAM:g}", fontsize=9)
    legend(fig, axes)
    save(fig, args.out, "seed_fig2_m.png", start)


if __name__ == "__main__":
    main()
