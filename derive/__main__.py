"""``python -m derive``: regenerate generated/, or add one activation.

    python -m derive                                      # everything (built-ins and recorded custom activations)
    python -m derive --activation "x*erf(x)" --name xerf  # one new activation, no other file touched
    python -m derive --activation "leaky_relu(0.2)" --name leaky02
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from derive.activations import parse
from derive.build import generate_activation, generate_all, recorded_customs
from derive.emit import GENERATED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m derive", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GENERATED, help="folder to write into (default: generated/)")
    parser.add_argument(
        "--activation",
        help='only this activation: a built-in name, "leaky_relu(SLOPE)", "hermite(K)" or a SymPy expression in x',
    )
    parser.add_argument("--name", help="module name of a new activation (a Python identifier)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        if args.activation is None:
            if args.name is not None:
                parser.error("--name goes with --activation")
            paths = generate_all(args.out, recorded_customs(args.out))
        else:
            paths = [generate_activation(parse(args.activation, args.name), args.activation, args.out)]
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} modules into {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
