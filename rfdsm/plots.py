"""Figures of learning curves and phase diagrams (matplotlib; the caller saves or shows them).

Nothing here chooses a matplotlib backend: importing rfdsm leaves a notebook's backend alone (scripts and the command
line draw off-screen through ``MPLBACKEND`` or matplotlib's own fallback when no display exists).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from rfdsm.curves import REGIMES, LearningCurve, PhaseDiagram

#: One column of a two-column paper, in inches, and the resolution the command line saves at.
WIDTH, DPI = 3.4, 200


def _m_label(m: float) -> str:
    return "∞" if np.isinf(m) else f"{m:g}"


def plain_log(ax, axes: str = "xy") -> None:
    """Log axes labelled 0.1, 1, 10 (not 10⁻¹, 10⁰, 10¹), minor ticks unlabelled; an axis spanning less than two
    decades gets labels at 1, 2 and 5 times the powers of ten (under one decade, also 1.5, 3 and 7), so that it
    carries more than one label."""
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    for name in axes:
        axis = ax.xaxis if name == "x" else ax.yaxis
        low, high = ax.get_xlim() if name == "x" else ax.get_ylim()
        subs = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0) if high / low < 10 else (1.0, 2.0, 5.0) if high / low < 100 else (1.0,)
        # Every decade labelled up to six decades; past that, every other one or fewer (labels would touch).
        axis.set_major_locator(LogLocator(subs=subs, numticks=20 if high / low < 1e7 else 7))
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())


def title(curve: LearningCurve, axis: str | None = None) -> str:
    """Every parameter held fixed over ``curve`` (the swept ``axis`` left out)."""
    parts = [curve.activation, None if curve.data == "Isotropic()" else curve.data,
             f"t = {curve.t:g}" if np.ndim(curve.t) == 0 else None, f"m = {_m_label(curve.m)}",
             f"λ = {curve.lam:g}" if np.ndim(curve.lam) == 0 else None]
    for name, symbol in (("psi_n", "ψn"), ("psi_p", "ψp")):
        values = np.unique(getattr(curve, name))
        if name != axis and values.size == 1:
            parts.append(f"{symbol} = {values[0]:g}")
    return ", ".join(p for p in parts if p)


def plot_curve(curve: LearningCurve, axis: str = "psi_p", ax=None):
    """Test, train (with and without the ridge term) and score errors against ``axis`` (``"psi_p"`` or ``"psi_n"``),
    with the baseline, the test error of the exact score (``a² = e^{−2t}`` on isotropic data, ``C_t`` otherwise)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * WIDTH, WIDTH), layout="constrained")
    x = getattr(curve, axis).ravel()
    ax.plot(x, curve.test.ravel(), color="C0", label="test")
    ax.plot(x, curve.train.ravel(), color="C1", label="train")
    ax.plot(x, curve.train_ridge.ravel(), color="C1", ls="--", label="train + ridge term")
    ax.plot(x, curve.score.ravel(), color="C2", ls="-.", label="score")
    label = "baseline $a^2$" if curve.data == "Isotropic()" else "baseline $C_t$ (exact score)"
    ax.axhline(np.mean(curve.baseline), color="k", lw=0.8, ls=":", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log(ax)
    ax.set_xlabel("ψp = p/d" if axis == "psi_p" else "ψn = n/d")
    ax.set_ylabel("error per dimension")
    ax.set_title(title(curve, axis), fontsize="medium")
    ax.legend(fontsize="small")
    return ax


def borders(diagram: PhaseDiagram) -> tuple[np.ndarray, np.ndarray]:
    """Two measures of the memorisation border at each ψn (column), as ψp values (NaN where absent):

    - where the train error first falls below the baseline ``a²`` as ψp grows;
    - where the test error rises fastest, ``argmax d log ε_test / d log ψp`` (on the grid).
    """
    c = diagram.curve
    below = c.train < c.baseline
    first = np.where(below.any(axis=0), diagram.psi_p[np.argmax(below, axis=0)], np.nan)
    slope = np.diff(np.log(c.test), axis=0) / np.diff(np.log(diagram.psi_p))[:, None]
    middle = np.sqrt(diagram.psi_p[1:] * diagram.psi_p[:-1])
    steepest = np.where(np.nanmax(slope, axis=0) > 0, middle[np.nanargmax(slope, axis=0)], np.nan)
    return first, steepest


def plot_phase(diagram: PhaseDiagram, ax=None):
    """Regimes in the ``(ψn, ψp)`` plane (``rfdsm.curves.classify``), with the two border measures of ``borders``
    and the line ``ψp = m ψn`` (``ψp = ψn`` for ``m = ∞``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 * WIDTH, 1.2 * WIDTH), layout="constrained")
    colours = ListedColormap(["#4c9be8", "#e8704c", "#cccccc"])
    ax.pcolormesh(diagram.psi_n, diagram.psi_p, diagram.regime, cmap=colours, vmin=-0.5, vmax=2.5, shading="nearest")
    curve = diagram.curve
    slope = 1.0 if np.isinf(curve.m) else curve.m
    first, steepest = borders(diagram)
    ax.plot(diagram.psi_n, first, color="k", lw=1.2, label="train error reaches the baseline")
    ax.plot(diagram.psi_n, steepest, color="k", lw=1.2, ls="-.", label="steepest rise of test error")
    ax.plot(diagram.psi_n, slope * diagram.psi_n, "k:", lw=1, label="ψp = ψn" if slope == 1 else f"ψp = {slope:g} ψn")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log(ax)
    ax.set_xlim(diagram.psi_n.min(), diagram.psi_n.max())
    ax.set_ylim(diagram.psi_p.min(), diagram.psi_p.max())
    ax.set_xlabel("ψn = n/d")
    ax.set_ylabel("ψp = p/d")
    ax.set_title(f"{title(curve, 'psi_n')}, tolerance {diagram.tolerance:g}", fontsize="medium")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(i)) for i in range(len(REGIMES))]
    lines, labels = ax.get_legend_handles_labels()
    ax.legend(handles + lines, list(REGIMES) + labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    return ax
