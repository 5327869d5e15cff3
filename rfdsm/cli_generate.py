"""``rfdsm generate``: samples of trained random-features scores (``rfdsm.generate``), their memorised fraction at
every ``(ψn, ψp, m)`` asked for, and, for image data, a picture grid of generated images each above its nearest
training image.

Writes ``<stem>.txt`` (the memorisation table), ``<stem>.png`` (the grid; image data only) and one NetCDF per run
(``<stem>_<k>.nc``, ``rfdsm.load`` reads it), under a name with a hash of every parameter, never overwriting.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import time
from pathlib import Path

import numpy as np

from rfdsm.data import Images
from rfdsm.generation import THRESHOLD, generate

#: Samples each run shows in the picture grid.
GRID = 8
#: Where the reverse process stops. Below ``generation.generate``'s default 0.01: a sample stops at ``a x + √h z``,
#: and on digits (d = 64, standardised; nearest training neighbours 3.8 apart at the median, 1.2 at the least) the
#: noise ``√(h d) ≈ 1.1`` at t = 0.01 would push a quarter of exact copies of the 1,498 training digits over the 1/3
#: ratio; at t = 0.001 none (docs/images.md §3).
T_MIN = 1e-3


def nearest(samples: np.ndarray, training: np.ndarray) -> np.ndarray:
    """Index of the nearest row of ``training`` for every row of ``samples`` (squared distances by one GEMM)."""
    return np.argmin((training**2).sum(1)[None, :] - 2.0 * samples @ training.T, axis=1)


def picture_grid(images: Images, runs: list, count: int = GRID):
    """A figure with a panel per run: ``count`` generated images (titled by their distance ratio, framed in red when
    memorised) above their nearest training images; ``runs`` holds ``(label, Generation)`` pairs."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(0.8 * count, 1.9 * len(runs)), layout="constrained")
    pixels = images.pixels(images.training)
    scale = {"cmap": "gray_r", "vmin": pixels.min(), "vmax": pixels.max()}  # one grey scale for every picture
    for panel, (label, run) in zip(np.atleast_1d(fig.subfigures(len(runs), 1)), runs):
        panel.suptitle(label, fontsize=8)
        axes = panel.subplots(2, count, squeeze=False)
        shown = min(count, run.samples.shape[0])
        generated = images.pixels(run.samples[:shown])
        closest = images.pixels(run.training[nearest(run.samples[:shown], run.training)])
        for k, (top, bottom) in enumerate(axes.T):
            for ax in (top, bottom):
                ax.set(xticks=[], yticks=[])
                ax.set_visible(k < shown)
            if k >= shown:
                continue
            top.imshow(generated[k], **scale)
            bottom.imshow(closest[k], **scale)
            memorised = run.ratios[k] < THRESHOLD
            top.set_title(f"{run.ratios[k]:.2f}", fontsize=7, color="C3" if memorised else "k")
            for spine in top.spines.values():
                spine.set(color="C3" if memorised else "0.6", linewidth=2 if memorised else 0.6)
        axes[0, 0].set_ylabel("generated", fontsize=7)
        axes[1, 0].set_ylabel("nearest", fontsize=7)
    return fig


def table(runs: list) -> str:
    """The memorisation table: one line per run, fraction and bootstrap 95 % interval."""
    lines = [f"{'ψn':>6} {'ψp':>6} {'m':>5} {'samples':>7} {'memorised':>9}  95 % interval"]
    for run in runs:
        lines.append(f"{run.psi_n:6g} {run.psi_p:6g} {run.m:5g} {run.ratios.size:7d} {run.fraction:9.3f}  "
                     f"[{run.low:.3f}, {run.high:.3f}]")
    return "\n".join(lines)


def stem(folder: Path, parameters: dict) -> Path:
    """``folder/generate_<activation>_<hash>``, the hash over every parameter (as ``rfdsm.cli.output_stem``); an
    existing table at that name is an error."""
    canonical = json.dumps({name: np.ravel(value).tolist() if not isinstance(value, str) else value
                            for name, value in parameters.items()}, sort_keys=True)
    path = folder / f"generate_{parameters['activation']}_{hashlib.sha256(canonical.encode()).hexdigest()[:10]}"
    if Path(f"{path}.txt").exists():
        raise ValueError(f"out: {path}.txt exists (same parameters); delete it to compute it again")
    return path


def run(args) -> int:
    """The ``rfdsm generate`` command."""
    d = args.d or (args.data.d if isinstance(args.data, Images) else 50)
    parameters = {name: getattr(args, name) for name in ("activation", "psi_n", "psi_p", "m", "lam", "samples",
                                                          "steps", "t_min", "t_max", "ode", "seed")}
    path = stem(args.out, parameters | {"data": repr(args.data), "d": d})
    start = time.perf_counter()
    runs = []
    for psi_n, psi_p, m in itertools.product(args.psi_n, args.psi_p, args.m):
        result = generate(args.activation, d, psi_n, psi_p, m, args.lam, args.samples, steps=args.steps,
                          t_min=args.t_min, t_max=args.t_max, ode=args.ode, seed=args.seed, data=args.data)
        result.save(f"{path}_{len(runs)}.nc")
        runs.append(result)
    text = f"{args.data!r}, d = {d}, {args.activation}, λ = {args.lam:g}, seed {args.seed}\n{table(runs)}\n"
    Path(f"{path}.txt").write_text(text, encoding="utf-8")
    print(text, end="")
    if isinstance(args.data, Images):
        from rfdsm.plots import DPI

        labelled = [(f"ψn = {r.psi_n:g}, ψp = {r.psi_p:g}, m = {r.m:g}: memorised {r.fraction:.2f}".replace("inf", "∞"),
                     r) for r in runs]
        picture_grid(args.data, labelled).savefig(f"{path}.png", dpi=DPI, bbox_inches="tight")
        print(f"wrote {path}.png")
    print(f"{len(runs)} runs in {time.perf_counter() - start:.1f} s; wrote {path}.txt and {len(runs)} NetCDF files")
    return 0


def add_parser(sub, grid, noise_samples_argument, data_argument) -> None:
    """Register ``rfdsm generate`` on the subparsers ``sub`` (with ``rfdsm.cli``'s argument types)."""
    p = sub.add_parser("generate", help="generate with trained scores: memorisation table and, for images, a picture "
                       "grid", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--activation", default="tanh", help="generated activation (default: tanh)")
    p.add_argument("--data", type=data_argument, default="digits",
                   help="data model, as for rfdsm curve (default: digits)")
    p.add_argument("--d", type=int, default=None, help="dimension (default: the image dimension, else 50)")
    # The defaults: where digits are memorised (docs/images.md §3: few images, many features, small ridge).
    p.add_argument("--psi-n", type=grid, default=grid("0.125"),
                   help="ψn values: a number or START:STOP:COUNT (default: 0.125)")
    p.add_argument("--psi-p", type=grid, default=grid("2:32:3"), help="ψp values (default: 2:32:3)")
    p.add_argument("--m", type=noise_samples_argument, nargs="+", default=[8, math.inf],
                   help="noise samples per data point, one or more (default: 8 inf)")
    p.add_argument("--lam", type=float, default=1e-6, help="ridge λ > 0 (default: 1e-6)")
    p.add_argument("--samples", type=int, default=200, help="generated samples per run (default: 200)")
    p.add_argument("--steps", type=int, default=25, help="times of the score grid and reverse steps (default: 25)")
    p.add_argument("--t-min", type=float, default=T_MIN, help=f"where the reverse process stops (default: {T_MIN:g})")
    p.add_argument("--t-max", type=float, default=2.0, help="where it starts, from N(0, I) (default: 2)")
    p.add_argument("--ode", action="store_true", help="probability-flow ODE instead of the reverse SDE")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--out", type=Path, default=Path("out"), help="folder for the files (default: out/)")
    p.set_defaults(run=run)
