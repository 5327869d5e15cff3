"""The ``rfdsm`` command: ``rfdsm curve``, ``rfdsm phase``, ``rfdsm compare``, ``rfdsm generate`` (rfdsm/cli_generate.py),
``rfdsm constants``, ``rfdsm --version``.

Ranges are ``START:STOP:COUNT`` with logarithmic spacing (``--psi-p 0.1:10:200``) or a single number.

Results are written as NetCDF (``rfdsm.load(path)`` reads them back, with every parameter) next to a PNG, under a
name that holds the main parameters and a short hash of all of them (``output_stem``): runs with different parameters
never share a file, and an existing result is never overwritten.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import rfdsm.data

from rfdsm import __version__
from rfdsm.activations import available
from rfdsm.activation_constants import constants
from rfdsm.cli_generate import add_parser as add_generate
from rfdsm.curves import REGIMES, learning_curve, phase_diagram
from rfdsm.solver import ConvergenceError
from rfdsm.validate import noise_samples


def grid(text: str) -> np.ndarray:
    """``"a:b:n"`` → n log-spaced values from a to b; ``"x"`` → [x]."""
    try:
        parts = [float(p) for p in text.split(":")]
        if len(parts) == 1:
            return np.array(parts)
        start, stop, count = parts
        if count < 1 or not float(count).is_integer():
            raise ValueError
        return np.geomspace(start, stop, int(count))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or START:STOP:COUNT, got {text!r}") from None


def noise_samples_argument(text: str) -> float:
    """``--m``: a positive integer, ``inf`` or ``∞``, checked by ``validate.noise_samples`` as the API checks it."""
    try:
        return noise_samples(float(text.replace("∞", "inf")))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


#: ``--data`` models by name: the constructor that its ``NAME:KEY=VALUE,…`` keywords go to, and its syntax; ``images``
#: takes the file's path first.
DATA = {
    "isotropic": (rfdsm.data.Isotropic, "isotropic"),
    "powerlaw": (rfdsm.data.PowerLaw, "powerlaw:k=K (0 ≤ K < 1)"),
    "twoatoms": (rfdsm.data.TwoAtoms, "twoatoms:l1=L1,l2=L2[,weight=W]"),
    "manifold": (rfdsm.data.Manifold, "manifold:psi_D=P[,sigma=NAME] (0 < P ≤ 1, NAME an activation)"),
    "digits": (rfdsm.data.Digits, "digits"),
    "images": (rfdsm.data.Images.from_file, "images:PATH[,downsample=K] (docs/images.md)"),
}


def _value(text: str):
    """A keyword's value: a number if it reads as one, else the text (an activation's name)."""
    try:
        return float(text)
    except ValueError:
        return text


def data_argument(text: str):
    """``--data``: a data model of ``DATA`` with its keywords, e.g. ``powerlaw:k=0.5``, ``images:train.npy``."""
    name, _, rest = text.partition(":")
    if name not in DATA:
        raise argparse.ArgumentTypeError(f"data: expected one of {', '.join(DATA)} (NAME:KEY=VALUE,…), got {text!r}")
    items = rest.split(",")
    path = [items.pop(0)] if name == "images" else []
    try:
        keywords = {key: _value(value) for key, value in (item.split("=", 1) for item in items if item)}
        return DATA[name][0](*path, **keywords)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(f"data: {text!r}: {err}") from None


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=data_argument, default=rfdsm.data.Isotropic(),
                        help=f"data model: {', '.join(syntax for _, syntax in DATA.values())} (default: isotropic; "
                        "docs/data.md)")


def _common(parser: argparse.ArgumentParser, psi_n: str, psi_p: str) -> None:
    parser.add_argument("--activation", default="tanh", help="generated activation (default: tanh); "
                        f"available: {', '.join(available())}")
    parser.add_argument("--t", type=float, default=0.1, help="diffusion time t > 0 (default: 0.1)")
    parser.add_argument("--m", type=noise_samples_argument, default=math.inf,
                        help="noise samples per data point: a positive integer or inf (default: inf)")
    parser.add_argument("--lam", type=float, default=1e-3, help="ridge λ > 0 (default: 1e-3)")
    ranges = "a number, or START:STOP:COUNT for COUNT values from START to STOP spaced evenly on a log scale"
    parser.add_argument("--psi-n", type=grid, default=grid(psi_n), help=f"ψn = n/d: {ranges} (default: {psi_n})")
    parser.add_argument("--psi-p", type=grid, default=grid(psi_p), help=f"ψp = p/d: {ranges} (default: {psi_p})")
    _data_option(parser)
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the PNG and NetCDF (default: out/)")


def output_stem(folder: Path, kind: str, parameters: dict) -> Path:
    """``folder/<kind>_<activation>_t<t>_m<m>_lam<λ>_<hash>``, the hash (10 hex digits of sha256) over every parameter:
    different parameters never share a name. A NetCDF result already at that name is an error, so nothing is
    overwritten."""
    canonical = json.dumps({name: np.ravel(value).tolist() for name, value in parameters.items()}, sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:10]
    p = parameters
    stem = folder / f"{kind}_{p['activation']}_t{p['t']:g}_m{p['m']:g}_lam{p['lam']:g}_{digest}"
    if Path(f"{stem}.nc").exists():
        raise ValueError(f"out: {stem}.nc exists (same parameters); delete it to compute it again")
    return stem


def curve(args) -> int:
    from rfdsm.plots import DPI, plot_curve

    if args.psi_n.size > 1 and args.psi_p.size > 1:
        raise ValueError("psi_n, psi_p: give a range for one of them and a number for the other")
    start = time.perf_counter()
    c = learning_curve(args.activation, args.t, args.psi_n, args.psi_p, m=args.m, lam=args.lam, data=args.data,
                       on_failure="nan")
    elapsed = time.perf_counter() - start
    axis = "psi_p" if args.psi_p.size > 1 or args.psi_n.size == 1 else "psi_n"
    stem = output_stem(args.out, "curve", {"activation": args.activation, "t": args.t, "m": args.m, "lam": args.lam,
                                           "data": repr(args.data),
                                           "psi_n": args.psi_n, "psi_p": args.psi_p})
    c.save(f"{stem}.nc")
    if np.all(c.status != 0):
        print(f"no point solved; wrote {stem}.nc (NaN)")
        return _report(c.failures)
    plot_curve(c, axis).figure.savefig(f"{stem}.png", dpi=DPI, bbox_inches="tight")
    best = int(np.nanargmin(c.test))
    print(f"{c.test.size} points in {elapsed * 1e3:.1f} ms (with the one-off load of the compiled solver); "
          f"baseline (exact score) {c.baseline:.4f}; lowest test error "
          f"{c.test.ravel()[best]:.4f} at ψn = {c.psi_n.ravel()[best]:.3g}, ψp = {c.psi_p.ravel()[best]:.3g}")
    print(f"wrote {stem}.png and {stem}.nc")
    return _report(c.failures)


def _report(failures: tuple) -> int:
    """Exit status 3 and the failed points (NaN in the files) on standard error, or 0."""
    for line in failures[:10]:
        print(f"rfdsm: not solved: {line}", file=sys.stderr)
    if len(failures) > 10:
        print(f"rfdsm: … and {len(failures) - 10} more", file=sys.stderr)
    return 3 if failures else 0


def phase(args) -> int:
    from rfdsm.plots import DPI, plot_phase

    start = time.perf_counter()
    d = phase_diagram(args.activation, args.t, args.psi_n, args.psi_p, m=args.m, lam=args.lam, data=args.data,
                      tolerance=args.tolerance, on_failure="nan")
    elapsed = time.perf_counter() - start
    stem = output_stem(args.out, "phase", {"activation": args.activation, "t": args.t, "m": args.m, "lam": args.lam,
                                           "data": repr(args.data),
                                           "psi_n": args.psi_n, "psi_p": args.psi_p, "tolerance": args.tolerance})
    d.save(f"{stem}.nc")
    plot_phase(d).figure.savefig(f"{stem}.png", dpi=DPI, bbox_inches="tight")
    counts = ", ".join(f"{name} {np.mean(d.regime == i):.0%}" for i, name in enumerate(REGIMES))
    print(f"{d.regime.size} points in {elapsed:.2f} s (with the one-off load of the compiled solver): {counts}")
    print(f"wrote {stem}.png and {stem}.nc")
    return _report(d.curve.failures)


def compare_command(args) -> None:
    from rfdsm.agreement import compare
    from rfdsm.runner import local_cluster, read_records

    if args.workers and args.scheduler:
        raise ValueError("workers, scheduler: give one of --workers and --scheduler")
    parameters = {"activation": args.activation, "t": args.t, "m": args.m, "lam": args.lam, "psi_n": args.psi_n,
                  "psi_p": args.psi_p, "sizes": args.sizes, "seeds": args.seeds, "seed": args.seed,
                  "data": repr(args.data)}
    stem = output_stem(args.out, "compare", parameters)
    records = Path(f"{stem}.records.jsonl")
    if records.exists():
        print(f"resuming: {len(read_records(records))} draws already in {records}")
    def run(client):
        return compare(args.activation, args.t, args.psi_n, args.psi_p, args.m, args.lam, args.sizes, args.seeds,
                       data=args.data, seed=args.seed, client=client, records=records, progress=True)

    start = time.perf_counter()
    if args.workers:
        from distributed import Client

        with local_cluster(args.workers) as cluster, Client(cluster) as client:
            result = run(client)
    elif args.scheduler:
        from distributed import Client

        with Client(args.scheduler) as client:
            result = run(client)
    else:
        result = run(None)
    elapsed = time.perf_counter() - start
    result.save(f"{stem}.nc")
    print(result.table())
    print(f"{elapsed:.1f} s; wrote {stem}.nc (the draws: {records})")


def show_constants(args) -> None:
    print(f"{'activation':>12} {'t':>6} {'mu0':>10} {'mu1':>10} {'norm2':>10} {'mustar2':>10} {'kappa':>10}")
    for name in args.activation or available():
        for t in args.t:
            c = constants(name, t)
            print(f"{name:>12} {t:6g} {c.mu0:10.6f} {c.mu1:10.6f} {c.norm2:10.6f} {c.mustar2:10.6f} {c.kappa:10.6f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rfdsm", description="Exact asymptotic learning curves of random-features "
                                     "denoising score matching (docs/models.md §1).")
    parser.add_argument("--version", action="version", version=f"rfdsm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("curve", help="learning curve (test, train, score errors) against ψp or ψn; PNG + CSV")
    _common(p, psi_n="2", psi_p="0.1:10:200")
    p.set_defaults(run=curve)
    p = sub.add_parser("phase", help="phase diagram (generalisation / memorisation / underfitting) in (ψn, ψp)")
    _common(p, psi_n="0.1:1000:100", psi_p="0.1:1000:100")
    p.add_argument("--tolerance", type=float, default=0.1,
                   help="generalisation: test error within this relative excess over a² (default: 0.1)")
    p.set_defaults(run=phase)
    p = sub.add_parser("compare", help="theory against simulations at several sizes d, extrapolated to d = ∞; NetCDF",
                       description="Simulate every (d, ψp) with --seeds draws, here or on a Dask cluster "
                       "(pip install -e \".[dask]\"), and set the errors against the theory. Finished draws are kept "
                       "in <name>.records.jsonl: run the same command again to resume a stopped run.")
    p.add_argument("--activation", default="tanh", help=f"generated activation (default: tanh); available: "
                   f"{', '.join(available())}")
    p.add_argument("--t", type=float, default=0.3, help="diffusion time t > 0 (default: 0.3)")
    p.add_argument("--m", type=noise_samples_argument, default=math.inf,
                   help="noise samples per data point: a positive integer or inf (default: inf)")
    p.add_argument("--lam", type=float, default=1e-3, help="ridge λ > 0 (default: 1e-3)")
    p.add_argument("--psi-n", type=float, default=1.0, help="ψn = n/d (default: 1)")
    p.add_argument("--psi-p", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0],
                   help="ψp values; every ψ d must be whole at every size (default: 0.5 1 2 4)")
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 300, 400],
                   help="sizes d (default: 100 200 300 400)")
    p.add_argument("--seeds", type=int, default=10, help="draws per point (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the draws (default: 0)")
    _data_option(p)
    p.add_argument("--workers", type=int, default=0, help="run on a local Dask cluster of this many processes")
    p.add_argument("--scheduler", default=None, help="run on the Dask scheduler at this address (tcp://host:port)")
    p.add_argument("--out", type=Path, default=Path("out"), help="folder for the results (default: out/)")
    p.set_defaults(run=compare_command)
    add_generate(sub, grid, noise_samples_argument, data_argument)
    p = sub.add_parser("constants", help="Gaussian constants of the activations at some times")
    p.add_argument("--activation", nargs="*", help="activations (default: all generated)")
    p.add_argument("--t", type=float, nargs="+", default=[0.1, 1.0], help="times (default: 0.1 1)")
    p.set_defaults(run=show_constants)
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "out"):
            args.out.mkdir(parents=True, exist_ok=True)
        return args.run(args) or 0
    except OSError as err:
        print(f"rfdsm: error: out: cannot write into {args.out}: {err.strerror or err}", file=sys.stderr)
        return 2
    except (ValueError, ConvergenceError) as err:
        print(f"rfdsm: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
