"""Figures of the seed paper (arXiv 2502.00336) and beyond: learning curves against ψp for m = 1 and m = ∞ at several
t, train/test against the baseline a², curves for m = 1, 2, 4, 16, ∞ together, and phase diagrams for several m.

    python scripts/fig_rfdsm_curves.py [--activation tanh] [--out out]
"""

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.plots import plot_phase  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--psi-n", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    psi_p = np.geomspace(0.1, 40, 300)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, m in zip(axes, (1, math.inf)):
        for t in (0.01, 0.1, 0.5):
            c = rfdsm.learning_curve(args.activation, t, args.psi_n, psi_p, m=m)
            line, = ax.plot(psi_p, c.test / c.baseline, label=f"test, t = {t:g}")
            ax.plot(psi_p, c.train / c.baseline, "--", color=line.get_color(), label=f"train, t = {t:g}")
        ax.axhline(1, color="k", lw=0.8, ls=":")
        ax.axvline(args.psi_n, color="grey", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel="ψp", title=f"m = {'∞' if m == math.inf else m}, ψn = {args.psi_n:g}")
    axes[0].set_ylabel("error / baseline a²")
    axes[1].legend(fontsize=8)
    fig.savefig(args.out / "rfdsm_curves_t.png", dpi=120, bbox_inches="tight")

    fig, ax = plt.subplots(figsize=(6, 4))
    for m in (1, 2, 4, 16, math.inf):
        c = rfdsm.learning_curve(args.activation, 0.1, args.psi_n, psi_p, m=m)
        ax.plot(psi_p, c.test, label=f"m = {'∞' if m == math.inf else m}")
    ax.axhline(c.baseline, color="k", lw=0.8, ls=":", label="a²")
    ax.set(xscale="log", yscale="log", xlabel="ψp", ylabel="test error", title=f"{args.activation}, t = 0.1, ψn = {args.psi_n:g}")
    ax.legend()
    fig.savefig(args.out / "rfdsm_curves_m.png", dpi=120, bbox_inches="tight")

    grid = np.geomspace(0.1, 1000, 80)  # generalisation needs ψn ≫ ψp ≳ 1: the smallest test excess on [0.1, 10]² is 14%
    fig, axes = plt.subplots(1, 3, figsize=(19, 4.5), gridspec_kw={"wspace": 0.55})
    for ax, m in zip(axes, (1, 4, math.inf)):
        plot_phase(rfdsm.phase_diagram(args.activation, 0.1, grid, grid, m=m, lam=1e-3), ax=ax)
    fig.savefig(args.out / "rfdsm_phase_m.png", dpi=120, bbox_inches="tight")
    print(f"wrote rfdsm_curves_t.png, rfdsm_curves_m.png, rfdsm_phase_m.png into {args.out}")


if __name__ == "__main__":
    main()
