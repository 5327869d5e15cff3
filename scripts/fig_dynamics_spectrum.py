"""The eigenvalue law of the feature Gram matrix U (docs/dynamics.md §2) against histograms of dense U built from the
real non-linear features at finite d.

    python scripts/fig_dynamics_spectrum.py [--d 400] [--draws 2] [--out out/seed] [--quick]

Three panels: ReLU with m = ∞ (the exact noise averages of rfdsm.simulation; an atom at s² of weight 0.25 at
ψn = 0.5, ψp = 2), tanh with m = 1, and ReLU with m = 3 on two-atom data. The line is ``rfdsm.spectrum``'s density, the
bars the eigenvalues of ``draws`` training sets as a density (the atom's share removed from the bars at its
position: at finite d it spreads over O(1/√d) because every feature has its own pre-activation variance); the atom
is drawn as a vertical line labelled with its weight. Writes ``dynamics_spectrum.png``.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import figure, label_m, parser, save  # noqa: E402
import numpy as np  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.data import Isotropic, TwoAtoms  # noqa: E402
from rfdsm.simulation.dynamics import eigenvalues  # noqa: E402

PANELS = [("relu", 0.1, 0.5, 2.0, math.inf, Isotropic()), ("tanh", 0.3, 2.0, 1.5, 1, Isotropic()),
          ("relu", 0.2, 1.0, 2.0, 3, TwoAtoms(0.5, 1.5))]


def main(argv=None) -> None:
    p = parser(__doc__, default_d=400)
    p.add_argument("--draws", type=int, default=2)
    args = p.parse_args(argv)
    if args.quick:
        args.d, args.draws = 60, 1
    start = time.perf_counter()
    fig, axes = figure(len(PANELS), height=2.4)
    for ax, (activation, t, psi_n, psi_p, m, data) in zip(axes[0], PANELS):
        law = rfdsm.spectrum(activation, t, psi_n, psi_p, m=m, data=data, points=400)
        values = eigenvalues(activation, t, psi_n, psi_p, m, args.d, data, draws=args.draws)
        top = law.edges[-1, 1]
        bins = np.linspace(law.atom, 1.1 * top, 60)
        counts, edges = np.histogram(values, bins)
        heights = counts / (values.size * np.diff(edges))
        if law.atom_weight > 0:  # the atom's share, spread over the first bins at finite d, is drawn as a line
            heights[0] = max(heights[0] - law.atom_weight / np.diff(edges)[0], 0.0)
            ax.axvline(law.atom, color="C3", lw=1)
            ax.annotate(f"atom {law.atom_weight:.2g}", (law.atom, 0.9), xycoords=("data", "axes fraction"),
                        xytext=(4, 0), textcoords="offset points", fontsize=7, color="C3")
        ax.bar(edges[:-1], heights, np.diff(edges), align="edge", color="0.8", label=f"d = {args.d}")
        ax.plot(law.u, law.density, color="C0", lw=1, label="theory")
        ax.set_ylim(0, 1.2 * np.max(law.density[law.u > law.edges[0, 0] + 0.02 * top]))
        ax.set_xlabel("eigenvalue u of U")
        on = "" if isinstance(data, Isotropic) else f", {data!r}"
        ax.set_title(f"{activation}, t = {t:g}, m = {label_m(m)}{on}\nψn = {psi_n:g}, ψp = {psi_p:g}", fontsize=7)
    axes[0, 0].set_ylabel("density")
    axes[0, 0].legend(fontsize=7, frameon=False)
    save(fig, Path(args.out), "dynamics_spectrum.png", start)


if __name__ == "__main__":
    main()
