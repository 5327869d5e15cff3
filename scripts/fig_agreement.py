"""Theory versus simulation of RF-DSM learning curves: simulated points with error bars on the theory curves.

    python scripts/fig_agreement.py                      # tanh, t = 0.3, ψn = 1, m = 1, 4, ∞, d = 100 … 400, 20 seeds
    python scripts/fig_agreement.py --theory reference   # the independent docs/reference.md solver of tests/

Writes the figure and a text report of the deviations in standard errors (at each ``d`` and for the extrapolation
in ``1/d``, see ``rfdsm.compare``) to ``--out``. Top row: the simulated points at each ``d`` and their extrapolation
to ``d = ∞`` (black edges) on the theory curves. Bottom row: the same as relative deviations from the theory, where
the approach to the curve shows: the error bars at one ``d`` are statistical only and, because the expectations over
test points are exact, about as small as the ``O(1/d)`` finite-size correction itself.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import rfdsm  # noqa: E402
from rfdsm.agreement import compare  # noqa: E402


def theory_function(name: str):
    """``rfdsm.learning_curve`` (``"rfdsm"``) or the docs/reference.md solver of ``tests/reference_equations.py``."""
    if name == "rfdsm":
        return rfdsm.learning_curve, "rfdsm.learning_curve"
    from tests.reference_equations import learning_curve

    return learning_curve, "docs/reference.md equations (tests/reference_equations.py)"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--t", type=float, default=0.3)
    parser.add_argument("--psi-n", type=float, default=1.0)
    parser.add_argument("--psi-p", type=float, nargs="+", default=[0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0])
    parser.add_argument("--m", nargs="+", default=["1", "4", "inf"])
    parser.add_argument("--lam", type=float, default=1e-3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 300, 400])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--theory", choices=["rfdsm", "reference"], default="rfdsm")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "agreement")
    args = parser.parse_args(argv)
    theory, label = theory_function(args.theory)
    ms = [math.inf if m == "inf" else int(m) for m in args.m]
    args.out.mkdir(parents=True, exist_ok=True)
    fine = np.geomspace(min(args.psi_p) / 1.5, max(args.psi_p) * 1.2, 120)
    a2 = math.exp(-2 * args.t)
    # Top row: errors on the theory curves. Bottom row: relative deviations from the theory, where the O(1/d)
    # approach to the curve and the extrapolated points can be read (on the top row they hide under the markers).
    figure, axes = plt.subplots(2, len(ms), figsize=(5 * len(ms) + 2, 7.5), squeeze=False, sharex=True,
                                height_ratios=(3, 2))
    report = [f"theory: {label}"]
    for top, bottom, m in zip(axes[0], axes[1], ms):
        result = compare(args.activation, args.t, args.psi_n, args.psi_p, m, args.lam, args.sizes, args.seeds,
                         theory=theory, seed=args.seed, progress=True)
        report.append(result.table())
        curve = theory(args.activation, args.t, args.psi_n, fine, m=m, lam=args.lam)
        for error, color, shift in (("test", "C0", -0.01), ("train", "C3", 0.01)):
            top.plot(fine, getattr(curve, error), color=color, lw=1.2, label=f"{error} (theory)")
            exact = result.theory[error]
            points = [(f"d = {d}", result.mean[error][i], result.se[error][i], marker, color if i else "white")
                      for i, (d, marker) in enumerate(zip(result.sizes, "os^vD"))]
            points.append(("1/d → 0", result.extrapolated[error], result.extrapolated_se[error], "D", color))
            for i, (name, mean, se, marker, face) in enumerate(points):
                x = result.psi_p * (1 + 0.025 * i + shift)
                extrapolated = i == len(result.sizes)  # black edge and bar: the point compared with the theory
                style = dict(fmt=marker, ms=4, capsize=2, lw=0.8, color=color, mfc=face,
                             mec="k" if extrapolated else color, ecolor="k" if extrapolated else color)
                top.errorbar(x, mean, yerr=se, label=f"{error}, {name}", **style)
                bottom.errorbar(x, 100 * (mean / exact - 1), yerr=100 * se / exact, **style)
        top.axhline(a2, color="gray", ls=":", lw=1, label="a² (exact score)")
        top.set(xscale="log", yscale="log", title=f"m = {m:g}")
        top.grid(alpha=0.3, which="both")
        bottom.axhline(0, color="gray", lw=1)
        bottom.set(xscale="log", xlabel="ψp = p/d")
        bottom.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # log minor labels overlap
        bottom.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("error")
    axes[1][0].set_ylabel("simulation / theory − 1 (%)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="center right", fontsize=7)
    figure.suptitle(f"RF-DSM, {args.activation}, t = {args.t:g}, ψn = {args.psi_n:g}, λ = {args.lam:g}, "
                    f"{args.seeds} seeds; theory: {label}", fontsize=9)
    figure.tight_layout(rect=(0, 0, 1 - 2 / figure.get_figwidth(), 1))
    figure.savefig(args.out / "agreement.png", dpi=130)
    (args.out / "agreement.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
