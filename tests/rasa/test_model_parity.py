"""Every patch in PATCHES applied to the trained model (the loaded-model steps too: kernel masks
folded, warm-up, GC freeze): the NLU's parse results and the policies' predictions are the
same, number for number, as Rasa's own, also on a second pass (compiled patterns and resumed
states from the second call on), and the traced models no longer write their kernels."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import patches
from bot.patches import PATCHES, base
from bot.patches.fold_kernel_masks import rasa_models, sparse_layers

TEXTS = ["华为Mate60 Pro多少钱", "有没有三千以内的华为手机", "第二个还有货吗", "运费怎么算", "你好呀",
         "对比一下前两个哪个续航好一点", "想给我妈买个手机 预算两千左右", "你答得不对", "转人工"]  # fmt: skip


async def outputs(agent: Agent, texts: list[str] = TEXTS) -> list[Any]:
    """Each text's parse (without its E5 vector) and the policies' next action on it."""
    results = []
    for text in texts:
        parse = await agent.parse_message(text)
        parse.pop("text_embedding", None)  # E5, not a TensorFlow model
        events = [ActionExecuted("action_listen"), UserUttered(text, parse_data=parse)]
        tracker = DialogueStateTracker.from_events("fold", events, slots=agent.domain.slots)
        prediction = agent.processor.predict_next_with_tracker(tracker)
        prediction = {k: v for k, v in prediction.items() if k != "tracker"}  # timestamps
        results.append([parse, prediction])
    return results


def writes_in_traced_graphs(agent: Agent) -> int:
    writes = 0
    for model in rasa_models(agent):
        if model._tf_predict_step is not None:
            graph = model._tf_predict_step.get_concrete_function().graph
            writes += sum(op.type == "AssignVariableOp" for op in graph.get_operations())
    return writes


@pytest.fixture(scope="module")
def agent(model_path) -> Agent:
    return Agent.load(str(model_path))


def test_all_patches_answer_exactly_as_rasa_does(agent):
    before = asyncio.run(outputs(agent))
    writes_before = writes_in_traced_graphs(agent)
    sparse_before = [layer for model in rasa_models(agent) for layer in sparse_layers(model)]

    patches.check_all()
    patches.apply_all()
    assert len(base._replaced) >= 13 and len(base._after_loading) == 3
    # as `load_agent` runs them on the model it loaded: fold, warm up, freeze
    asyncio.run(patches.after_loading(agent))
    after = asyncio.run(outputs(agent))
    again = asyncio.run(outputs(agent))

    assert len(sparse_before) >= 7  # DIET's one transformer layer alone has 7 sparse layers
    assert [model for model in rasa_models(agent) if sparse_layers(model)] == []
    for layer in sparse_before:  # folded: the kernel holds the masked weights
        assert layer.density == 1.0
        assert bool((layer.kernel * layer.kernel_mask == layer.kernel).numpy().all())
    assert writes_before >= 7 and writes_in_traced_graphs(agent) == 0
    assert before == after == again
    assert [b[0]["intent"]["name"] for b in before][:2] == ["ask_attribute", "search_product"]
    assert len(PATCHES) == 15
