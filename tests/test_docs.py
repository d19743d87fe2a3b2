"""Every docstring example in the package runs and prints what it says (doctest)."""

import doctest
import importlib
import pkgutil

import pytest

import pdejax


def _modules():
    names = []
    for info in pkgutil.walk_packages(pdejax.__path__, prefix="pdejax."):
        names.append(info.name)
    for sub in ("pdejax.solvers", "pdejax.surrogates"):
        package = importlib.import_module(sub)
        names.append(sub)
        names += [f"{sub}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    return sorted(set(names) - {"pdejax.__main__"})


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} doc examples failed in {name}"
    )
