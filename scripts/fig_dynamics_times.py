"""Training times of RF-DSM under gradient flow (docs/dynamics.md §4): the generalisation time τ_gen and the
memorisation time τ_mem against ψn = n/d at fixed ψp, for several m, and their ratio, with the slopes of log τ
against log ψn.

    python scripts/fig_dynamics_times.py [--activation relu] [--t 0.01] [--psi-p 256] [--lam 1e-5]
                                         [--psi-n 0.5 32] [--points 13] [--m 1 4 inf] [--out out/seed] [--quick]

τ_gen: the first time the test error has made 90 % of its fall from 1 (at τ = 0) to its minimum; τ_mem: the time of
the lowest test error, after which it rises (rfdsm.dynamics.training_times). The slopes are least-squares fits of log
τ on log ψn over the upper half of the ψn range (the asymptotic regime) and over all of it; they are printed and
written with the numbers to ``dynamics_times.txt`` beside ``dynamics_times.png``. Bonnaire, Urfin, Biroli and Mézard
(arXiv 2505.17638) predict τ_gen independent of n and τ_mem ∝ n.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from rfdsm.plots import plain_log  # noqa: E402
from scripts.seed_figures import figure, label_m, legend, parser, save  # noqa: E402
import numpy as np  # noqa: E402

from rfdsm.dynamics import training_times  # noqa: E402


def slope(psi_n: np.ndarray, tau: np.ndarray) -> float:
    """The least-squares slope of ``log τ`` against ``log ψn`` (points with a finite ``τ``)."""
    finite = np.isfinite(tau)
    return float(np.polyfit(np.log(psi_n[finite]), np.log(tau[finite]), 1)[0]) if finite.sum() >= 2 else math.nan


def main(argv=None) -> None:
    p = parser(__doc__)
    p.add_argument("--activation", default="relu")
    p.add_argument("--t", type=float, default=0.01)
    p.add_argument("--psi-p", type=float, default=256.0)
    p.add_argument("--lam", type=float, default=1e-5)
    p.add_argument("--psi-n", type=float, nargs=2, default=[0.5, 32.0])
    p.add_argument("--points", type=int, default=13)
    p.add_argument("--m", nargs="+", default=["1", "4", "inf"])
    args = p.parse_args(argv)
    if args.quick:
        args.points, args.m = 3, ["1", "inf"]
    start = time.perf_counter()
    psi_n = np.geomspace(*args.psi_n, args.points)
    upper = psi_n >= np.sqrt(psi_n[0] * psi_n[-1])
    fig, axes = figure(2, height=2.6)
    lines = [f"{args.activation}, t = {args.t:g}, ψp = {args.psi_p:g}, λ = {args.lam:g}; slopes of log τ on log ψn "
             "(upper half of the ψn range | all of it)"]
    for k, name in enumerate(args.m):
        m = math.inf if name == "inf" else int(name)
        found = [training_times(args.activation, args.t, x, args.psi_p, m=m, lam=args.lam) for x in psi_n]
        gen = np.array([f.tau_gen for f in found])
        mem = np.array([f.tau_mem for f in found])
        colour = f"C{k}"
        axes[0, 0].plot(psi_n, gen, "o--", color=colour, markersize=3, label=f"τ_gen, m = {label_m(m)}")
        axes[0, 0].plot(psi_n, mem, "s-", color=colour, markersize=3, label=f"τ_mem, m = {label_m(m)}")
        axes[0, 1].plot(psi_n, mem / gen, "D-", color=colour, markersize=3)
        lines.append(f"m = {label_m(m)}: τ_gen slope {slope(psi_n[upper], gen[upper]):.2f} | {slope(psi_n, gen):.2f}; "
                     f"τ_mem slope {slope(psi_n[upper], mem[upper]):.2f} | {slope(psi_n, mem):.2f}; "
                     f"τ_mem/τ_gen slope {slope(psi_n[upper], (mem / gen)[upper]):.2f}")
        lines += [f"  ψn = {x:8.4g}: τ_gen = {g:.6g}, τ_mem = {s:.6g}, min ε_test = {f.test_min:.6g}"
                  for x, g, s, f in zip(psi_n, gen, mem, found)]
    for ax, label in zip(axes[0], ("training time τ", "τ_mem / τ_gen")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("ψn = n/d")
        ax.set_ylabel(label)
        plain_log(ax)
    axes[0, 0].set_title(f"{args.activation}, t = {args.t:g}, ψp = {args.psi_p:g}, λ = {args.lam:g}", fontsize=8)
    legend(fig, axes)
    save(fig, Path(args.out), "dynamics_times.png", start)
    text = "\n".join(lines) + "\n"
    (Path(args.out) / "dynamics_times.txt").write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
