"""What the figure scripts of the seed paper (arXiv 2502.00336; ``fig_seed_*.py``, ``fig_memorisation.py``) share:
theory curves checked to be physical, simulation points at one ``d``, one look (paper-sized, plain log ticks, one
legend) and one command line (``--out``, ``--quick``).

Curves are ψp sweeps of ``rfdsm.learning_curve``, every value checked (``phase_borders.physical``); a sweep with an
unphysical value is solved again point by point, and the script says so (issue 11: warm starts can go wrong).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# One BLAS thread unless the caller says otherwise: the figures' matrices are small (d ≤ 100, p ≤ 2000), and on a
# 2-core machine shared with other jobs OpenBLAS's spinning threads made fig_seed_3.py take 41 s instead of 19 s.
# It must be set before NumPy loads, so every figure script imports this module first.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # scripts only write files
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8})
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402  (matplotlib's own dependency)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import rfdsm  # noqa: E402
from rfdsm.plots import plain_log  # noqa: E402
from scripts.phase_borders import physical, pointwise  # noqa: E402

#: A paper's text width (inches) and the resolution of the PNGs: about 1000 px wide, under 100 kB.
WIDTH = 7.0
DPI = 150


@dataclass(frozen=True)
class Curve:
    """Asymptotic test and train errors on a ψp grid, and the baseline ``a²``."""

    psi_p: np.ndarray
    test: np.ndarray
    train: np.ndarray
    baseline: float


def curve(activation: str, t: float, psi_n: float, psi_p: np.ndarray, m, lam: float) -> Curve:
    """``rfdsm.learning_curve`` swept over ``psi_p``; solved again point by point if any value is unphysical."""
    c = rfdsm.learning_curve(activation, t=t, psi_n=psi_n, psi_p=psi_p, m=m, lam=lam)
    if np.all(physical(c.test, c.train, c.train_ridge, c.baseline)):
        return Curve(np.asarray(psi_p), c.test, c.train, c.baseline)
    print(f"unphysical values on the ψp sweep at t = {t:g}, ψn = {psi_n:g}, m = {label_m(m)}: solved point by point")
    errors = pointwise(activation, t, psi_n, psi_p, m, lam)
    return Curve(np.asarray(psi_p), errors["test"], errors["train"], c.baseline)


@dataclass(frozen=True)
class Points:
    """Simulated means and standard errors over seeds at each ψp, at one size ``d``."""

    psi_p: np.ndarray
    d: int
    seeds: int
    mean: dict
    se: dict


def simulated(activation: str, t: float, psi_n: float, psi_p, m, lam: float, d: int, seeds: int) -> Points:
    """``rfdsm.simulate`` at every ψp (test and train errors); prints each next to the theory."""
    names = ("test", "train")
    mean = {e: np.empty(len(psi_p)) for e in names}
    se = {e: np.empty(len(psi_p)) for e in names}
    theory = curve(activation, t, psi_n, np.asarray(psi_p, dtype=float), m, lam)
    print(f"simulation at d = {d}, {seeds} seeds, t = {t:g}, ψn = {psi_n:g}, m = {label_m(m)}: "
          "simulated ± SE (theory, relative deviation)")
    for j, x in enumerate(psi_p):
        run = rfdsm.simulate(activation, t=t, d=d, psi_n=psi_n, psi_p=x, m=m, lam=lam, seeds=seeds, progress=False)
        for e in names:
            mean[e][j], se[e][j] = getattr(run, e), getattr(run, f"{e}_se")
        print(f"  ψp = {x:g}: " + "; ".join(
            f"{e} {mean[e][j]:.4g} ± {se[e][j]:.2g} ({getattr(theory, e)[j]:.4g}, "
            f"{mean[e][j] / getattr(theory, e)[j] - 1:+.1%})" for e in names))
    return Points(np.asarray(psi_p, dtype=float), d, seeds, mean, se)


def label_m(m) -> str:
    return "∞" if math.isinf(m) else f"{m:g}"


def figure(columns: int, height: float = 2.6, **kwargs):
    """A row of ``columns`` panels, a paper's text width wide (constrained layout: titles and legend never overlap)."""
    return plt.subplots(1, columns, figsize=(WIDTH, height), squeeze=False, layout="constrained", **kwargs)


def legend(fig, axes) -> None:
    """One legend for the figure, right of the panels: every labelled artist of ``axes``, each label once."""
    entries = {}
    for ax in np.ravel(axes):
        for handle, text in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(text, handle)
    fig.legend(entries.values(), entries.keys(), loc="outside right center", fontsize=7, frameon=False)


def parser(doc: str, default_d: int | None = None) -> argparse.ArgumentParser:
    """The command line every figure script takes: ``--out`` and ``--quick`` (a coarse run for the tests); with a
    ``default_d``, also ``--d`` and ``--seeds`` of its simulations."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "out" / "seed", help="folder for the PNGs (default: out/seed)")
    p.add_argument("--quick", action="store_true", help="coarse grids and tiny simulations (for the tests)")
    if default_d is not None:
        p.add_argument("--d", type=int, default=default_d, help=f"dimension of the simulations (default: {default_d})")
        p.add_argument("--seeds", type=int, default=3, help="independent draws per simulated point (default: 3)")
    return p


def save(fig, out: Path, name: str, start: float) -> Path:
    """Write ``out/name`` as a 256-colour PNG (a third of the bytes of full colour, no visible loss on line art and
    shading) and say how long the script has run."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    Image.open(buffer).convert("RGB").quantize(256).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB) after {time.perf_counter() - start:.1f} s")
    return path


def colours(count: int) -> list:
    """``count`` colours of one sequential map, light to dark (the order of the varied parameter)."""
    return [plt.cm.viridis(x) for x in np.linspace(0.85, 0.1, count)]


def draw_curve(ax, c: Curve, colour, label: str | None, relative: bool) -> None:
    """Test error solid, train error dashed, divided by ``a²`` if ``relative``."""
    scale = c.baseline if relative else 1.0
    ax.plot(c.psi_p, c.test / scale, color=colour, lw=1.3, label=label)
    ax.plot(c.psi_p, c.train / scale, color=colour, lw=1.3, ls="--")


def draw_points(ax, p: Points, colour, scale: float = 1.0) -> None:
    """Simulated test (filled circles) and train (open squares, nudged right so that neither hides the other)."""
    label = f"simulation, d = {p.d} (mean ± SE, {p.seeds} seeds)"
    ax.errorbar(p.psi_p, p.mean["test"] / scale, yerr=p.se["test"] / scale, fmt="o", ms=4, color=colour, mec="k",
                mew=0.6, capsize=2, lw=0.8, zorder=3, label=label + ": test")
    ax.errorbar(p.psi_p * 1.06, p.mean["train"] / scale, yerr=p.se["train"] / scale, fmt="s", ms=4, color=colour,
                mfc="white", mew=1.0, capsize=2, lw=0.8, zorder=3, label=label + ": train")


def style_legend_entries(ax) -> None:
    """Proxy artists for the line styles, so that the legend explains solid and dashed once."""
    ax.plot([], [], color="k", lw=1.3, label="test error (solid)")
    ax.plot([], [], color="k", lw=1.3, ls="--", label="train error (dashed)")


def guides(ax, baseline: float, psi_n=()) -> None:
    """The baseline ``a²`` (thin grey line) and dotted verticals at ``ψp = ψn`` for each of ``psi_n``."""
    ax.axhline(baseline, color="gray", lw=0.8, label="a² (exact score)")
    for x in psi_n:
        ax.axvline(x, color="gray", lw=0.9, ls=":", label="ψp = ψn")


def finish_axes(ax, xlabel: str = "ψp = p/d") -> None:
    """Log-log axes with plain tick labels and a light grid (call after drawing: the ticks follow the limits)."""
    ax.set(xscale="log", yscale="log", xlabel=xlabel)
    plain_log(ax)
    ax.grid(alpha=0.25, which="major")


def simulation_panel(ax, activation: str, t: float, psi_n: float, m, lam: float, zoom: np.ndarray, points,
                     colour, relative: bool) -> None:
    """One curve of a family (theory on the ψp range ``zoom``) with the simulated ``points`` of ``simulated``."""
    c = curve(activation, t, psi_n, zoom, m, lam)
    draw_curve(ax, c, colour, None, relative)
    draw_points(ax, points, colour, scale=c.baseline if relative else 1.0)
    guides(ax, 1.0 if relative else c.baseline, [psi_n])
    finish_axes(ax)


def family_figure(panel, simulation, ylabel: str, simulated: str, title: str):
    """(a) the theory, ``panel(ax)``; (b) one of its curves with simulations, ``simulation(ax)``, titled by what is
    ``simulated``; one legend."""
    fig, ((left, right),) = figure(2)
    panel(left)
    left.set(title="(a) theory", ylabel=ylabel)
    style_legend_entries(left)
    simulation(right)
    right.set(title=f"(b) {simulated}: theory and simulation", ylabel=ylabel)
    fig.suptitle(title, fontsize=9)
    legend(fig, [left, right])
    return fig


def finite_m_figure(panel, ms, ylabel: str, title: str):
    """One theory panel ``panel(ax, m)`` for each of ``ms``, side by side on one y axis, with one legend."""
    fig, axes = figure(len(ms), sharey=True)
    for ax, m in zip(axes[0], ms):
        panel(ax, m)
        ax.set_title(f"m = {label_m(m)}")
    axes[0, 0].set_ylabel(ylabel)
    style_legend_entries(axes[0, 0])
    fig.suptitle(title, fontsize=9)
    legend(fig, axes)
    return fig
