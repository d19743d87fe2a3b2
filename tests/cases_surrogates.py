"""Contract-suite factories for the learned operators and wrappers (``pdejax.surrogates``).

Each ``make_x(variant)`` returns ``(model, example_input)`` in float64; variants 0 and 1 differ in
their weights (another PRNG key) and, for the wrappers, in ``dt`` or the solver's ``nu``. Models
are tiny so the whole table runs in seconds.
"""

import jax.numpy as jnp
import jax.random as jr
from flax import nnx
from toys import HeatStepper

from pdejax import PeriodicGrid
from pdejax.surrogates import (
    FNO,
    TFNO,
    Autoregressive,
    Corrected,
    DeepONet,
    FlaxOperator,
    Increment,
    NeuralDynamics,
    SpectralConv,
    UNet,
)


def smooth_input(channels, *spatial, seed=0):
    """A smooth periodic float64 field ``(channels, *spatial)`` (a few low modes)."""
    grid = PeriodicGrid(spatial)
    noise = jr.normal(jr.key(100 + seed), (channels, *spatial), jnp.float64)
    return grid.ifft(grid.fft(noise) * grid.dealias_mask(0.5)) + 0.1


def _small_fno(cin, cout, modes, variant, **kw):
    kw = dict(num_layers=1, projection_width=4) | kw
    return FNO(cin, cout, modes, 4, key=jr.key(10 + variant), **kw)


def make_spectral_conv(variant):
    return SpectralConv(2, 3, (3, 3), key=jr.key(variant)), smooth_input(2, 12, 10)


def make_fno_1d(variant):
    return _small_fno(2, 3, (4,), variant), smooth_input(2, 16)


def make_fno_2d(variant):
    model = _small_fno(1, 2, (3, 3), variant, norm=True, padding=0.25, lifting_width=5)
    return model, smooth_input(1, 12, 12)


def make_tfno(variant):
    model = TFNO(
        1, 2, (3, 3), 6, factorization="tucker", rank=0.3, num_layers=1, projection_width=4,
        key=jr.key(20 + variant),
    )  # fmt: skip
    return model, smooth_input(1, 12, 12)


def make_unet_2d(variant):
    model = UNet(2, 1, 2, width=2, num_levels=1, padding_mode="CIRCULAR", key=jr.key(50 + variant))
    return model, smooth_input(1, 8, 8)


def make_deeponet(variant):
    model = DeepONet(1, 2, (8,), num_basis=4, width=8, depth=1, key=jr.key(60 + variant))
    return model, smooth_input(1, 8)


# The wrappers hold a SpectralConv: cheap to run eagerly, and the wrapper logic is what is tested.
def _conv(cin, cout, modes, variant):
    return SpectralConv(cin, cout, modes, key=jr.key(70 + variant))


def make_autoregressive(variant):
    net = _conv(4, 2, (3,), variant)
    return Autoregressive(net, history=2, dt=0.1 * (1 + variant)), smooth_input(4, 12)


def make_increment(variant):
    return Increment(_conv(2, 2, (3,), variant), dt=0.5 + variant), smooth_input(2, 12)


def make_neural_dynamics(variant):
    return NeuralDynamics(_conv(1, 1, (3, 3), variant)), smooth_input(1, 8, 8)


def make_corrected(variant):
    grid = PeriodicGrid(12)
    solver = HeatStepper(grid, nu=0.01 * (1 + variant), dt=0.1)
    return Corrected(solver, _conv(1, 1, (3,), variant)), smooth_input(1, 12)


def nnx_mlp(cin, cout, hidden, seed):
    """A small NNX MLP acting on the last axis, in float64."""
    rngs = nnx.Rngs(seed)
    kw = dict(param_dtype=jnp.float64, rngs=rngs)
    return nnx.Sequential(nnx.Linear(cin, hidden, **kw), nnx.gelu, nnx.Linear(hidden, cout, **kw))


def make_flax_operator(variant):
    op = FlaxOperator(nnx_mlp(2, 3, 8, seed=variant), in_shape=(2, None))
    return op, smooth_input(2, 10)


SURROGATE_CASES = [
    ("surrogates/SpectralConv", make_spectral_conv),
    ("surrogates/FNO-1D", make_fno_1d),
    ("surrogates/FNO-2D", make_fno_2d),
    ("surrogates/TFNO", make_tfno),
    ("surrogates/UNet", make_unet_2d),
    ("surrogates/DeepONet", make_deeponet),
    ("surrogates/Autoregressive", make_autoregressive),
    ("surrogates/Increment", make_increment),
    ("surrogates/NeuralDynamics", make_neural_dynamics),
    ("surrogates/Corrected", make_corrected),
    ("surrogates/FlaxOperator", make_flax_operator),
]
