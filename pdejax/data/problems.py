"""Named problem definitions: an input sampler and a forward map, callable by name.

A :class:`Problem` is what data generation needs to produce a data set: how to draw one input
(from a PRNG key) and how to map it to the output with a solver, both pure functions of a single
sample so that generation can ``vmap`` them in device-sized chunks. The FNO-paper problems are
registered by the solver modules under names such as ``"fno/burgers"``.

Example:
    >>> import jax.random as jr
    >>> from pdejax.data import Problem, register_problem, make_problem
    >>> @register_problem("doc/identity")
    ... def identity(num_points: int = 8):
    ...     return Problem(
    ...         name="doc/identity",
    ...         sample_input=lambda key: jr.normal(key, (1, num_points)),
    ...         solve=lambda a: 2 * a,
    ...         parameters={"num_points": num_points},
    ...     )
    >>> p = make_problem("doc/identity", num_points=4)
    >>> a = p.sample_input(jr.key(0)); p.solve(a).shape
    (1, 4)
"""

import dataclasses
import importlib
import inspect
import re
from collections.abc import Callable
from typing import Any

from jaxtyping import Array, PRNGKeyArray

_REGISTRY: dict[str, Callable[..., "Problem"]] = {}
# Modules that register problems when imported (the core imports them only here, lazily).
_PROVIDERS = ("pdejax.solvers",)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One PDE data problem.

    Attributes:
        name: registry name, e.g. ``"fno/burgers"``.
        sample_input: ``key -> a``, one input state ``(C_in, *spatial)``.
        solve: ``a -> u``, the output ``(C_out, *spatial)`` or a trajectory ``(T, C, *spatial)``;
            pure and vmappable.
        parameters: JSON-serialisable PDE parameters and generator settings, stored with data.
        reference: where the configuration comes from.
        coordinates: optional 1-d coordinates of each spatial axis of the output, stored with
            the data (``coordinates/axis_0`` ...).
        times: optional output times when ``solve`` returns a trajectory.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> p = Problem("doc/square", sample_input=lambda key: jr.normal(key, (1, 4)),
        ...             solve=lambda a: a**2)
        >>> p.solve(jnp.full((1, 4), 3.0)).sum().item()
        36.0
    """

    name: str
    sample_input: Callable[[PRNGKeyArray], Array]
    solve: Callable[[Array], Array]
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    reference: str = ""
    coordinates: tuple[Any, ...] | None = None
    times: Any = None


def register_problem(name: str):
    """Decorator registering a factory ``(**overrides) -> Problem`` under ``name``.

    Example:
        >>> import jax.numpy as jnp
        >>> @register_problem("doc/zeros")
        ... def zeros(num_points: int = 4):
        ...     return Problem("doc/zeros", lambda key: jnp.zeros((1, num_points)), lambda a: a)
        >>> make_problem("doc/zeros", num_points=3).sample_input(None).shape
        (1, 3)
    """

    def decorator(factory):
        _REGISTRY[name] = factory
        return factory

    return decorator


def _load_providers():
    for module in _PROVIDERS:
        importlib.import_module(module)


def available_problems() -> list[str]:
    """Names of all registered problems.

    Example:
        >>> {"fno/burgers", "fno/darcy", "fno/navier_stokes_1e-3"} <= set(available_problems())
        True
    """
    _load_providers()
    return sorted(_REGISTRY)


def make_problem(name: str, **overrides) -> Problem:
    """Build the problem registered as ``name``; keyword overrides go to its factory
    (e.g. ``num_points=1024`` for a reduced-scale run).

    Example:
        >>> import jax.random as jr
        >>> p = make_problem("fno/burgers", num_points=64)
        >>> a = p.sample_input(jr.key(0))
        >>> a.shape, p.solve(a).shape
        ((1, 64), (1, 64))
    """
    _load_providers()
    if name not in _REGISTRY:
        raise ValueError(
            f"make_problem: unknown problem {name!r}; available: {', '.join(sorted(_REGISTRY))}."
        )
    return _REGISTRY[name](**overrides)


def problem_parameters(name: str) -> dict[str, Any]:
    """``{argument: default}`` of problem ``name``'s factory (what ``make_problem`` accepts).

    Example:
        >>> problem_parameters("fno/burgers")["nu"]
        0.1
    """
    _load_providers()
    if name not in _REGISTRY:
        raise ValueError(f"unknown problem {name!r}; available: {', '.join(sorted(_REGISTRY))}.")
    return {
        p.name: p.default
        for p in inspect.signature(_REGISTRY[name]).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def describe_problem(name: str) -> str:
    """A few lines for ``pdejax problems``: the summary, then each argument with its default
    and meaning (from the factory's ``Args:`` section, where it has one).

    Example:
        >>> print(describe_problem("fno/burgers").splitlines()[0][:40])
        fno/burgers: The FNO-paper Burgers data
    """
    params = problem_parameters(name)
    doc = inspect.getdoc(_REGISTRY[name]) or ""
    summary = " ".join(doc.split("\n\n")[0].split())
    meanings = {}
    if "Args:" in doc:
        block = doc.split("Args:", 1)[1]
        for match in re.finditer(
            r"^\s{4}(\w+(?:, \w+)*):\s*(.+?)(?=^\s{4}\w+(?:, \w+)*:|\Z)", block, re.M | re.S
        ):
            for key in match.group(1).split(", "):
                meanings[key] = " ".join(match.group(2).split())
    lines = [f"{name}: {summary}"]
    for key, default in params.items():
        shown = "required" if default is inspect.Parameter.empty else f"default {default!r}"
        lines.append(f"    {key} ({shown})" + (f": {meanings[key]}" if key in meanings else ""))
    return "\n".join(lines)
