"""bot/serve.py's fixes on the trained model: with the kernel masks folded, the regex patterns
kept compiled, the cached empty-domain check, the resumed dialogue states and the graphs run in
order without dask, the NLU's parse results and the policies' predictions are the same, number
for number, as Rasa's own, and the traced models no longer write their kernels on every call."""

from __future__ import annotations

from daogou.botprep import model_path
from daogou.settings import load_settings
from tests.e2e.rasa_script import run_rasa_script

CHECK = r"""
import asyncio, json, logging, sys
import rasa.utils.log_utils as log_utils
log_utils.configure_structlog(logging.WARNING)
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.tensorflow.models import RasaModel
import bot.serve as serve
from bot.past_states import resumed_past_states
from bot.serve import fold_kernel_masks

TEXTS = ["华为Mate60 Pro多少钱", "有没有三千以内的华为手机", "第二个还有货吗", "运费怎么算", "你好呀",
         "对比一下前两个哪个续航好一点", "想给我妈买个手机 预算两千左右", "你答得不对", "转人工"]

async def outputs(agent):
    results = []
    for text in TEXTS:
        parse = await agent.parse_message(text)
        parse.pop("text_embedding", None)  # E5, not a TensorFlow model
        events = [ActionExecuted("action_listen"), UserUttered(text, parse_data=parse)]
        tracker = DialogueStateTracker.from_events("fold", events, slots=agent.domain.slots)
        prediction = agent.processor.predict_next_with_tracker(tracker)
        prediction = {k: v for k, v in prediction.items() if k != "tracker"}  # timestamps
        results.append([parse, prediction])
    return results

def writes_in_traced_graphs(agent):
    writes = 0
    for node in agent.processor.graph_runner._instantiated_nodes.values():
        model = getattr(getattr(node, "_component", None), "model", None)
        if isinstance(model, RasaModel) and model._tf_predict_step is not None:
            graph = model._tf_predict_step.get_concrete_function().graph
            writes += sum(op.type == "AssignVariableOp" for op in graph.get_operations())
    return writes

agent = Agent.load(sys.argv[1])
before = asyncio.run(outputs(agent))
writes_before = writes_in_traced_graphs(agent)
folded = fold_kernel_masks(agent)
# the other fixes that touch what the NLU and the policies compute
serve.keep_regex_patterns_compiled()
from rasa.shared.core.domain import Domain
Domain.is_empty = serve.domain_is_empty
DialogueStateTracker.past_states = resumed_past_states
from rasa.engine.runner.dask import DaskGraphRunner
from bot.graph_order import run_in_order
DaskGraphRunner.run = run_in_order
after = asyncio.run(outputs(agent))
again = asyncio.run(outputs(agent))  # compiled patterns and states from the second call on
print(json.dumps({"same": before == after == again, "folded": folded, "writes_before": writes_before,
                  "writes_after": writes_in_traced_graphs(agent),
                  "intents": [b[0]["intent"]["name"] for b in before]}))
"""


def test_serving_fixes_answer_exactly_as_rasa_does():
    model = model_path(load_settings())
    report = run_rasa_script(CHECK, str(model), timeout=900)
    assert report["folded"] >= 13  # DIET's transformer alone has 13 sparse layers
    assert report["writes_before"] >= 13 and report["writes_after"] == 0
    assert report["same"] is True
    assert report["intents"][:2] == ["ask_attribute", "search_product"]
