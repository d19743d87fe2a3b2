"""The semilinear PDEs: pdejax against exponax, stepper by stepper, same settings.

Each pair steps the same batch of float32 states ``(C, *spatial)`` (``jax.vmap``) for ``K``
steps inside one jitted ``fori_loop``, one FFT pair per step in both (pdejax's stepper is
``prepare()``-d once, as :func:`pdejax.rollout` does, so its ETDRK coefficients are computed
once like exponax's at construction), calls interleaved (``time_jax_pair``), median of repeats,
compile time apart. Both run ETDRK4 (exponax ``order=4``; its default is 2; for the linear heat
and advection-diffusion exponax applies the exponential alone, pdejax ETDRK4 with
$\\mathcal N = 0$, equally exact) with the same
dealiasing mask (pdejax's ``dealias_fraction`` chosen to keep exactly exponax's modes: exponax
keeps one mode fewer than Orszag's rule). The accuracy column is the max difference of the
final states over the batch, relative to their max.

Known differences, not round-off: exponax's 2-d Kuramoto-Sivashinsky uses
$\\partial_x^4 + \\partial_y^4$ where pdejax uses $\\Delta^2$; exponax's Gray-Scott steps the
linear reaction explicitly (pdejax exactly: the two differ by the schemes' $O(\\Delta t^4)$
errors); exponax 0.2 keeps only the real part of its ETDRK coefficients, so on the complex
(dispersive) KdV symbol its nonlinear update is first order (pdejax's error on a soliton is
round-off level; see ``tests/test_semilinear_pdes.py``).
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from pdejax import PeriodicGrid
from pdejax.solvers import (
    AdvectionDiffusion,
    AllenCahn,
    FisherKPP,
    GrayScott2D,
    Heat,
    KortewegDeVries1D,
    KuramotoSivashinsky1D,
    KuramotoSivashinsky2D,
)

from .harness import Row, time_jax, time_jax_pair

TITLE = "Semilinear PDEs: pdejax vs exponax (ETDRK4, float32, same masks)"


def _fraction(fraction, n):
    """pdejax's ``dealias_fraction`` with exponax's mask for ``fraction``."""
    keep = int(np.floor(fraction * (n // 2) - 1))
    return (2 * keep + 1) / n


def _smooth(grid, batch, channels=1, scale=1.0, offset=0.0, seed=0):
    noise = jr.normal(jr.key(seed), (batch, channels, *grid.num_points), jnp.float32)
    u = grid.ifft(grid.fft(noise) * grid.dealias_mask(0.3))
    return (offset + scale * u / jnp.std(u)).astype(jnp.float32)


def _cases(quick):
    """(name, config, pdejax stepper, exponax stepper factory, initial batch, steps)."""
    import exponax as ex

    b1, b2, n1, n2 = (32, 4, 256, 64) if quick else (256, 32, 1024, 128)
    s = ex.stepper
    g1, g2 = PeriodicGrid(n1, 64.0), PeriodicGrid((n2, n2), 30.0)
    cases = [
        ("KS 1d", f"N={n1}, L=64, dt=0.1", KuramotoSivashinsky1D(g1, 0.1, dealias_fraction=_fraction(2 / 3, n1)),
         lambda: s.KuramotoSivashinskyConservative(1, 64.0, n1, 0.1, order=4), _smooth(g1, b1), 100),
        ("KS 2d", f"{n2}^2, L=30, dt=0.05", KuramotoSivashinsky2D(g2, 0.05, dealias_fraction=_fraction(2 / 3, n2)),
         lambda: s.KuramotoSivashinsky(2, 30.0, n2, 0.05, order=4), _smooth(g2, b2), 20),
    ]  # fmt: skip
    g = PeriodicGrid(n1, 40.0)
    (x,) = g.coordinates()
    shifts = jnp.linspace(0, 40, b1, endpoint=False)
    solitons = (2.0 / jnp.cosh(jnp.mod(x[None] - shifts[:, None], 40.0) - 20.0) ** 2)[:, None]
    cases.append(("KdV", f"N={n1}, L=40, dt=1e-3, soliton c=4",
                  KortewegDeVries1D(g, 1e-3, dealias_fraction=_fraction(2 / 3, n1)),
                  lambda: s.KortewegDeVries(1, 40.0, n1, 1e-3, convection_scale=6.0,
                                            hyper_diffusivity=0.0, order=4),
                  solitons.astype(jnp.float32), 100))  # fmt: skip
    g = PeriodicGrid(n1, 64.0)
    cases.append(("Fisher-KPP", f"N={n1}, L=64, nu=1, r=1, dt=0.05",
                  FisherKPP(g, 1.0, 1.0, 0.05, dealias_fraction=_fraction(2 / 3, n1)),
                  lambda: s.reaction.FisherKPP(1, 64.0, n1, 0.05, diffusivity=1.0, reactivity=1.0, order=4),
                  jax.nn.sigmoid(4 * _smooth(g, b1)), 100))  # fmt: skip
    g = PeriodicGrid((n2, n2), 2 * np.pi)
    cases.append(("Allen-Cahn", f"{n2}^2, L=2pi, eps=0.1, dt=0.05",
                  AllenCahn(g, 0.1, 0.05, dealias_fraction=_fraction(1 / 2, n2)),
                  lambda: s.reaction.AllenCahn(2, 2 * np.pi, n2, 0.05, diffusivity=0.01, order=4),
                  _smooth(g, b2, scale=0.5), 20))  # fmt: skip
    g = PeriodicGrid((n2, n2), 1.0)
    v0 = 0.25 * jax.nn.sigmoid(8 * (_smooth(g, b2) - 1.5))
    cases.append(("Gray-Scott", f"{n2}^2, L=1, F=0.04, k=0.06, dt=1",
                  GrayScott2D(g, 2e-5, 1e-5, 0.04, 0.06, 1.0, dealias_fraction=_fraction(1 / 2, n2)),
                  lambda: s.reaction.GrayScott(2, 1.0, n2, 1.0, diffusivity_1=2e-5, diffusivity_2=1e-5,
                                               feed_rate=0.04, kill_rate=0.06, order=4),
                  jnp.concatenate([1 - 2 * v0, v0], axis=1), 20))  # fmt: skip
    cases.append(("heat", f"{n2}^2, L=1, nu=0.01, dt=0.01", Heat(g, 0.01, 0.01),
                  lambda: s.Diffusion(2, 1.0, n2, 0.01, diffusivity=0.01), _smooth(g, b2), 20))  # fmt: skip
    g = PeriodicGrid(n1, 1.0)
    cases.append(("advection-diffusion", f"N={n1}, L=1, c=1, nu=1e-3, dt=1e-3",
                  AdvectionDiffusion(g, [1.0], 1e-3, 1e-3),
                  lambda: s.AdvectionDiffusion(1, 1.0, n1, 1e-3, velocity=1.0, diffusivity=1e-3),
                  _smooth(g, b1), 100))  # fmt: skip
    return cases


LINEAR = ("heat", "advection-diffusion")  # exponax steps these with ETDRK0 (the exponential)


def _loop(step, k):
    return jax.vmap(lambda u: jax.lax.fori_loop(0, k, lambda _, v: step(v), u))


def run(quick: bool) -> list[Row]:
    repeats = 7 if quick else 11
    try:
        cases = _cases(quick)
    except ImportError:
        grid = PeriodicGrid(256, 64.0)
        ours = _loop(KuramotoSivashinsky1D(grid, 0.1).prepare(), 100)
        t = time_jax(ours, _smooth(grid, 32), repeats=repeats)
        return [Row("KS 1d", "N=256, batch 32", "sample-steps/s", 32 * 100 / t.median_s,
                    peer_name="exponax (not installed)", compile_s=t.compile_s)]  # fmt: skip
    rows = []
    for name, config, model, make_peer, u0, k in cases:
        ours, peer = _loop(model.prepare(), k), _loop(make_peer(), k)
        t_ours, t_peer = time_jax_pair(ours, peer, u0, repeats=repeats)
        a, b = jax.jit(ours)(u0), jax.jit(peer)(u0)
        diff = float(jnp.abs(a - b).max() / jnp.abs(b).max())
        batch = u0.shape[0]
        rows.append(
            Row(
                name,
                f"{config}, batch {batch}, {k} steps per call",
                "sample-steps/s",
                batch * k / t_ours.median_s,
                peer_name="exponax " + ("exact exponential" if name in LINEAR else "ETDRK4"),
                peer=batch * k / t_peer.median_s,
                accuracy=f"max rel. difference {diff:.1e}",
                compile_s=t_ours.compile_s,
                note=f"pdejax {t_ours}; exponax {t_peer}",
            )
        )
    return rows
