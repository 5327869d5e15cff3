"""The public surface is one house: theory and simulation take their arguments in one order and share one default m."""

import inspect
import math

import rfdsm

#: The leading parameters every RF-DSM entry point shares, in this order.
ORDER = ["activation", "t"]
SHARED = ["psi_n", "psi_p", "m", "lam"]


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_one_argument_order_and_one_default_m():
    functions = [rfdsm.learning_curve, rfdsm.phase_diagram, rfdsm.simulate, rfdsm.compare, rfdsm.generate]
    for function in functions:
        names = parameters(function)
        # generate samples over every time, so it has no t
        assert names[:2] == ORDER or (names[0] == "activation" and "t" not in names), function.__name__
        shared = [n for n in names if n in SHARED]
        assert shared == [n for n in SHARED if n in names], (function.__name__, shared)
        assert inspect.signature(function).parameters["m"].default == math.inf, function.__name__
    # learning_curve and phase_diagram: activation, t, psi_n, psi_p, m, lam, in that order, first.
    assert parameters(rfdsm.phase_diagram)[:6] == parameters(rfdsm.learning_curve)[:6]


def test_progress_bars_are_off_in_library_calls():
    for function in (rfdsm.simulate, rfdsm.compare, rfdsm.generate, rfdsm.sweep):
        assert inspect.signature(function).parameters["progress"].default is False, function.__name__


def test_submodules_are_not_shadowed_and_version_exists():
    import importlib

    for name in ("agreement", "activation_constants", "curves", "runner", "results", "simulation", "solver"):
        module = importlib.import_module(f"rfdsm.{name}")
        assert getattr(rfdsm, name, module) is module, name
    assert callable(rfdsm.compare) and callable(rfdsm.constants) and callable(rfdsm.sweep)
    assert rfdsm.__version__.count(".") >= 2
