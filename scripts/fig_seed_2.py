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
    colours, curve, draw_curve, family_figure, finish_axes, finite_m_figure, guides, label_m, parser, save, simulated,
    simulation_panel,
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
    args = parser(__doc__, default_d=50).parse_args(argv)
    start = time.perf_counter()
    psi_p = np.geomspace(0.1, 1000, 40 if args.quick else 200)
    simulated_psi_p = SIMULATED_PSI_P[:1] if args.quick else SIMULATED_PSI_P
    seeds = 2 if args.quick else args.seeds

    points = simulated(ACTIVATION, SIMULATED_T, PSI_N, simulated_psi_p, M, LAM, args.d, seeds)
    fig = family_figure(
        lambda ax: panel(ax, M, psi_p),
        lambda ax: simulation_panel(ax, ACTIVATION, SIMULATED_T, PSI_N, M, LAM, psi_p[(psi_p >= 0.5) & (psi_p <= 40)],
                                    points, colours(len(TIMES))[TIMES.index(SIMULATED_T)], relative=True),
        "error / a²", f"t = {SIMULATED_T:g}",
        f"Learning curves at several t: ReLU, m = {label_m(M)}, ψn = {PSI_N:g}, λ = {LAM:g}")
    save(fig, args.out, "seed_fig2.png", start)

    fig = finite_m_figure(lambda ax, m: panel(ax, m, psi_p), EXTRA_M, "error / a²",
                          f"Figure 2 for finite m: ReLU, ψn = {PSI_N:g}, λ = {LAM:g}")
    save(fig, args.out, "seed_fig2_m.png", start)

if __name__ == "__main__":
    main()
