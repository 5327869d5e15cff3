"""The results layer: every result type round-trips through NetCDF with its metadata; short reprs; CLI file names."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import rfdsm
from rfdsm.cli import main, output_stem
from rfdsm.distance import OneStepModel, prob_delta_positive
from rfdsm.linear.chain import Training, linear_schedule, power_law_spectrum, realise
from rfdsm.linear.theory import proportional_limit
from rfdsm.results import Result, load


def _equal(a, b) -> bool:
    """Exact equality of two result field values (arrays, dicts of arrays, dataclasses, scalars; NaN equals NaN)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, Result) or hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(_equal(getattr(a, k), getattr(b, k)) for k in a.__dataclass_fields__)
    if isinstance(a, (np.ndarray, list, tuple)):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.all((a == b) | (a != a) & (b != b)))
    return a == b or (a != a and b != b)


#: The results without a generated solver behind them.
LINEAR_AND_DISTANCE = ("linear_realisation", "linear_theory", "delta_probability")


@pytest.fixture(scope="module")
def results():
    """One small instance of every result type."""
    curve = rfdsm.learning_curve("tanh", 0.1, 2.0, np.geomspace(0.1, 10, 7), m=4)
    return {
        "curve": curve,
        "curve_2d": rfdsm.learning_curve("relu", 0.2, [[1.0], [2.0]], [[0.5, 1.0, 4.0]]),
        "phase": rfdsm.phase_diagram("tanh", 0.1, m=math.inf, lam=1e-3, psi_n=np.geomspace(0.1, 10, 3),
                                     psi_p=np.geomspace(0.1, 10, 4)),
        "simulation": rfdsm.simulate("relu", 0.3, 30, 1.0, 1.5, m=2, seeds=3),
        "simulation_one_draw": rfdsm.simulate("tanh", 0.3, 30, 1.0, 1.5, seeds=1),
        "comparison": rfdsm.compare("tanh", 0.3, 1.0, [0.5, 2.0], sizes=(20, 30), seeds=2),
        "generation": rfdsm.generate("tanh", 8, 0.5, 2.0, m=3, samples=20, steps=4, ode=True),
        "sweep": rfdsm.sweep(["tanh", "relu"], 0.3, 20, 1.0, [0.5, 2.0], m=[1, math.inf], seeds=2),
        # results without a generated solver behind them: the linear diffusion model and the relative distance
        "linear_realisation": realise(power_law_spectrum(8, 0.5), 12, linear_schedule(20), Training(c=0.1, tau=5.0),
                                      seed=1),
        "linear_theory": proportional_limit(power_law_spectrum(8, 0.5), 12, linear_schedule(20)),
        "delta_probability": prob_delta_positive(OneStepModel(d=3), 4, n_sets=5),
    }


@pytest.mark.parametrize("name", ["curve", "curve_2d", "phase", "simulation", "simulation_one_draw", "comparison",
                                  "generation", "sweep", "linear_realisation", "linear_theory", "delta_probability"])
def test_save_load_round_trip(results, name, tmp_path):
    """``load(save(r))`` is ``r`` field by field, exactly, and the file carries the version and, for the results of
    the random-features model, the hashes of its generated solvers."""
    result = results[name]
    path = result.save(tmp_path / f"{name}.nc")
    back = load(path)
    assert type(back) is type(result)
    for field in result.__dataclass_fields__:
        assert _equal(getattr(back, field), getattr(result, field)), field
    attrs = xr.open_dataset(path, engine="scipy").attrs
    assert attrs["rfdsm_type"] == type(result).__name__
    assert attrs["rfdsm_version"] == rfdsm.__version__
    assert any(key.startswith("sha256_activations_") for key in attrs) == (name not in LINEAR_AND_DISTANCE)


def test_attrs_hold_every_fixed_parameter_and_the_solver_hash(results):
    """A curve's attrs: activation, t, m, λ and the sha256 of its generated activation and model, as in the headers."""
    attrs = results["curve"].to_xarray().attrs
    assert (attrs["activation"], attrs["t"], attrs["m"], attrs["lam"]) == ("tanh", 0.1, 4, 1e-3)
    for module, key in (("activations/tanh.py", "sha256_activations_tanh"),
                        ("models/rfdsm_finite.py", "sha256_models_rfdsm_finite")):
        header = (Path(rfdsm.__file__).parents[1] / "generated" / module).read_text().splitlines()[2]
        assert header == f"# Source sha256: {attrs[key]}"
    swept = results["sweep"].to_xarray()
    assert set(swept.coords) == {"activation", "psi_p", "m", "draw"}
    assert {"t", "d", "psi_n", "lam", "seed"} <= set(swept.attrs)


@pytest.mark.parametrize("name", ["curve", "phase", "simulation", "comparison", "generation", "sweep",
                                  "linear_realisation", "linear_theory", "delta_probability"])
def test_reprs_are_short(results, name):
    """One line of at most 200 characters naming the type, no array printout."""
    text = repr(results[name])
    assert text.startswith(type(results[name]).__name__ + "(")
    assert "\n" not in text and len(text) <= 200 and "array" not in text, text


def test_to_dataframe_has_a_row_per_point(results):
    frame = results["curve"].to_dataframe()
    assert len(frame) == 7 and {"psi_n", "psi_p", "test", "train"} <= set(frame.columns)


def test_save_refuses_to_overwrite_and_load_refuses_other_files(results, tmp_path):
    path = results["simulation"].save(tmp_path / "s.nc")
    with pytest.raises(FileExistsError, match=r"^path:"):
        results["simulation"].save(path)
    results["simulation_one_draw"].save(path, overwrite=True)
    assert load(path).seeds == 1
    xr.Dataset({"x": ("i", [1.0])}).to_netcdf(tmp_path / "other.nc", engine="scipy")
    with pytest.raises(ValueError, match=r"^path:"):
        load(tmp_path / "other.nc")


def test_cli_file_names_never_collide(tmp_path):
    """Changing any one parameter changes the name (λ included, which the old CSV names left out); the same
    parameters give the same name, and a finished result there stops the command instead of being overwritten."""
    base = {"activation": "tanh", "t": 0.1, "m": math.inf, "lam": 1e-3, "psi_n": np.array([2.0]),
            "psi_p": np.geomspace(0.1, 10, 200)}
    changes = {"activation": "relu", "t": 0.2, "m": 4, "lam": 1e-2, "psi_n": np.array([3.0]),
               "psi_p": np.geomspace(0.1, 10, 201)}
    names = {output_stem(tmp_path, "curve", base)} | {output_stem(tmp_path, "phase", base)}
    names |= {output_stem(tmp_path, "curve", base | {name: value}) for name, value in changes.items()}
    assert len(names) == 2 + len(changes)
    assert output_stem(tmp_path, "curve", dict(base)) == output_stem(tmp_path, "curve", base)
    assert main(["curve", "--out", str(tmp_path), "--psi-p", "0.5:2:3", "--lam", "1e-3"]) == 0
    assert main(["curve", "--out", str(tmp_path), "--psi-p", "0.5:2:3", "--lam", "1e-2"]) == 0
    assert main(["curve", "--out", str(tmp_path), "--psi-p", "0.5:2:3", "--lam", "1e-2"]) == 2
    saved = sorted(tmp_path.glob("curve_*.nc"))
    assert len(saved) == 2 and {load(p).lam for p in saved} == {1e-3, 1e-2}


def test_version(capsys):
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", rfdsm.__version__)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"rfdsm {rfdsm.__version__}"
