"""Memorised fraction of generated samples against ψp, for several m and ψn, next to the theory's memorisation regime.

    python scripts/fig_memorisation.py [--d 50] [--psi-n 0.1 0.5 2] [--m 1 4 32 inf] [--theory rfdsm|reference]

Each point: ``rfdsm.generation.generate`` (scores trained on a log grid of times, reverse SDE, memorised when the
nearest/second-nearest training distance ratio is below 1/3) with its bootstrap 95 % interval. The theory band marks,
for each m, the ψp that ``rfdsm.curves.classify`` puts in the memorisation regime at ``--t-theory`` (train error below
the baseline ``a²``, test error more than 10 % above it; README, regimes).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rfdsm.curves import REGIMES, classify  # noqa: E402
from rfdsm.generation import generate  # noqa: E402
from scripts.fig_agreement import theory_function  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--psi-n", type=float, nargs="+", default=[0.1, 0.5, 2.0])
    parser.add_argument("--psi-p", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
    parser.add_argument("--m", nargs="+", default=["1", "4", "32", "inf"])
    parser.add_argument("--lam", type=float, default=1e-4)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--t-theory", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--theory", choices=["rfdsm", "reference"], default="rfdsm")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "memorisation")
    args = parser.parse_args(argv)
    theory, label = theory_function(args.theory)
    ms = [math.inf if m == "inf" else int(m) for m in args.m]
    args.out.mkdir(parents=True, exist_ok=True)
    fine = np.geomspace(min(args.psi_p) / 1.2, max(args.psi_p) * 1.2, 200)
    # One y scale for all panels, so that a panel without memorised samples reads as flat, not as a zoomed-in zero.
    figure, axes = plt.subplots(1, len(args.psi_n), figsize=(4.5 * len(args.psi_n) + 2, 4.2), squeeze=False,
                                sharey=True)
    lines = [f"theory: {label}; memorised: ratio < 1/3; 95 % bootstrap intervals"]
    for ax, psi_n in zip(axes[0], args.psi_n):
        for index, m in enumerate(ms):
            color = f"C{index}"
            runs = [generate(args.activation, args.d, psi_n, x, m, args.lam, args.samples, steps=args.steps,
                             seed=args.seed, progress=False)
                    for x in tqdm(args.psi_p, desc=f"ψn={psi_n:g} m={m:g}", leave=False)]
            fraction = np.array([r.fraction for r in runs])
            error = np.array([[r.fraction - r.low for r in runs], [r.high - r.fraction for r in runs]])
            ax.errorbar(args.psi_p, fraction, yerr=error, fmt="o-", color=color, capsize=3, label=f"m = {m:g}")
            curve = theory(args.activation, args.t_theory, psi_n, fine, m=m, lam=args.lam)
            regimes = classify(curve.test, curve.train, math.exp(-2 * args.t_theory), 0.1)
            regime = regimes == REGIMES.index("memorisation")
            ax.fill_between(fine, -0.04 - 0.03 * index, -0.02 - 0.03 * index, where=regime, color=color, alpha=0.6,
                            lw=0)
            lines.append(f"ψn={psi_n:g} m={m:g}: " + ", ".join(
                f"ψp={x:g}: {r.fraction:.3f} [{r.low:.3f}, {r.high:.3f}]" for x, r in zip(args.psi_p, runs))
                + (f"; theory regime ψp ∈ [{fine[regime].min():.2f}, {fine[regime].max():.2f}]" if regime.any()
                   else "; theory regime: none in range"))
        ax.axvline(psi_n, color="gray", ls=":", lw=1)
        ax.set(xscale="log", xlabel="ψp = p/d", ylim=(-0.04 - 0.03 * len(ms), None),
               title=f"ψn = {psi_n:g} (dotted: ψp = ψn)")
        ax.grid(alpha=0.3)
    figure.suptitle(f"{args.activation}, d = {args.d}, λ = {args.lam:g}, {args.samples} samples, "
                    f"{args.steps} reverse-SDE steps; theory: {label}", fontsize=9)
    axes[0, 0].set_ylabel("memorised fraction")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="center right", fontsize=8,
                  title=f"bands below 0:\ntheory's memorisation\nregime at t = {args.t_theory:g}", title_fontsize=7)
    figure.tight_layout(rect=(0, 0, 1 - 1.6 / figure.get_figwidth(), 1))
    figure.savefig(args.out / "memorisation.png", dpi=130)
    (args.out / "memorisation.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
