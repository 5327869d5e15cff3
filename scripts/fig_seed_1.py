"""Figure 1 of the seed paper (arXiv 2502.00336): the phase diagram of generalisation and memorisation in (ψn, ψp),
for m = 1, 4, 16, ∞ (ReLU, λ = 1e-3, t = 0.01 by default).

    python scripts/fig_seed_1.py [--t 0.01] [--out out/seed] [--quick]

Writes ``seed_fig1_t<t>.png``, one panel per m. What draws what (docs/phase-diagram.md):

- regions: the rule of ``rfdsm.curves.classify`` (tolerance 0.1 on the test excess δ = ε_test/a² − 1): generalisation
  (blue), underfitting (grey), memorisation shaded by δ on one colour scale for every m (darker: further above a²);
- solid line: the steepest rise of the score error, the ψp of the largest d log ε_score / d log ψp at each ψn;
- dashed line: where the train error first falls below a² (ψp growing);
- dotted line: ψp = ψn, the seed paper's crossover p = n.

Each column of the grid (one ψn) is a ψp sweep of ``rfdsm.learning_curve`` checked to be physical (seed_figures.curve).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from rfdsm.plots import plain_log  # noqa: E402
from scripts.seed_figures import WIDTH, curve, label_m, legend, parser, save  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap, LogNorm  # noqa: E402

from rfdsm.curves import REGIMES, classify  # noqa: E402
from scripts.phase_borders import steepest_rise, train_border  # noqa: E402

ACTIVATION, LAM, TOLERANCE = "relu", 1e-3, 0.1
MS = (1, 4, 16, math.inf)
#: Light colours of the two flat regions; memorisation is shaded by the excess δ (``MEMORISATION`` colour map).
FLAT = {"generalisation": "#9cc5ee", "underfitting": "#d9d9d9"}
MEMORISATION = "Oranges"


def diagram(m, t: float, psi_n: np.ndarray, psi_p: np.ndarray) -> dict:
    """Test and train errors on the grid (rows ψp, columns ψn), the regions and the two border lines."""
    columns = [curve(ACTIVATION, t, x, psi_p, m, LAM) for x in psi_n]
    test = np.column_stack([c.test for c in columns])
    train = np.column_stack([c.train for c in columns])
    baseline = columns[0].baseline
    return {
        "test": test,
        "excess": test / baseline - 1,
        "regime": classify(test, train, baseline, TOLERANCE),
        "steepest": np.array([steepest_rise(psi_p, c.test - baseline)[0] for c in columns]),
        "train": np.array([train_border(psi_p, c.train, baseline) for c in columns]),
    }


def broken(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` with a NaN (a gap in the line) wherever ``log y`` jumps by more than 3 grid steps of ``log x``: there
    the largest slope moves from one rise of the test error to another (near ψp = ψn and near the interpolation
    threshold ψp = m ψn), and a line joining them would draw a border that is not there."""
    step = np.log(x[1] / x[0])
    jumps = np.flatnonzero(np.abs(np.diff(np.log(y))) > 3 * step) + 1
    return np.insert(x, jumps, np.nan), np.insert(y, jumps, np.nan)


def draw(ax, d: dict, psi_n: np.ndarray, psi_p: np.ndarray, norm) -> object:
    """Regions, borders and the diagonal on ``ax``; returns the shading of the memorisation region."""
    for name, colour in FLAT.items():
        mask = np.ma.masked_where(d["regime"] != REGIMES.index(name), np.ones_like(d["excess"]))
        ax.pcolormesh(psi_n, psi_p, mask, cmap=ListedColormap([colour]), shading="nearest", rasterized=True)
    memorised = np.ma.masked_where(d["regime"] != REGIMES.index("memorisation"), d["excess"])
    shading = ax.pcolormesh(psi_n, psi_p, memorised, cmap=MEMORISATION, norm=norm, shading="nearest",
                            rasterized=True)
    ax.plot(*broken(psi_n, d["steepest"]), color="k", lw=1.3, label="steepest rise of ε_score")
    ax.plot(psi_n, d["train"], color="k", lw=1.1, ls="--", label="ε_train = a² (first crossing)")
    ax.plot(psi_n, psi_n, color="k", lw=0.9, ls=":", label="ψp = ψn")
    ax.set(xscale="log", yscale="log", xlim=(psi_n[0], psi_n[-1]), ylim=(psi_p[0], psi_p[-1]))
    plain_log(ax)
    return shading


def main(argv=None) -> None:
    p = parser(__doc__)
    p.add_argument("--t", type=float, default=0.01, help="diffusion time (default: 0.01)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    psi_n = np.geomspace(0.1, 1000, 25 if args.quick else 81)
    psi_p = np.geomspace(0.1, 1000, 41 if args.quick else 121)
    diagrams = {m: diagram(m, args.t, psi_n, psi_p) for m in MS}
    largest = max(np.max(d["excess"]) for d in diagrams.values())
    norm = LogNorm(TOLERANCE, max(largest, 10 * TOLERANCE))

    fig, axes = plt.subplots(2, 2, figsize=(WIDTH, 5.6), sharex=True, sharey=True, layout="constrained")
    for ax, m in zip(axes.ravel(), MS):
        shading = draw(ax, diagrams[m], psi_n, psi_p, norm)
        ax.set_title(f"m = {label_m(m)}")
    for ax in axes[1]:
        ax.set_xlabel("ψn = n/d")
    for ax in axes[:, 0]:
        ax.set_ylabel("ψp = p/d")
    for name, colour in FLAT.items():  # legend entries for the regions that show
        if any(np.any(d["regime"] == REGIMES.index(name)) for d in diagrams.values()):
            axes[0, 0].add_patch(plt.Rectangle((0, 0), 0, 0, color=colour, label=f"{name} (rule)"))
    bar = fig.colorbar(shading, ax=axes, shrink=0.6, location="bottom", aspect=40)
    bar.set_label("memorisation (rule), shaded by the test excess δ = ε_test/a² − 1", fontsize=8)
    bar.ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    legend(fig, axes)
    fig.suptitle(f"Phase diagram: ReLU, t = {args.t:g}, λ = {LAM:g}; regions by rfdsm.curves.classify "
                 f"(tolerance {TOLERANCE:g})", fontsize=9)
    save(fig, args.out, f"seed_fig1_t{args.t:g}.png", start)


if __name__ == "__main__":
    main()
