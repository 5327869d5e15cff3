"""The symbolic side of rfdsm: activations and their Gaussian constants, linear pencils, and the code generator that
writes the numerical solvers into generated/ (``python -m derive``). Never imported by the runtime."""
