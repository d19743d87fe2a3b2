"""Experiment 2: an augmented neural-ODE classifier on a synthetic data set generated
in code (two nested annuli, which no 2-D flow can separate without the extra dimensions),
with and without adaptive-solver regularization.

Points $x \\in \\mathbb R^2$ with class 0 for $|x| < 1$ and class 1 for $1.5 < |x| < 2.5$
(Dupont et al. 2019, "Augmented Neural ODEs"). Model: $h(0) = [x, 0, 0]$, $\\dot h =
\\mathrm{MLP}(h)$ on $[0, 1]$ (:class:`pdejax.MLPDynamics`), logit $= w^T h(1) + b$; Tsit5 with a
PID controller, recursive-checkpoint adjoint, binary cross-entropy. Test error: the
misclassification rate on held-out points. NFE: of the unregularized prediction solve.

Run: ``python experiments/neural_ode_classifier.py [--quick] [--no-write]``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import diffrax  # noqa: E402
import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
from neural_ode_common import (  # noqa: E402
    command,
    report,
    run_sweep,
    sweep_parser,
    sweep_weights,
)

from pdejax import MLPDynamics, NeuralODE  # noqa: E402

AUGMENT = 2
TS = jnp.array([0.0, 1.0])


def make_data(key, num):
    k1, k2, k3 = jr.split(key, 3)
    label = jr.bernoulli(k1, 0.5, (num,))
    r = jnp.where(
        label, jr.uniform(k2, (num,), minval=1.5, maxval=2.5), jr.uniform(k2, (num,), maxval=1.0)
    )
    theta = jr.uniform(k3, (num,), maxval=2 * jnp.pi)
    x = jnp.stack([r * jnp.cos(theta), r * jnp.sin(theta)], axis=-1)
    return x, label.astype(jnp.float32)


class Classifier(eqx.Module):
    node: NeuralODE
    readout: eqx.nn.Linear

    def __call__(self, x, *, regularization=None, key=None):
        h0 = jnp.concatenate([x, jnp.zeros(AUGMENT, x.dtype)])
        sol = self.node(h0, TS, regularization=regularization, key=key)
        return self.readout(sol.us[-1])[0], sol


def main(argv=None):
    parser = sweep_parser(__doc__.split("\n\n")[0])
    args = parser.parse_args(argv)

    quick = args.quick
    num_train, num_test = (64, 64) if quick else (512, 512)
    epochs = args.epochs or (2 if quick else 25)
    batch = 64
    rtol, atol = 1e-4, 1e-6
    width = 16 if quick else 32
    x_train, y_train = make_data(jr.key(0), num_train)
    x_test, y_test = make_data(jr.key(1), num_test)
    k1, k2 = jr.split(jr.key(2))
    dim = 2 + AUGMENT
    model0 = Classifier(
        NeuralODE(
            MLPDynamics(dim, width, 2, key=k1),
            solver=diffrax.Tsit5(),
            rtol=rtol,
            atol=atol,
            max_steps=1024,
        ),  # fmt: skip
        eqx.nn.Linear(dim, 1, key=k2),
    )

    def loss_fn(model, batch, reg, key):
        x, y = batch
        logits, sols = jax.vmap(lambda xi: model(xi, regularization=reg, key=key))(x)
        bce = jnp.mean(jnp.logaddexp(0.0, logits) - y * logits)
        return bce, {"error": jnp.mean(sols.error_estimate),
                     "stiffness": jnp.mean(sols.stiffness_estimate)}  # fmt: skip

    def predict_fn(model, data):
        x, y = data
        logits, sols = jax.vmap(lambda xi: model(xi))(x)
        wrong = ((logits > 0) != (y > 0.5)).astype(jnp.float32)
        return wrong, sols.num_fevals

    if quick:
        weights = {"none": [0.0], "global error": [1e-2], "global stiffness": [1e-2],
                   "local error": [1e-1]}  # fmt: skip
    else:
        weights = {
            "none": [0.0],
            "global error": [1e-1, 5e-1, 2.0],
            "global stiffness": [1e-1, 5e-1, 2.0],
            "local error": [5e-1, 2.0, 5.0],
        }
    weights = sweep_weights(args, weights)
    results = run_sweep(
        weights,
        model=model0,
        loss_fn=loss_fn,
        predict_fn=predict_fn,
        train_data=(x_train, y_train),
        test_data=(x_test, y_test),
        num_epochs=epochs,
        batch_size=batch,
        learning_rate=1e-2,
        key=jr.key(3),
    )
    config = (
        f"Nested annuli (r<1 vs 1.5<r<2.5), {num_train} train / {num_test} test points; "
        f"augmented neural ODE h=[x, 0, 0] on [0, 1], MLPDynamics(4, width {width}, depth 2, "
        f"tanh), linear readout; Tsit5, PID rtol={rtol}, atol={atol}; Adam 1e-2 cosine, "
        f"{epochs} epochs, batch {batch}; float32. Test error: misclassification rate. "
        f"Command: {command('neural_ode_classifier.py', argv)}."
    )
    report("Neural ODE regularization, experiment 2: augmented classifier", config, results,
           quick=quick, write=not args.no_write)  # fmt: skip
    return results


if __name__ == "__main__":
    main()
