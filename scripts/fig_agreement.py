"""Theory versus simulation of RF-DSM learning curves: simulated points with error bars on the theory curves.

    python scripts/fig_agreement.py                      # tanh, t = 0.3, ψn = 1, m = 1, 4, ∞, d = 100 … 400, 20 seeds
    python scripts/fig_agreement.py --theory reference   # the independent REFERENCE.md solver of tests/

Writes the figure and a text report of the deviations in standard errors (at each ``d`` and for the extrapolation
in ``1/d``, see ``rfdsm.compare``) to ``--out``. The figure shows the simulated points at each ``d`` and, in black,
their extrapolation to ``d = ∞``: the error bars at one ``d`` are statistical only and, because the expectations over
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
from rfdsm.compare import compare  # noqa: E402


def theory_function(name: str):
    """``rfdsm.learning_curve`` (``"rfdsm"``) or the REFERENCE.md solver of ``tests/reference_equations.py``."""
    if name == "rfdsm":
        return rfdsm.learning_curve, "rfdsm.learning_curve"
    from tests.reference_equations import learning_curve

    return learning_curve, "REFERENCE.md equations (tests/reference_equations.py)"


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
    figure, axes = plt.subplots(1, len(ms), figsize=(5 * len(ms), 4.2), squeeze=False)
    report = [f"theory: {label}"]
    for ax, m in zip(axes[0], ms):
        result = compare(args.activation, args.t, args.psi_n, args.psi_p, m, args.lam, args.sizes, args.seeds,
                         theory=theory, seed=args.seed)
        report.append(result.table())
        curve = theory(args.activation, args.t, args.psi_n, fine, m=m, lam=args.lam)
        for error, color in (("test", "C0"), ("train", "C3")):
            ax.plot(fine, getattr(curve, error), color=color, lw=1.2, label=f"{error} (theory)")
            for i, (d, marker) in enumerate(zip(result.sizes, "os^vD")):
                ax.errorbar(result.psi_p * (1 + 0.02 * i), result.mean[error][i], yerr=result.se[error][i],
                            fmt=marker, ms=4, color=color, mfc="white" if i == 0 else color, capsize=2, lw=0.8,
                            label=f"{error}, d = {d}")
            ax.errorbar(result.psi_p * (1 + 0.02 * len(result.sizes)), result.extrapolated[error],
                        yerr=result.extrapolated_se[error], fmt="D", ms=3, color="k", capsize=2, lw=0.8,
                        label=f"{error}, 1/d → 0" if error == "test" else None)
        ax.axhline(a2, color="gray", ls=":", lw=1, label="a² (exact score)")
        ax.set(xscale="log", yscale="log", xlabel="ψp = p/d", title=f"m = {m:g}")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # log minor labels overlap
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("error")
    axes[0][0].legend(fontsize=7)
    figure.suptitle(f"RF-DSM, {args.activation}, t = {args.t:g}, ψn = {args.psi_n:g}, λ = {args.lam:g}, "
                    f"{args.seeds} seeds; theory: {label}", fontsize=9)
    figure.tight_layout()
    figure.savefig(args.out / "agreement.png", dpi=130)
    (args.out / "agreement.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))


if __name__ == "__main__":
    main()
