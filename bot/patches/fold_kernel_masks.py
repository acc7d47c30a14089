"""Sparse transformer weights are masked once after loading, not on every call.

Rasa's `RandomlyConnectedDense` writes `kernel * mask` back into the kernel each time it runs (a
multiply and a variable write per layer, 7 in the shop's DIET transformer); the kernel is masked
after the first call, so every later write stores the same values. Folded, the layers run as
plain dense layers on the same weights and give identical outputs: every sparse layer's kernel
is masked once, its density set to 1.0 (which `call` checks while tracing: no more mask and
write), and the model is traced again at its next call. This runs on the loaded model before
the warm-up, so the warm-up traces the folded layers; a failure is logged and the model
answers as Rasa loaded it.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.patches import base

NAME = "fold_kernel_masks"
logger = logging.getLogger(__name__)
_LAYER = "rasa.utils.tensorflow.layers:RandomlyConnectedDense"
EXPECTED = (
    *base.LOAD_AGENT,
    # agent.processor.graph_runner._instantiated_nodes[...]._component.model
    base.Contains("rasa.core.agent:Agent.load_model", snippets=("self.processor = ",)),
    base.Contains(
        "rasa.core.processor:MessageProcessor.__init__", snippets=("self.graph_runner = ",)
    ),
    base.Contains(
        "rasa.engine.runner.dask:DaskGraphRunner.__init__", snippets=("self._instantiated_nodes",)
    ),
    base.Contains("rasa.engine.graph:GraphNode.__init__", snippets=("self._component",)),
    base.Exists("rasa.utils.tensorflow.models:RasaModel._flatten_layers"),
    # the traced prediction, made again when set to None
    base.Contains(
        "rasa.utils.tensorflow.models:RasaModel._rasa_predict",
        snippets=(
            "if self._tf_predict_step is None:",
            "self._tf_predict_step = tf.function(",
        ),
    ),
    base.Contains(
        f"{_LAYER}.call",
        snippets=(
            "if self.density < 1.0:",
            "self.kernel.assign(self.kernel * self.kernel_mask)",
        ),
    ),
    base.Contains(
        f"{_LAYER}.build",
        snippets=("super().build(input_shape)", "self.kernel_mask = tf.Variable("),
    ),
    base.Contains(
        "keras.layers.core.dense:Dense.build", snippets=("self.kernel = self.add_weight(",)
    ),
)


def check() -> None:
    base.check(NAME, EXPECTED)
    check_layer_attributes()


def check_layer_attributes() -> None:
    """A sparse layer has the attributes the fold reads and writes: `density` once made, and
    `kernel` (Keras' Dense) and `kernel_mask` once built (EXPECTED reads where `build` sets
    them). Not built here: a variable would start TensorFlow's runtime, after which Rasa can no
    longer set its thread pools (TF_INTER_OP_PARALLELISM_THREADS, which the launcher sets), and
    a layer built in a graph of its own invalidates the Keras layers already made."""
    layer_class = base.lookup(_LAYER)
    try:
        layer = layer_class(units=3, density=0.5)
    except Exception as error:
        raise base.PatchMismatch(
            NAME, "RandomlyConnectedDense(units=3, density=0.5) to be made", repr(error)
        ) from error
    if vars(layer).get("density") != 0.5:
        raise base.PatchMismatch(
            NAME,
            "RandomlyConnectedDense(density=0.5) to have 'density' 0.5",
            repr(vars(layer).get("density", "no such attribute")),
        )
    import tensorflow as tf

    if not issubclass(layer_class, tf.keras.layers.Dense):
        raise base.PatchMismatch(NAME, "RandomlyConnectedDense to be a Keras Dense layer")


def apply() -> None:
    base.run_after_loading(apply_to_agent)


def apply_to_agent(agent: Any) -> None:
    if not base.is_ready(agent):
        return
    try:
        fold_kernel_masks(agent)
    except Exception:  # the model as Rasa loaded it still answers correctly
        logger.exception("could not fold the kernel masks")


def sparse_layers(model: Any) -> list[Any]:
    from rasa.utils.tensorflow.layers import RandomlyConnectedDense

    return [
        layer
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, RandomlyConnectedDense) and layer.density < 1.0
    ]


def rasa_models(agent: Any) -> list[Any]:
    """The TensorFlow models of the agent's graph components (DIET, the selector, TED)."""
    from rasa.utils.tensorflow.models import RasaModel

    models = []
    for node in agent.processor.graph_runner._instantiated_nodes.values():
        model = getattr(node._component, "model", None)  # most components have none
        if isinstance(model, RasaModel):
            models.append(model)
    return models


def fold_kernel_masks(agent: Any) -> int:
    """Masks every sparse layer's kernel once and makes the layer a plain dense one; the models
    are traced again at their next call. Returns how many layers were folded."""
    folded = 0
    for model in rasa_models(agent):
        layers = sparse_layers(model)
        for layer in layers:
            layer.kernel.assign(layer.kernel * layer.kernel_mask)
            layer.density = 1.0  # `call` checks it while tracing: no more mask and write
        if layers:
            model._tf_predict_step = None  # Rasa traces it again on the next prediction
        folded += len(layers)
    return folded
