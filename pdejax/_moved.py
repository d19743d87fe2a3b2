"""Old module paths of pdejax 0.1.0, kept importable with a :class:`DeprecationWarning`.

0.1.0 had every core module at the top level (``pdejax.etdrk``, ``pdejax.training``, ...). They
now live in the layer sub-packages; ``import pdejax.training`` and ``from pdejax.etdrk import
ETDRK4`` still work and return the new module, with a warning naming it. Names exported by
``pdejax`` itself never moved.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "pdejax.checkpoint": "pdejax.train.checkpoint",
    "pdejax.cli": "pdejax.experiment.cli",
    "pdejax.config": "pdejax.experiment.config",
    "pdejax.datasets": "pdejax.data.datasets",
    "pdejax.etdrk": "pdejax.timestepping.etdrk",
    "pdejax.generate": "pdejax.data.generate",
    "pdejax.interface": "pdejax.core.interface",
    "pdejax.krylov": "pdejax.linalg.krylov",
    "pdejax.metrics": "pdejax.grids.metrics",
    "pdejax.multigrid": "pdejax.linalg.multigrid",
    "pdejax.periodic_grid": "pdejax.grids.periodic",
    "pdejax.problems": "pdejax.data.problems",
    "pdejax.random_fields": "pdejax.grids.random_fields",
    "pdejax.readers": "pdejax.data.readers",
    "pdejax.regularization": "pdejax.neural_ode.regularization",
    "pdejax.regularized_solver": "pdejax.neural_ode.regularized_solver",
    "pdejax.registry": "pdejax.experiment.models",
    "pdejax.report": "pdejax.experiment.report",
    "pdejax.training": "pdejax.train",
    "pdejax.vertex_grid": "pdejax.grids.vertex",
}


def load_moved(old: str):
    new = MOVED[old]
    warnings.warn(
        f"`{old}` moved to `{new}` in pdejax 0.2; import it from there.",
        DeprecationWarning,
        stacklevel=3,
    )
    return importlib.import_module(new)


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return load_moved(spec.name)

    def exec_module(self, module):
        pass


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, _Loader())


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
