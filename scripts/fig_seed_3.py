"""Figure 3 of the seed paper (arXiv 2502.00336) with its caption's settings: RF-DSM learning curves for m = ∞,
t = 0.01, λ = 1e-3, ReLU: test (solid) and train (dashed) errors against ψp for several ψn, dotted verticals at ψp = ψn.

    python scripts/fig_seed_3.py [--d 50] [--seeds 3] [--out out/seed] [--quick]

Writes ``seed_fig3.png``: (a) the curves at ψn = 1, 5, 20, 100; (b) the ψn = 5 curves with simulations of the real
model at one ``d``. And ``seed_fig3_m.png``: panel (a) for m = 2, 4, 16 (beyond the paper; m = 1 is Figure 5,
``fig_seed_5.py``, which draws with ``psi_n_figure`` below).
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

ACTIVATION, T, LAM = "relu", 0.01, 1e-3
PSI_N = (1.0, 5.0, 20.0, 100.0)
EXTRA_M = (2, 4, 16)
#: The simulated curve and its points (ψn d and ψp d must be whole at the chosen d).
SIMULATED_PSI_N = 5.0
SIMULATED_PSI_P = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)


def panel(ax, m, psi_p: np.ndarray) -> None:
    """Test and train errors against ψp, one colour per ψn, a dotted vertical at each ψp = ψn."""
    baseline = math.exp(-2 * T)
    for colour, psi_n in zip(colours(len(PSI_N)), PSI_N):
        draw_curve(ax, curve(ACTIVATION, T, psi_n, psi_p, m, LAM), colour, f"ψn = {psi_n:g}", relative=False)
    guides(ax, baseline, PSI_N)
    finish_axes(ax)


def psi_n_figure(doc: str, argv, m, number: int, default_d: int) -> None:
    """``seed_fig{number}.png`` (theory at every ψn; simulations on the ψn = 5 curve) for this ``m``; for m = ∞ also
    ``seed_fig{number}_m.png`` (m = 2, 4, 16). ``doc``: the calling script's docstring, for ``--help``."""
    args = parser(doc, default_d).parse_args(argv)
    start = time.perf_counter()
    psi_p = np.geomspace(0.1, 1000, 40 if args.quick else 200)
    simulated_psi_p = SIMULATED_PSI_P[:2] if args.quick else SIMULATED_PSI_P
    seeds = 2 if args.quick else args.seeds

    points = simulated(ACTIVATION, T, SIMULATED_PSI_N, simulated_psi_p, m, LAM, args.d, seeds)
    fig = family_figure(
        lambda ax: panel(ax, m, psi_p),
        lambda ax: simulation_panel(ax, ACTIVATION, T, SIMULATED_PSI_N, m, LAM, psi_p[(psi_p >= 0.3) & (psi_p <= 30)],
                                    points, colours(len(PSI_N))[PSI_N.index(SIMULATED_PSI_N)], relative=False),
        "error", f"ψn = {SIMULATED_PSI_N:g}",
        f"Learning curves at several ψn: ReLU, m = {label_m(m)}, t = {T:g}, λ = {LAM:g}")
    save(fig, args.out, f"seed_fig{number}.png", start)
    if math.isinf(m):
        fig = finite_m_figure(lambda ax, extra: panel(ax, extra, psi_p), EXTRA_M, "error",
                              f"Figure {number} for finite m: ReLU, t = {T:g}, λ = {LAM:g}")
        save(fig, args.out, f"seed_fig{number}_m.png", start)

def main(argv=None) -> None:
    psi_n_figure(__doc__, argv, math.inf, 3, default_d=50)


if __name__ == "__main__":
    main()
