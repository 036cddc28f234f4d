"""sqlml.ml.deep on its own: an activity penalty on one hidden layer shrinks that layer's outputs
(what an autoencoder's l1_reg_activation asks of its latent layer), and a network with one
survives its JSON description and arrays."""

from __future__ import annotations

import numpy as np

from sqlml.ml.deep.network import Network, NetworkSpec
from sqlml.ml.deep.training import TrainPlan, train
from sqlml.ml.models.estimator import Dataset, Monitor


def test_an_activity_penalty_shrinks_its_layers_outputs():
    X = np.random.default_rng(0).normal(size=(400, 6))
    latent = {}
    for l1 in (0.0, 1.0):
        network = Network(NetworkSpec(6, [8, 2, 8], 6, "TANH", seed=1, activity_l1=l1, activity_layer=1))
        train(network, TrainPlan("mse", {"dnn": ("ADAM", 0.01)}, 32, 4), Dataset(X, X), None, Monitor("activity", 4))
        latent[l1] = np.abs(network.layer_output(X, "activation_1")).sum(axis=1).mean()
        again = Network.from_arrays(NetworkSpec.from_description(network.spec.describe()), network.arrays())
        np.testing.assert_array_equal(again.predict(X[:5]), network.predict(X[:5]))
    assert latent[1.0] < 0.5 * latent[0.0]
