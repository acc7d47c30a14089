"""Staff review of shopper conversations, read from Rasa's tracker store (no FastAPI here).

- :mod:`web.review.tracker`: the conversation list, its filters and Chinese full-text search,
  over a side index kept in step with Rasa's ``events`` table (``ConversationIndex``).
- :mod:`web.review.transcript`: one conversation turn by turn, with the slots at each turn.
- staff marks (handoffs, feedback) come from ``knowledge_graph.conversations.flags_of_many``.
- :mod:`web.review.events`: the ``events`` table and this bot's fallback and handoff names.
- :mod:`web.review.fake_history`: realistic conversations for tests and measurements.
"""

from web.review.tracker import (
    CatchUp,
    ConversationIndex,
    ConversationPage,
    ConversationQuery,
    ConversationSummary,
    Match,
)
from web.review.transcript import (
    ActionRun,
    BotMessage,
    Button,
    Entity,
    IntentScore,
    Session,
    ShopperMessage,
    Transcript,
    Turn,
)

__all__ = [
    "ActionRun",
    "BotMessage",
    "Button",
    "CatchUp",
    "ConversationIndex",
    "ConversationPage",
    "ConversationQuery",
    "ConversationSummary",
    "Entity",
    "IntentScore",
    "Match",
    "Session",
    "ShopperMessage",
    "Transcript",
    "Turn",
]
