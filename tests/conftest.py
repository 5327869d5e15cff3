"""Single-threaded BLAS for the tests: on 2 cores the many small matrices of the tests run several times faster
without OpenBLAS's thread spin (measured: a 240×60 least squares took 0.6 s threaded, 13 ms single-threaded)."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
