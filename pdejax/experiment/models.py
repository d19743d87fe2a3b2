"""Models buildable by name from a configuration (the experiment registry).

A checkpoint stores ``{"name": ..., "kwargs": ...}``; :func:`build_model` turns that back into
the module (with fresh weights that the checkpoint then overwrites). Activation functions are
given by name (``"gelu"``, ``"relu"``, ``"tanh"``, ``"silu"``). This is one of the few places
where the core imports :mod:`pdejax.surrogates`.
"""

from collections.abc import Callable

import jax
import jax.random as jr

ACTIVATIONS: dict[str, Callable] = {
    "gelu": lambda x: jax.nn.gelu(x, approximate=False),
    "gelu_tanh": jax.nn.gelu,
    "relu": jax.nn.relu,
    "tanh": jax.numpy.tanh,
    "silu": jax.nn.silu,
}


def _models() -> dict[str, Callable]:
    from .. import surrogates

    names = ["FNO", "TFNO", "UNet", "DeepONet"]
    table = {n: getattr(surrogates, n) for n in names if hasattr(surrogates, n)}
    for n in ("fno_burgers_1d", "fno_darcy_2d", "fno_navier_stokes_2d", "fno_navier_stokes_3d"):
        if hasattr(surrogates, n):
            table[n] = getattr(surrogates, n)
    return table


def available_models() -> list[str]:
    """The names :func:`build_model` accepts (``model.name`` of a configuration), sorted.

    Example:
        >>> names = available_models()
        >>> {"FNO", "TFNO", "UNet", "DeepONet", "fno_burgers_1d"} <= set(names), names == sorted(names)
        (True, True)
    """
    return sorted(_models())


def build_model(name: str, kwargs: dict, *, seed: int = 0):
    """Construct registered model ``name`` with ``kwargs`` and ``key=jax.random.key(seed)``.

    Example (lists become tuples, activations are named; the same seed gives the same weights):
        >>> import jax.numpy as jnp
        >>> kwargs = {"in_channels": 1, "out_channels": 2, "modes": [4], "width": 8, "activation": "relu"}
        >>> net, u = build_model("FNO", kwargs, seed=1), jnp.ones((1, 16))
        >>> net(u).shape, bool(jnp.all(net(u) == build_model("FNO", kwargs, seed=1)(u)))
        ((2, 16), True)
        >>> build_model("FNO", dict(kwargs, activation="swish"))
        Traceback (most recent call last):
        ValueError: build_model: unknown activation 'swish'; use ['gelu', 'gelu_tanh', 'relu', 'silu', 'tanh'].
    """
    table = _models()
    if name not in table:
        raise ValueError(
            f"build_model: unknown model {name!r}; available: {', '.join(sorted(table))}."
        )
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("activation"), str):
        act = kwargs["activation"]
        if act not in ACTIVATIONS:
            raise ValueError(f"build_model: unknown activation {act!r}; use {sorted(ACTIVATIONS)}.")
        kwargs["activation"] = ACTIVATIONS[act]
    for k in ("modes", "padding"):
        if isinstance(kwargs.get(k), list):
            kwargs[k] = tuple(kwargs[k])
    try:
        return table[name](**kwargs, key=jr.key(seed))
    except TypeError as err:
        raise ValueError(f"build_model: bad arguments for {name}: {err}") from err
