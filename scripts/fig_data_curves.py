"""RF-DSM learning curves on Gaussian data with a covariance spectrum (docs/data.md): power laws λ_ν ∝ ν^{−k}
(k = 0, the isotropic law; 0.5; 0.9: the spectra of seed 2505.24769) and a two-atom law, joined to the RF-DSM model of
seed 2502.00336. tanh, t = 0.3, λ = 1e-3, m = 1 and m = ∞.

    python scripts/fig_data_curves.py [--d 100] [--seeds 4] [--out out/seed] [--quick]

Writes ``data_curves.png``, one row per m: (a) test (solid) and train (dashed) errors against ψp at ψn = 1, (b) the
score error against ψp, (c) test and train against ψn at ψp = 2, (d) the score error against ψn. Lines are the
theory in the high-dimensional limit; the grey lines in (a), (c) are the baselines C_t (test error of the exact score)
of each law. Points are simulations of the real model at one ``d`` (mean ± standard error over draws). A power law's
``d`` eigenvalues ``ν^{−k}`` approach its limit law only like ``d^{k−1}``, so for k = 0.9 the points sit on the theory
evaluated on those ``d`` eigenvalues (thin dotted lines), not yet on the limit: the script prints, for every point,
its relative deviation from both. (At one ``d`` the deviations carry the ``O(1/d)`` finite-size corrections; the
agreement within standard errors after extrapolation in ``d`` is tested in tests/test_data_simulation.py.)
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# seed_figures first: it sets the BLAS threads before NumPy loads.
from scripts.seed_figures import WIDTH, finish_axes, label_m, legend, parser, save  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import rfdsm  # noqa: E402
from rfdsm.data import Gaussian, PowerLaw, TwoAtoms  # noqa: E402

ACTIVATION, T, LAM = "tanh", 0.3, 1e-3
MS = (1, math.inf)
#: The laws, with their colours (k = 0 is the isotropic law).
LAWS = {"power law k = 0 (isotropic)": (PowerLaw(0.0), "k"), "power law k = 0.5": (PowerLaw(0.5), "C0"),
        "power law k = 0.9": (PowerLaw(0.9), "C3"), "two atoms 0.1, 1.9": (TwoAtoms(0.1, 1.9), "C2")}
#: The fixed ratio of each sweep: ψn for the ψp sweeps, ψp for the ψn sweeps.
PSI_N, PSI_P = 1.0, 2.0
SIMULATED = (0.5, 1.0, 2.0, 4.0, 8.0)


def theory(data, psi_n, psi_p, m):
    """The learning curve along the one of ``psi_n``, ``psi_p`` that is an array."""
    return rfdsm.learning_curve(ACTIVATION, T, psi_n, psi_p, m=m, lam=LAM, data=data)


def simulated(data, m, d: int, seeds: int, along: str):
    """Means and standard errors of the four errors at the ``SIMULATED`` ratios of ``along`` (the other fixed)."""
    psi_n, psi_p = (SIMULATED, PSI_P) if along == "psi_n" else (PSI_N, SIMULATED)
    run = rfdsm.sweep(ACTIVATION, T, d, psi_n, psi_p, m, LAM, seeds, data=data)
    return {e: tuple(x.ravel() for x in run.mean(e)) for e in ("test", "train", "score")}


def report(name, m, along, points, limit, at_d) -> None:
    """Each simulated test error's relative deviation from the limit and from the theory at d."""
    mean, _ = points["test"]
    cells = "  ".join(f"{x:g}: {r1:+.1%}/{r2:+.1%}" for x, r1, r2 in
                      zip(SIMULATED, mean / limit.test - 1, mean / at_d.test - 1))
    print(f"{name}, m = {label_m(m)}, along {along}: test error, relative deviation (limit/at d)  {cells}")


def main(argv=None) -> None:
    args = parser(__doc__, default_d=100).parse_args(argv)
    args.seeds = 2 if args.quick else (4 if args.seeds == 3 else args.seeds)  # 4 draws unless told otherwise
    start = time.perf_counter()
    grid = np.geomspace(0.2, 20, 25 if args.quick else 120)
    fig, axes = plt.subplots(len(MS), 4, figsize=(WIDTH * 1.5, 5.2), squeeze=False, layout="constrained")
    for row, m in zip(axes, MS):
        for name, (data, colour) in LAWS.items():
            for along, first, second in (("psi_p", row[0], row[1]), ("psi_n", row[2], row[3])):
                on_grid = dict(psi_n=PSI_N, psi_p=grid) if along == "psi_p" else dict(psi_n=grid, psi_p=PSI_P)
                c = theory(data, m=m, **on_grid)
                x = getattr(c, along)
                first.plot(x, c.test, color=colour, lw=1.3, label=name)
                first.plot(x, c.train, color=colour, lw=1.3, ls="--")
                second.plot(x, c.score, color=colour, lw=1.3)
                first.axhline(float(np.ravel(c.baseline)[0]), color=colour, lw=0.6, alpha=0.5)
                points = simulated(data, m, args.d, args.seeds, along)
                at = dict(psi_n=PSI_N, psi_p=SIMULATED) if along == "psi_p" else dict(psi_n=SIMULATED, psi_p=PSI_P)
                at_d = theory(Gaussian(*data.spectrum(args.d).T), m=m, **at)
                report(name, m, along, points, theory(data, m=m, **at), at_d)
                if not np.array_equal(data.spectrum(args.d), data.spectrum()):
                    finite = theory(Gaussian(*data.spectrum(args.d).T), m=m, **on_grid)
                    first.plot(x, finite.test, color=colour, lw=0.7, ls=":")
                    second.plot(x, finite.score, color=colour, lw=0.7, ls=":")
                for ax, errors, marker in ((first, ("test", "train"), "o"), (second, ("score",), "o")):
                    for error in errors:
                        mean, se = points[error]
                        ax.errorbar(SIMULATED, mean, yerr=se, fmt=marker if error != "train" else "s", ms=3.5,
                                    color=colour, mfc=colour if error != "train" else "white", mec=colour,
                                    capsize=1.5, lw=0.7, zorder=3)
        row[0].set(ylabel=f"m = {label_m(m)}\nerror", title=f"test, train vs ψp (ψn = {PSI_N:g})")
        row[1].set(title=f"score error vs ψp (ψn = {PSI_N:g})")
        row[2].set(title=f"test, train vs ψn (ψp = {PSI_P:g})")
        row[3].set(title=f"score error vs ψn (ψp = {PSI_P:g})")
        for ax, xlabel in zip(row, ("ψp = p/d", "ψp = p/d", "ψn = n/d", "ψn = n/d")):
            finish_axes(ax, xlabel)
    axes[0, 0].plot([], [], color="gray", lw=1.3, label="test (solid), train (dashed): theory, d → ∞")
    axes[0, 0].plot([], [], color="gray", lw=0.7, ls=":", label="theory on the d eigenvalues simulated")
    axes[0, 0].plot([], [], color="gray", lw=0.6, label="baseline C_t of each law")
    axes[0, 0].errorbar([], [], yerr=[], fmt="o", ms=3.5, color="gray",
                        label=f"simulation, d = {args.d}, {args.seeds} draws: test ●, train □")
    fig.suptitle(f"RF-DSM on Gaussian data with a covariance spectrum: {ACTIVATION}, t = {T:g}, λ = {LAM:g}",
                 fontsize=9)
    legend(fig, axes)
    save(fig, args.out, "data_curves.png", start)


if __name__ == "__main__":
    main()
