"""The grid runner: keyed draws give the same numbers in order, resumed, or on a Dask cluster."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import rfdsm.runner
from rfdsm.agreement import compare
from rfdsm.runner import read_records, sweep
from rfdsm.simulation import simulate

GRID = {"activation": "tanh", "t": 0.3, "d": [20, 30], "psi_n": 1.0, "psi_p": [0.5, 2.0], "m": [2, math.inf]}


def _same(a, b) -> bool:
    return a.axes == b.axes and all(np.array_equal(a.values[e], b.values[e]) for e in a.values)


def test_a_point_of_a_sweep_is_simulate_at_that_point():
    """Draw k is keyed by (seed, k, d) alone: the sweep's point equals ``simulate`` there, bit for bit."""
    grid = sweep(**GRID, seeds=3, seed=5)
    alone = simulate("tanh", 0.3, 30, 1.0, 2.0, m=math.inf, seeds=3, seed=5)
    assert grid.simulation(d=30, psi_p=2.0, m=math.inf).per_seed["test"].tolist() == alone.per_seed["test"].tolist()
    mean, se = grid.mean("train")
    assert mean[0, 0, 1, 0, 1, 1, 0] == alone.train and se[0, 0, 1, 0, 1, 1, 0] == alone.train_se


def test_stopped_sweep_resumes_to_the_same_result(tmp_path, monkeypatch):
    """A sweep stopped after 5 of 24 draws keeps them in its records file (plus a line cut short by the stop); the
    rerun computes only the 19 others and equals a sweep that ran uninterrupted."""
    whole = sweep(**GRID, seeds=3)
    records = tmp_path / "records.jsonl"
    calls = []
    draw = rfdsm.runner.draw_errors

    def stopping(*args):
        if len(calls) == 5:
            with open(records, "a") as f:
                f.write('{"activation": "tan')  # a record cut short by the stop
            raise KeyboardInterrupt
        calls.append(args)
        return draw(*args)

    monkeypatch.setattr(rfdsm.runner, "draw_errors", stopping)
    with pytest.raises(KeyboardInterrupt):
        sweep(**GRID, seeds=3, records=records)
    assert len(read_records(records)) == 5
    calls.clear()
    monkeypatch.setattr(rfdsm.runner, "draw_errors", lambda *args: calls.append(args) or draw(*args))
    resumed = sweep(**GRID, seeds=3, records=records)
    assert len(calls) == 24 - 5
    assert _same(resumed, whole)
    assert len(read_records(records)) == 24
    calls.clear()
    assert _same(sweep(**GRID, seeds=3, records=records), whole) and not calls  # nothing left to run


def test_records_keep_exact_floats(tmp_path):
    """JSON keeps every float exactly (shortest repr), m = ∞ included."""
    records = tmp_path / "r.jsonl"
    result = sweep("relu", 0.3, 20, 1.0, 1.0, m=math.inf, seeds=2, records=records)
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    assert [line["test"] for line in lines] == result.values["test"].ravel().tolist()
    assert all(line["m"] == math.inf for line in lines)


@pytest.mark.parametrize("kwargs", [{"d": [20, 20]}, {"psi_p": [1.0, 1]}, {"t": []}, {"d": 0}, {"m": 0.5}])
def test_bad_grids_raise_value_error(kwargs):
    arguments = {"activation": "relu", "t": 0.3, "d": 20, "psi_n": 1.0, "psi_p": 1.0} | kwargs
    with pytest.raises(ValueError, match=rf"^{next(iter(kwargs))}:"):
        sweep(**arguments, seeds=1)


@pytest.mark.slow  # starts a two-process LocalCluster: CI runs it
def test_dask_cluster_gives_the_serial_numbers():
    """The same comparison in order and on LocalCluster(n_workers=2, processes=True): identical, bit for bit (at these
    sizes BLAS runs one thread either way; see rfdsm/runner.py on thread counts)."""
    distributed = pytest.importorskip("distributed")
    arguments = dict(activation="tanh", t=0.3, psi_n=1.0, psi_p=[0.5, 2.0], m=math.inf, sizes=(20, 30), seeds=3)
    serial = compare(**arguments)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        with distributed.Client(cluster) as client:
            remote = compare(**arguments, client=client)
            assert len(client.scheduler_info()["workers"]) == 2
    for error in ("test", "train", "train_ridge"):
        assert np.array_equal(serial.mean[error], remote.mean[error])
        assert np.array_equal(serial.se[error], remote.se[error])
