"""When a message's answer could come from the response selector (faq/..., chitchat/...).

No rasa import: the Rasa component (gated_response_selector.py) uses it in the 3.10 environment and the
unit tests in the 3.11 one.

The selector's pick is read only when the message's final intent is a retrieval intent. After
the intent classifiers that is decided for most messages: a confident top intent that is not a
retrieval intent stays the intent, because the FallbackClassifier replaces only unsure or
ambiguous ones. For those messages the selector's TensorFlow call (about 3 ms, a tenth of the
NLU) is skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any


def needs_response_selection(
    ranking: Sequence[Mapping[str, Any]],
    retrieval_intents: Collection[str],
    sure: float,
    margin: float,
) -> bool:
    """False only when the top intent is not a retrieval intent, has at least `sure`
    confidence and leads the next one by at least `margin`.

    `sure` and `margin` must be at least the FallbackClassifier's `threshold` and
    `ambiguity_threshold`: a message the fallback could still take over keeps its selection, so
    an intent the shopper confirms from the fallback's buttons has its answer ready.
    """
    if not ranking:
        return True
    top = ranking[0]
    if top.get("name") in retrieval_intents:
        return True
    confidence = float(top.get("confidence") or 0.0)
    runner_up = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    return confidence < sure or confidence - runner_up < margin
