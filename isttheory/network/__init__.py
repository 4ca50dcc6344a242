"""IST on a real two-layer network ``y = W₂ σ(W₁ x)`` (issue 18), against the quadratic theory.

Single-job modules:

* :mod:`~isttheory.network.data`: shipped data sets split over clients (:func:`network_data`);
* :mod:`~isttheory.network.model`: the network, its losses (:class:`TwoLayerNet`, :func:`init_network`);
* :mod:`~isttheory.network.train`: IST as the public IST code runs it, and distributed GD
  (:func:`train_ist`, :func:`train_gd`);
* :mod:`~isttheory.network.bridge`: the exact bridge to the quadratic (12) when only the last layer trains
  (:func:`last_layer_problem`, :func:`compare_iterates`, :func:`compare_exact`);
* :mod:`~isttheory.network.local_model`: the Gauss–Newton local quadratic when both layers train
  (:func:`local_quadratic`, :func:`trained_point`);
* :mod:`~isttheory.network.predict`: predicted and measured plateaus (:func:`predict_plateau`,
  :func:`measure_plateau`);
* :mod:`~isttheory.network.run`: the ``network`` command's experiment (:func:`network_experiment`);
  :mod:`~isttheory.network.figures` its figures.
"""

from __future__ import annotations

from .bridge import (
    ITERATE_RTOL,
    IterateBridge,
    MonteCarloBridge,
    bridge_form,
    compare_exact,
    compare_iterates,
    from_vector,
    last_layer_problem,
    loss_offset,
    to_vector,
)
from .data import TASKS, NetworkData, network_data, split_data
from .local_model import LocalModel, local_quadratic, trained_point
from .model import ACTIVATIONS, LOSSES, TwoLayerNet, init_network, network_loss
from .predict import PlateauPrediction, measure_plateau, predict_plateau
from .train import TRAIN, NetworkRun, neuron_sketch, train_gd, train_ist

__all__ = [
    "ACTIVATIONS", "ITERATE_RTOL", "LOSSES", "TASKS", "TRAIN", "IterateBridge", "LocalModel", "MonteCarloBridge",
    "NetworkData", "NetworkRun", "PlateauPrediction", "local_quadratic", "measure_plateau", "predict_plateau",
    "trained_point", "TwoLayerNet", "bridge_form", "compare_exact", "compare_iterates", "from_vector", "init_network",
    "last_layer_problem", "loss_offset", "network_data", "network_loss", "neuron_sketch", "split_data", "to_vector",
    "train_gd", "train_ist",
]
