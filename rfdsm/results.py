"""One results layer: every result of rfdsm converts to an ``xarray.Dataset``, saves to NetCDF and loads back.

A result dataclass derives from ``Result`` and gives three things: ``_dataset()`` (its arrays, coordinates = the swept
parameters, attrs = its fixed parameters), ``_from_dataset(data, attrs)`` (the inverse) and ``_summary()`` (one line
for ``repr``). ``Result`` adds the common attrs — the result's type, the package version and the sha256 of every
generated module it used, read from the module's header — and ``to_xarray``, ``to_dataframe``, ``save`` and ``repr``.
``load(path)`` returns the saved type with all its metadata.

Files are NetCDF 3 written by SciPy (``engine="scipy"``): no dependency beyond SciPy, readable by every NetCDF tool.
NetCDF 3 has no booleans nor 64-bit integers, so attrs hold integers as int32 and booleans as 0/1; ``load`` converts
them back through each type's ``_from_dataset``.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

#: The NetCDF backend (SciPy's NetCDF 3 writer and reader).
ENGINE = "scipy"
#: attrs that every saved result carries besides its own.
COMMON = ("rfdsm_type", "rfdsm_version")


def package_version() -> str:
    """The installed version of rfdsm (package metadata), or ``"unknown"`` when it runs from an uninstalled tree."""
    try:
        return version("rfdsm")
    except PackageNotFoundError:
        return "unknown"


@cache
def source_hash(module: str) -> str:
    """The ``Source sha256`` of a generated module (``"generated.activations.tanh"``), read from its header."""
    path = Path(import_module(module).__file__)
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            found = re.match(r"# Source sha256: ([0-9a-f]+)", line)
            if found:
                return found.group(1)
    raise ValueError(f"module: {module} has no 'Source sha256' header line")


def _plain(value):
    """A NetCDF attr as a Python scalar (NumPy scalars and one-element arrays unwrapped)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(())[()]
    return value.item() if isinstance(value, np.generic) else value


class Result:
    """Base of every result dataclass: ``to_xarray``, ``to_dataframe``, ``save``, a short ``repr``; ``load`` inverts
    ``save``. Subclasses name the generated modules they depend on in ``_generated()`` (by default the activation)."""

    _types: dict[str, type] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Result._types[cls.__name__] = cls

    def _generated(self) -> list[str]:
        return [f"generated.activations.{self.activation}"] if hasattr(self, "activation") else []

    def to_xarray(self):
        """An ``xarray.Dataset``: coordinates are the swept parameters, attrs every fixed one, the result's type, the
        package version and ``sha256_<kind>_<name>`` (``sha256_activations_tanh``) for every generated module used."""
        data = self._dataset()
        attrs = {name: int(value) if isinstance(value, bool) else value for name, value in data.attrs.items()}
        attrs |= {"rfdsm_type": type(self).__name__, "rfdsm_version": package_version()}
        attrs |= {"sha256_" + module.removeprefix("generated.").replace(".", "_"): source_hash(module)
                  for module in self._generated()}
        data.attrs = attrs
        return data

    def to_dataframe(self):
        """``to_xarray().to_dataframe()``: one row per point of the coordinates, attrs dropped."""
        return self.to_xarray().to_dataframe()

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write ``to_xarray()`` to the NetCDF file ``path`` and return it; an existing file is an error unless
        ``overwrite``."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"path: {path} exists (pass overwrite=True to replace it)")
        self.to_xarray().to_netcdf(path, engine=ENGINE)
        return path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()})"


def load(path) -> Result:
    """The result saved at ``path`` by ``Result.save``, of the type it was saved as."""
    import xarray as xr

    data = xr.load_dataset(path, engine=ENGINE)
    attrs = {name: _plain(value) for name, value in data.attrs.items()}
    kind = attrs.get("rfdsm_type")
    if kind not in Result._types:
        raise ValueError(f"path: {path} holds no rfdsm result (rfdsm_type = {kind!r})")
    return Result._types[kind]._from_dataset(data, attrs)
