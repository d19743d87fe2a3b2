"""pdejax.grids.fft on one device is jnp.fft (bit-identical, the same compiled program); batch
sharding passes through without communication; the HLO helpers read collectives. The spatially
sharded transforms are tested on 8 devices in ``tests/sharded/`` (see ``test_sharded.py``)."""

import jax
import jax.numpy as jnp
import jaxtyping
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P
from sharded.sharded_helpers import ref_forward_modes, ref_inverse_modes

from pdejax.grids import fft
from pdejax.grids.hlo import (
    all_gathers,
    collective_bytes,
    collective_counts,
    collectives,
    field_sized_all_gathers,
)

rng = np.random.default_rng(0)
UNSHARDED = [(5,), (2, 8), (2, 7), (1, 6, 9), (2, 4, 5, 6)]


@pytest.mark.parametrize("shape", UNSHARDED)
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_unsharded_identical_to_jnp_fft(shape, norm):
    d = min(len(shape), 3)
    axes = tuple(range(len(shape) - d, len(shape)))
    u = jnp.asarray(rng.standard_normal(shape))
    z = jnp.asarray(u + 1j * rng.standard_normal(shape))
    uh = jnp.fft.rfftn(u, axes=axes, norm=norm)
    pairs = [
        (fft.rfftn(u, d, norm=norm), uh),
        (fft.irfftn(uh, shape[-d:], norm=norm),
         jnp.fft.irfftn(uh, s=shape[-d:], axes=axes, norm=norm)),
        (fft.fftn(z, d, norm=norm), jnp.fft.fftn(z, axes=axes, norm=norm)),
        (fft.ifftn(z, d, norm=norm), jnp.fft.ifftn(z, axes=axes, norm=norm)),
        (jax.jit(lambda u: fft.rfftn(u, d, norm=norm))(u), uh),
    ]  # fmt: skip
    for ours, ref in pairs:
        assert ours.dtype == ref.dtype and ours.shape == ref.shape
        np.testing.assert_array_equal(ours, ref)  # bit-identical: the same operations


def test_unsharded_program_is_the_jnp_program():
    u = jnp.asarray(rng.standard_normal((2, 8, 6)))

    def ours(u):
        return fft.irfftn(fft.rfftn(u, 2, norm="ortho"), (8, 6), norm="ortho")

    def ref(u):
        return jnp.fft.irfftn(jnp.fft.rfftn(u, axes=(1, 2), norm="ortho"), s=(8, 6), axes=(1, 2),
                              norm="ortho")  # fmt: skip

    text = jax.jit(ours).lower(u).compile().as_text()
    ref_text = jax.jit(ref).lower(u).compile().as_text()
    assert "custom-call" not in text
    for op in (" fft(", " multiply(", " all-"):
        assert text.count(op) == ref_text.count(op), op


@pytest.mark.parametrize("shape", [(2, 8, 6), (1, 5, 4, 7)])
def test_modes_unsharded_identical_to_the_historical_program(shape):
    modes = (2, 3) if len(shape) == 3 else (2, 1, 3)
    u = jnp.asarray(rng.standard_normal(shape))
    x = fft.rfftn_modes(u, modes)
    np.testing.assert_array_equal(x, ref_forward_modes(u, modes))
    np.testing.assert_array_equal(
        fft.irfftn_modes(x, modes, shape[1:]), ref_inverse_modes(x, modes, shape[1:])
    )


def test_batch_sharding_needs_no_communication():
    mesh = Mesh(np.array(jax.devices()[:4]), ("batch",))
    u0 = rng.standard_normal((8, 6, 5))
    u = jax.device_put(u0, NamedSharding(mesh, P("batch")))

    def f(u):
        return fft.irfftn(fft.rfftn(u, 2), (6, 5))

    np.testing.assert_allclose(jax.jit(f)(u), u0, rtol=1e-12, atol=1e-12)
    assert not collectives(jax.jit(f).lower(u).compile().as_text())
    replicated = jax.device_put(u0, NamedSharding(mesh, P()))
    np.testing.assert_array_equal(jax.jit(lambda u: fft.rfftn(u, 2))(replicated),
                                  jnp.fft.rfftn(u0, axes=(1, 2)))  # fmt: skip


def test_input_validation():
    u = jnp.ones((2, 8, 6))
    with pytest.raises(ValueError, match="ndim"):
        fft.rfftn(u, 4)
    with pytest.raises(ValueError, match="norm"):
        fft.fftn(u, 2, norm="bogus")
    with pytest.raises((TypeError, jaxtyping.TypeCheckError)):  # annotation or our own check
        fft.rfftn(u + 1j, 2)
    with pytest.raises(ValueError, match="does not end in"):
        fft.irfftn(jnp.ones((2, 8, 6), complex), (8, 6))
    with pytest.raises(ValueError, match="do not fit"):
        fft.rfftn_modes(u, (5, 2))


def test_hlo_helpers_parse():
    text = """
  %all-gather.1 = f32[8,64]{1,0} all-gather(f32[1,64]{1,0} %p), dimensions={0}
  %a2a = c64[1,4,34]{2,1,0} all-to-all(c64[1,4,34]{2,1,0} %x), dimensions={1}
  ROOT %t = (c64[2,3]{1,0}, c64[2,3]{1,0}) all-to-all(c64[2,3]{1,0} %a, c64[2,3]{1,0} %b)
  %ags = (f32[1,4]{1,0}, f32[8,4]{1,0}) all-gather-start(f32[1,4]{1,0} %q), dimensions={0}
  %agd = f32[8,4]{1,0} all-gather-done(%ags)
  %ar = f64[] all-reduce(f64[] %s), to_apply=%add
"""
    assert collective_counts(text) == {"all-gather": 2, "all-to-all": 2, "all-reduce": 1}
    assert collective_bytes(text) == {
        "all-gather": 8 * 64 * 4 + 8 * 4 * 4,
        "all-to-all": 4 * 34 * 8 + 2 * 6 * 8,
        "all-reduce": 8,
    }
    assert all_gathers(text)[0] == ([("f32", (8, 64))], 2048)
    assert len(field_sized_all_gathers(text, 2048)) == 1
