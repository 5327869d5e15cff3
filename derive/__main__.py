"""``python -m derive``: regenerate generated/, or add one activation.

    python -m derive                                      # everything: built-ins, recorded custom activations, models
    python -m derive --activation "x*erf(x)" --name xerf  # one new activation: certified, recorded, written
    python -m derive --activation "leaky_relu(0.2)" --name leaky02

A new activation is recorded in the registry (derive/custom_activations.json) so that ``python -m derive`` regenerates
it; one whose constants cannot be certified (derive/certify.py) is refused, and nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from derive import registry
from derive.activations import BUILTINS, parse
from derive.build import activation_module, activation_path, generate_all
from derive.emit import GENERATED, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m derive", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GENERATED, help="folder to write into (default: generated/)")
    parser.add_argument(
        "--activation",
        help='only this activation: a built-in name, "leaky_relu(SLOPE)", "hermite(K)" or a SymPy expression in x',
    )
    parser.add_argument("--name", help="module name of a new activation (a Python identifier, not a keyword)")
    parser.add_argument("--registry", type=Path, default=registry.REGISTRY,
                        help="registry of custom activations to read and record into (default: "
                             "derive/custom_activations.json)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        if args.activation is None:
            if args.name is not None:
                parser.error("--name goes with --activation")
            paths = generate_all(args.out, registry.recorded(args.registry))
        else:
            act = parse(args.activation, args.name)
            text = activation_module(act, args.activation)
            if act.name not in BUILTINS:
                registry.record(act.name, args.activation, args.registry)
            paths = [activation_path(args.out, act.name)]
            write(paths[0], text)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} modules into {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
