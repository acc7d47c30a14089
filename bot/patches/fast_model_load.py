"""A trained model is built for serving by one forward pass, not by a training step.

Rasa's `RasaModel.load` makes the Keras model's variables by training it for one step on one
example (`model.fit`), then overwrites them with the saved weights. The step traces the whole
training graph: the loss, its gradients through the CRF's loops, and Adam's update. That was
about 40 of the 56 s Rasa took to start here with the shop's model (DIET and the response
selector; profiled with cProfile), for variables a forward pass creates as well. When the model
is loaded to serve (not `finetune_mode`), the loss is computed once, eagerly and without a
gradient, which creates every layer's variables; the saved weights are then restored into them
(`expect_partial`: the checkpoint also holds Adam's slots, which serving never reads). A model
fine-tuned later still gets Rasa's own load.

tests/rasa/test_fast_model_load.py loads the test model both ways and compares every intent
ranking, entity and response selection on the held-out examples.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.patches import base

NAME = "fast_model_load"
logger = logging.getLogger(__name__)
_LOAD = "rasa.utils.tensorflow.models:RasaModel.load"
EXPECTED = (
    # re-implemented below for serving; Rasa's own body for fine-tuning
    base.Source(_LOAD, digest="cd8b1adc98f833d3"),
    base.Signature(
        "rasa.utils.tensorflow.models:RasaModel.batch_loss", signature="(self, batch_in)"
    ),
    base.Contains(
        "rasa.utils.tensorflow.models:RasaModel.train_step",
        snippets=("self._training = True", "prediction_loss = self.batch_loss(batch_in)"),
    ),
    base.Contains(
        "rasa.utils.tensorflow.models:RasaModel.run_inference", snippets=("def run_inference",)
    ),
    base.Contains(
        "rasa.utils.tensorflow.data_generator:RasaBatchDataGenerator.__getitem__",
        snippets=("return self.prepare_batch(",),
    ),
)


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    base.replace(RasaModel, "load", classmethod(_load))


def _load(
    cls: Any,
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """`RasaModel.load`, building the variables with a forward pass when serving."""
    from rasa.utils.tensorflow.models import RasaModel

    if finetune_mode:  # Adam's state is needed: Rasa's own load
        rasa_load = base.original(RasaModel, "load").__func__
        return rasa_load(
            cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
            *args, **kwargs,
        )  # fmt: skip
    model = cls(*args, **kwargs)
    _build_variables(model, model_data_example)
    model.load_weights(model_file_name).expect_partial()
    if predict_data_example:  # traced now, not in the first shopper's turn (as Rasa does)
        model.run_inference(predict_data_example)
    logger.debug("built %s for serving by a forward pass", cls.__name__)
    return model


def _build_variables(model: Any, model_data_example: Any) -> None:
    """The loss of one example, computed eagerly: every layer the training step calls is called
    and so builds its variables, with no gradient, no optimizer and no tracing."""
    import tensorflow as tf
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    batch, _ = RasaBatchDataGenerator(model_data_example, batch_size=1, shuffle=False)[0]
    batch = tuple(None if value is None else tf.convert_to_tensor(value) for value in batch)
    model._training = True  # as train_step sets it: the layers of the training branch too
    try:
        model.batch_loss(batch)
    finally:
        model._training = None
