"""The registry of custom activations: ``derive/custom_activations.json``, name → specification.

``python -m derive --activation SPEC --name NAME`` records a new activation here once it is certified, and
``python -m derive`` regenerates every entry along with the built-ins, so that generated/ is a function of derive/
alone (derive never reads generated/).
"""

from __future__ import annotations

import json
from pathlib import Path

from derive.emit import DERIVE

REGISTRY = DERIVE / "custom_activations.json"


def recorded(path: Path = REGISTRY) -> dict[str, str]:
    """The recorded custom activations, name → specification (empty if there is no registry file)."""
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def record(name: str, spec: str, path: Path = REGISTRY) -> None:
    """Add ``name → spec`` (sorted by name); ``ValueError`` if ``name`` is recorded with another specification."""
    entries = recorded(path)
    if entries.get(name, spec) != spec:
        raise ValueError(
            f"name: {name!r} is already recorded as {entries[name]!r} in {path}; choose another name, or remove that "
            "entry first"
        )
    entries[name] = spec
    path.write_text(json.dumps(dict(sorted(entries.items())), indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
