"""Experiment 1 (issue 8): a neural ODE fit to the cubic spiral, with and without
adaptive-solver regularization.

True system (Chen et al. 2018; DiffEqFlux's standard example): $\\dot y = A y^3$ (cube taken
componentwise), $A = [[-0.1, 2], [-2, -0.1]]$. Training data: trajectories from initial
conditions on an annulus, saved at ``num_times`` times on $[0, T]$; test data: other initial
conditions. Model: :class:`pdejax.MLPDynamics` (tanh MLP), Tsit5 with a PID controller,
recursive-checkpoint adjoint. Loss: mean squared error over the trajectory. Test error: mean
relative L2 error of the whole predicted trajectory. NFE: vector-field evaluations of the
prediction solve (no regularization at prediction), averaged over the test set.

Run: ``python experiments/neural_ode_spiral.py [--quick] [--no-write]``.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diffrax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
from neural_ode_common import report, run_sweep  # noqa: E402

from pdejax import AbstractDynamics, MLPDynamics, NeuralODE, integrate  # noqa: E402

A = jnp.array([[-0.1, 2.0], [-2.0, -0.1]])


def true_field(t, y, args):
    return A @ y**3


class CubeFeatures(AbstractDynamics):
    """$\\dot y = \\mathrm{MLP}(y^3)$: the usual neural-ODE model of this system (the cube is
    the known feature; the MLP must learn the linear map and nothing else)."""

    inner: MLPDynamics

    @property
    def state_shape(self):
        return self.inner.state_shape

    def vector_field(self, t, u, args):
        return self.inner(t, u**3, args)


def make_data(key, num, ts):
    k1, k2 = jr.split(key)
    r = jr.uniform(k1, (num,), minval=0.5, maxval=1.5)
    theta = jr.uniform(k2, (num,), minval=0.0, maxval=2 * jnp.pi)
    y0 = jnp.stack([r * jnp.cos(theta), r * jnp.sin(theta)], axis=-1)
    solve = jax.vmap(
        lambda y: (
            integrate(
                true_field,
                y,
                ts,
                stepsize_controller=diffrax.PIDController(rtol=1e-7, atol=1e-9),
            ).us
        )
    )
    return y0, jax.jit(solve)(y0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--no-write", action="store_true", help="do not append RESULTS.md")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--only", nargs="*", default=None, help="regularizer names to run")
    args = parser.parse_args(argv)

    quick = args.quick
    t_end, num_times = 1.5, 16
    num_train, num_test = (16, 8) if quick else (64, 64)
    epochs = args.epochs or (3 if quick else 150)
    batch = 16
    rtol, atol = 1e-5, 1e-6
    width = 16 if quick else 50
    ts = jnp.linspace(0.0, t_end, num_times)
    y0_train, y_train = make_data(jr.key(0), num_train, ts)
    y0_test, y_test = make_data(jr.key(1), num_test, ts)

    model0 = NeuralODE(
        CubeFeatures(MLPDynamics(2, width, 1, key=jr.key(2))),
        solver=diffrax.Tsit5(),
        rtol=rtol,
        atol=atol,
        max_steps=2048,
    )

    def loss_fn(model, batch, reg, key):
        y0, ys = batch
        sols = jax.vmap(lambda y: model(y, ts, regularization=reg, key=key))(y0)
        data = jnp.mean((sols.us - ys) ** 2)
        return data, {"error": jnp.mean(sols.error_estimate),
                      "stiffness": jnp.mean(sols.stiffness_estimate)}  # fmt: skip

    def predict_fn(model, data):
        y0, ys = data
        sols = jax.vmap(lambda y: model(y, ts))(y0)
        err = jnp.linalg.norm((sols.us - ys).reshape(len(y0), -1), axis=1) / jnp.linalg.norm(
            ys.reshape(len(y0), -1), axis=1
        )
        return err, sols.num_fevals

    if quick:
        weights = {"none": [0.0], "global error": [1e-2], "global stiffness": [1e-2],
                   "local error": [1e-1]}  # fmt: skip
    else:
        weights = {
            "none": [0.0],
            "global error": [1e-3, 1e-2, 1e-1],
            "global stiffness": [1e-3, 1e-2, 1e-1],
            "local error": [1e-2, 1e-1, 1.0],
        }
    if args.only:
        weights = {k: v for k, v in weights.items() if k == "none" or k.split()[-1] in args.only
                   or k in args.only}  # fmt: skip
    true_nfe = jax.jit(
        jax.vmap(
            lambda y: (
                integrate(
                    true_field,
                    y,
                    ts,
                    stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
                ).num_fevals
            )
        )
    )(y0_test)
    print(f"  true system: mean NFE {float(jnp.mean(true_nfe)):.1f} at the same tolerances")
    results = run_sweep(
        weights,
        model=model0,
        loss_fn=loss_fn,
        predict_fn=predict_fn,
        train_data=(y0_train, y_train),
        test_data=(y0_test, y_test),
        num_epochs=epochs,
        batch_size=batch,
        learning_rate=3e-3,
        key=jr.key(3),
    )
    config = (
        f"Spiral $\\dot y = A y^3$ on [0, {t_end}], {num_times} save times, {num_train} train / "
        f"{num_test} test initial conditions (r in [0.5, 1.5]); model "
        f"dy/dt = MLP(y^3), MLP width {width}, one hidden tanh layer; Tsit5, PID rtol={rtol}, atol={atol}; Adam 3e-3 "
        f"cosine, {epochs} epochs, batch {batch}; float32. Test error: mean relative L2 of the "
        f"trajectory. The true system itself costs {float(jnp.mean(true_nfe)):.1f} NFE per "
        "test solve at these tolerances. Command: `python experiments/neural_ode_spiral.py"
        f"{' --quick' if quick else ''}`."
    )
    report("Neural ODE regularization, experiment 1: spiral", config, results, quick=quick,
           write=not args.no_write)  # fmt: skip
    return results


if __name__ == "__main__":
    main()
