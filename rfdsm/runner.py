"""The grid runner ``sweep``: simulations over a grid of parameters, here in order or on a Dask cluster, resumable.

Every draw of every point is one task, ``draw_errors(point, seed, index)`` (rfdsm/simulation/run.py), pure and keyed by
``(seed, index, d)``: the numbers do not depend on where or in which order the tasks run (bit for bit with the same
number of BLAS threads; with another number they agree to round-off, as OpenBLAS's threaded GEMM and Cholesky sum in
another order). Finished draws come back as records (a dict: the point, the seed, the draw index and the four errors)
(the data model as its ``repr``) and, with ``records=PATH``, are appended to that JSON-lines file as they arrive; a rerun with the same file runs only
the draws that are not in it, so a sweep that was stopped keeps what finished. Aggregation over the draws is done
afterwards, on the records.

With a ``dask.distributed.Client`` the tasks are mapped on its workers (``pip install -e ".[dask]"``). Each task limits
BLAS (threadpoolctl) and Numba to its share of its machine's cores — the cores divided by the task slots that the
cluster has on that machine — so two workers of a two-core laptop do not each start two threads. Workers import the
same package, so they load the compiled functions from Numba's cache; they show no progress bar, the client one bar
for the whole sweep. ``local_cluster(workers)`` starts a ``LocalCluster`` set up that way.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from rfdsm.results import Result
from rfdsm.simulation.run import ERRORS, PARAMETERS, aggregate, draw_errors, mean_and_se, point, record_key
from rfdsm.validate import count


def _values(name: str, value) -> tuple:
    """A parameter's values: a string or a number is one value, anything else a sequence of them."""
    values = (value,) if isinstance(value, str) or np.ndim(value) == 0 else tuple(np.ravel(value).tolist())
    if not values:
        raise ValueError(f"{name}: expected at least one value")
    return values


def read_records(path) -> list[dict]:
    """The records of a JSON-lines file (none if it does not exist); a last line cut short by a stop is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _worker_draw(where: dict, seed: int, index: int, slots: dict) -> dict:
    """``draw_errors`` on a Dask worker, with BLAS and Numba limited to the task's share of its machine's cores."""
    import numba
    from distributed import get_worker
    from distributed.comm import get_address_host
    from threadpoolctl import threadpool_limits

    worker = get_worker()
    share = max(1, _cores() // slots.get(get_address_host(worker.address), worker.state.nthreads))
    numba.set_num_threads(min(share, numba.config.NUMBA_NUM_THREADS))  # per calling thread: set in the task
    with threadpool_limits(limits=share):
        return draw_errors(where, seed, index)


def _run(tasks: list, seed: int, client, progress: bool):
    """Records of ``tasks`` (``(point, index)`` pairs) as they finish: in order here, or on ``client``."""
    bar = tqdm(total=len(tasks), desc="sweep", disable=not progress)
    if client is None:
        for where, index in tasks:
            yield draw_errors(where, seed, index)
            bar.update()
    else:
        from distributed import as_completed
        from distributed.comm import get_address_host

        slots = {}
        for address, info in client.scheduler_info()["workers"].items():
            host = get_address_host(address)
            slots[host] = slots.get(host, 0) + info["nthreads"]
        futures = client.map(_worker_draw, [where for where, _ in tasks], [seed] * len(tasks),
                             [index for _, index in tasks], slots=slots)
        for future in as_completed(futures):
            yield future.result()
            bar.update()
            future.release()
    bar.close()


@dataclass(frozen=True, repr=False)
class Sweep(Result):
    """Per-draw errors on a grid: ``values[error]`` has one axis per parameter of ``PARAMETERS`` (in that order, of
    length ``len(axes[name])``) and a last axis over the ``seeds`` draws; ``data`` is the ``repr`` of the data model.
    ``simulation(...)`` aggregates one point."""

    axes: dict
    data: str
    seeds: int
    seed: int
    values: dict

    @property
    def swept(self) -> tuple:
        """The parameters with more than one value."""
        return tuple(name for name in PARAMETERS if len(self.axes[name]) > 1)

    def _generated(self) -> list[str]:
        return [f"generated.activations.{name}" for name in self.axes["activation"]]

    def mean(self, error: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean over the draws and its standard error at every point, axes as ``values[error]`` without the last."""
        return mean_and_se(self.values[error])

    def simulation(self, **fixed):
        """The ``Simulation`` at one point: a value for every swept parameter (``sweep.simulation(psi_p=2.0)``)."""
        if set(fixed) != set(self.swept):
            raise ValueError(f"fixed: give a value for each of {self.swept}, got {sorted(fixed)}")
        index = tuple(self.axes[name].index(fixed[name]) if name in fixed else 0 for name in PARAMETERS)
        return aggregate([{**{name: self.axes[name][i] for name, i in zip(PARAMETERS, index)}, "data": self.data,
                           "seed": self.seed, "index": k, **{e: self.values[e][index][k] for e in ERRORS}} for k in range(self.seeds)])

    def _dataset(self):
        import xarray as xr

        dims = (*self.swept, "draw")
        squeeze = tuple(i for i, name in enumerate(PARAMETERS) if name not in self.swept)
        variables = {e: (dims, self.values[e].squeeze(axis=squeeze)) for e in ERRORS}
        coords = {name: list(self.axes[name]) for name in self.swept} | {"draw": np.arange(self.seeds)}
        fixed = {name: self.axes[name][0] for name in PARAMETERS if name not in self.swept}
        return xr.Dataset(variables, coords=coords, attrs=fixed | {"data": self.data, "seed": self.seed})

    @classmethod
    def _from_dataset(cls, data, attrs):
        axes = {name: tuple(data[name].values.tolist()) if name in data.coords else (attrs[name],)
                for name in PARAMETERS}
        values = {e: data[e].transpose(*(name for name in PARAMETERS if name in data.coords), "draw").values
                  .reshape(*(len(axes[name]) for name in PARAMETERS), -1) for e in ERRORS}
        return cls(axes, attrs["data"], data.sizes["draw"], attrs["seed"], values)

    def _summary(self) -> str:
        fixed = ", ".join(f"{name}={self.axes[name][0]:g}" if name != "activation" else self.axes[name][0]
                          for name in PARAMETERS if name not in self.swept)
        swept = " × ".join(f"{len(self.axes[name])} {name}" for name in self.swept) or "one point"
        return f"{fixed}, {self.data}, seed={self.seed}; {swept}, {self.seeds} draws each"


def sweep(
    activation,
    t,
    d,
    psi_n,
    psi_p,
    m=math.inf,
    lam=1e-3,
    seeds: int = 10,
    *,
    data=None,
    seed: int = 0,
    client=None,
    records=None,
    progress: bool = False,
) -> Sweep:
    """Simulate every point of the grid spanned by the parameters (each a value or a sequence of values) with
    ``seeds`` draws each, on the data model ``data`` (default ``Isotropic()``), here in order (``client=None``) or on
    a ``dask.distributed.Client``.

    ``records``: a JSON-lines file that receives every finished draw as it arrives; draws already in it are not run
    again (resume a stopped sweep by calling ``sweep`` again with the same file). See the module docstring.
    """
    given = {name: _values(name, value) for name, value in zip(PARAMETERS, (activation, t, d, psi_n, psi_p, m, lam))}
    points = [point(*values, data) for values in itertools.product(*given.values())]
    # The checked values (floats; m an int or inf), in the order given: the product meets them in that order.
    axes = {name: tuple(dict.fromkeys(p[name] for p in points)) for name in PARAMETERS}
    for name in PARAMETERS:
        if len(axes[name]) < len(given[name]):
            raise ValueError(f"{name}: values repeat in {given[name]!r}")
    seeds = count("seeds", seeds)
    seed = count("seed", seed, minimum=0)
    found = {record_key(record): record for record in (read_records(records) if records is not None else [])}
    tasks = [(p, k) for p in points for k in range(seeds) if record_key({**p, "seed": seed, "index": k}) not in found]
    out = None if records is None else open(records, "a", encoding="utf-8")
    if out is not None and out.tell() > 0:
        with open(records, "rb") as f:
            f.seek(-1, 2)
            if f.read(1) != b"\n":
                out.write("\n")  # end a line cut short by a stop, or the next record would be glued to it
    try:
        for record in _run(tasks, seed, client, progress):
            found[record_key(record)] = record
            if out is not None:
                out.write(json.dumps(record) + "\n")
                out.flush()  # a stop keeps every finished draw
    finally:
        if out is not None:
            out.close()
    shape = (*(len(values) for values in axes.values()), seeds)
    values = {e: np.array([found[record_key({**p, "seed": seed, "index": k})][e] for p in points
                           for k in range(seeds)]).reshape(shape) for e in ERRORS}
    return Sweep(axes, repr(points[0]["data"]), seeds, seed, values)


def local_cluster(workers: int):
    """A ``dask.distributed.LocalCluster`` of ``workers`` processes with one task slot each, whose BLAS and Numba
    thread pools are sized to the share of the cores (``NUMBA_NUM_THREADS``, ``OMP_NUM_THREADS``,
    ``OPENBLAS_NUM_THREADS`` set before they start)."""
    from distributed import LocalCluster

    workers = count("workers", workers)
    share = str(max(1, _cores() // workers))
    env = {name: share for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    env |= {name: os.environ[name] for name in ("OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT")}  # rfdsm/__init__.py
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, env=env, dashboard_address=":0")
