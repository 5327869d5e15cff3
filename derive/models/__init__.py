"""The models: one module per model family, each with builder functions returning a ``Pencil``.

Adding a model is a one-file affair: write ``derive/models/<family>.py`` with functions ``build_*() -> Pencil`` (each
pencil registers at least one ``Pencil.identity`` for the identity check) and list them in ``MODELS`` below;
``python -m derive`` then writes ``generated/models/<pencil name>.py``.
"""

from derive.models import marchenko_pastur, random_features, rfdsm, rfdsm_resolvent, rfdsm_spectrum, ridge

#: Builders of every model pencil; ``python -m derive`` generates one module per pencil.
MODELS = [
    marchenko_pastur.build,
    ridge.build,
    random_features.build,
    rfdsm.build_infinite,
    rfdsm.build_finite,
    rfdsm_spectrum.build_infinite,
    rfdsm_spectrum.build_finite,
    rfdsm_resolvent.build_infinite,
    rfdsm_resolvent.build_finite,
]

#: Two-point functions (derive/models/two_point.py): ``generated/pairs/<pencil name>.py`` each.
PAIRS = rfdsm_resolvent.PAIRS
