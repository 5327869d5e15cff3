"""Single-threaded BLAS for the tests: on 2 cores the many small matrices of the tests run several times faster
without OpenBLAS's thread spin (measured: a 240×60 least squares took 0.6 s threaded, 13 ms single-threaded)."""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` run in CI (``CI`` set, as in .ci/run) or with ``-m slow``; a local run skips them so the
    warm suite stays short."""
    import pytest

    if os.environ.get("CI") or config.getoption("-m"):
        return
    skip = pytest.mark.skip(reason="slow: runs in CI (set CI=1) or with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
