"""The deep-learning core shared by the neural-network families (DNN, wide & deep, autoencoder).

Keras 3 on its JAX backend (the ``sqlml[deep]`` extra), imported only when a network is built
or loaded (:mod:`.backend`). A network is described as JSON (:class:`.network.NetworkSpec`) and
its weights are NumPy arrays (:meth:`.network.Network.arrays`): loading rebuilds the layers from
the description and assigns the arrays, so no stored file is ever executed (no pickle, no Keras
archive). :mod:`.training` trains it one epoch per ML.TRAINING_INFO iteration, with BigQuery's
early stop; :mod:`.attribution` explains it with integrated gradients; :mod:`.options` declares
the CREATE MODEL options the families share. The API is summarised in notes/deep_api.md.
"""
