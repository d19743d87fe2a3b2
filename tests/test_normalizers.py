"""Normalizers: exact round trips, streaming fits equal one-shot fits, storage round trips,
strided resolutions, gradients only through the net, and a normalized run reloaded from its
checkpoint predicting exactly what it predicted when it finished."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdejax.data.normalizers import (
    ChannelGaussian,
    MinMax,
    Normalized,
    PointwiseGaussian,
    fit_normalizer,
    load_normalizers,
    save_normalizers,
)
from pdejax.experiment import from_dict, load_run, run_experiment

KINDS = ["pointwise", "per_channel", "minmax"]


def _data(shape=(40, 2, 9, 7), seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(5.0, 3.0, shape) * np.arange(1, shape[1] + 1).reshape(1, -1, 1, 1)


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_and_streaming_fit(kind):
    x = _data()
    whole = fit_normalizer(kind, [x])
    streamed = fit_normalizer(kind, [x[i : i + 7] for i in range(0, len(x), 7)])
    for a, b in zip(whole.arrays().values(), streamed.arrays().values()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    sample = jnp.asarray(x[3])
    np.testing.assert_allclose(whole.decode(whole.encode(sample)), sample, rtol=1e-12)
    encoded = np.stack([np.asarray(whole.encode(jnp.asarray(s))) for s in x])
    if kind == "pointwise":  # zero mean and unit deviation at every point and channel
        np.testing.assert_allclose(encoded.mean(0), 0, atol=1e-10)
        np.testing.assert_allclose(encoded.std(0), 1, atol=1e-5)
    elif kind == "per_channel":
        np.testing.assert_allclose(encoded.mean((0, 2, 3)), 0, atol=1e-10)
        np.testing.assert_allclose(encoded.std((0, 2, 3)), 1, atol=1e-5)
    else:
        np.testing.assert_allclose(encoded.min((0, 2, 3)), 0, atol=1e-12)
        np.testing.assert_allclose(encoded.max((0, 2, 3)), 1, atol=1e-12)


def test_pointwise_statistics_follow_the_data_to_strided_resolutions():
    x = _data((30, 1, 21, 21))  # a vertex grid: 21 -> 11 -> 6 keeps both ends
    norm = fit_normalizer("pointwise", [x])
    coarse = fit_normalizer("pointwise", [x[..., ::4, ::4]])
    sample = jnp.asarray(x[0, :, ::4, ::4])
    np.testing.assert_allclose(norm.encode(sample), coarse.encode(sample), rtol=1e-12)
    with pytest.raises(ValueError, match="cannot be matched"):
        norm.encode(jnp.zeros((1, 8, 8)))


@pytest.mark.parametrize("kind", KINDS)
def test_storage_round_trip_is_exact(tmp_path, kind):
    fitted = {"inputs": fit_normalizer(kind, [_data()]), "outputs": None}
    save_normalizers(tmp_path / "n.h5", fitted)
    loaded = load_normalizers(tmp_path / "n.h5")
    assert loaded["outputs"] is None
    assert type(loaded["inputs"]) is {"pointwise": PointwiseGaussian, "per_channel": ChannelGaussian, "minmax": MinMax}[kind]  # fmt: skip
    for a, b in zip(fitted["inputs"].arrays().values(), loaded["inputs"].arrays().values()):
        np.testing.assert_array_equal(a, b)
    assert load_normalizers(tmp_path / "missing.h5") == {"inputs": None, "outputs": None}
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="damaged"):
        load_normalizers(tmp_path / "bad.h5")


def test_gradients_reach_the_net_and_not_the_statistics():
    norm = fit_normalizer("pointwise", [_data((20, 1, 8, 8))])

    def loss(weight, stats):
        op = Normalized(lambda a: weight * a, stats, stats)
        return jnp.sum(op(jnp.ones((1, 8, 8))) ** 2)

    g_weight = jax.grad(loss)(jnp.asarray(2.0), norm)
    assert np.isfinite(float(g_weight)) and float(g_weight) != 0.0
    # the decoded output is affine in the net's output: its gradient is the scale (std + eps)
    g_stats = jax.grad(lambda w: jnp.sum(Normalized(lambda a: w * a, None, norm)(jnp.ones((1, 8, 8)))))(jnp.asarray(1.0))  # fmt: skip
    np.testing.assert_allclose(float(g_stats), float(jnp.sum(norm.std + norm.eps)), rtol=1e-12)


def test_normalized_run_reloads_and_predicts_what_it_evaluated(tmp_path):
    config = from_dict({
        "name": "norm", "run_dir": str(tmp_path / "run"),
        "data": {"problem": "fno/burgers", "problem_args": {"num_points": 32, "num_steps": 10},
                 "num_train": 8, "num_test": 4, "data_dir": str(tmp_path / "data"),
                 "input_normalizer": "pointwise", "output_normalizer": "per_channel"},
        "model": {"name": "FNO", "kwargs": {"in_channels": 1, "out_channels": 1, "modes": [4],
                                            "width": 4, "num_layers": 1}},
        "train": {"num_epochs": 2, "batch_size": 4},
        "eval": {"num_plot_samples": 0},
    })  # fmt: skip
    results = run_experiment(config, progress=False)
    assert (tmp_path / "run" / "normalizers.h5").exists()
    _, predict = load_run(tmp_path / "run")
    assert isinstance(predict, Normalized)
    from pdejax.experiment import open_run_data

    data = open_run_data(config, progress=False)
    a, u = data.test.read(np.arange(4))
    data.close()
    pred = jax.vmap(predict)(jnp.asarray(a))
    err = jnp.mean(jnp.linalg.norm((pred - u).reshape(4, -1), axis=1) / jnp.linalg.norm(u.reshape(4, -1), axis=1))  # fmt: skip
    assert float(err) == pytest.approx(results["test_rel_l2@32"], rel=1e-5)
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["normalizers"] == {"inputs": "pointwise", "outputs": "per_channel"}
