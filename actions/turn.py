"""What the shopping logic reads of a turn and how it answers, without rasa_sdk.

The logic modules (state, formatting, listing, facts, context, policy_answers, guidance,
shopping) read the message and the slots through :class:`Turn`, which rasa_sdk's ``Tracker``
fits, and speak through :class:`Reply`, which wraps the action's dispatcher and adds
``skill="<name>"`` to every message: the skill that produced it, also when another action
handed the turn to it (「有白色吗」 about the phone in focus reaches ``action_search_products``
and is answered by ``action_answer_attribute``). An answer function marked with :func:`skill`
names itself, whoever calls it.

Why a key on the message and not a ``FollowupAction``: Rasa 3.6 keeps any key it does not
know of a message the action server returns in the ``BotUttered`` event's ``metadata``
(``create_bot_utterance`` in rasa/core/actions/action.py), so the tracker store, and the staff
console that reads it, name the answering skill at no cost, while a ``FollowupAction`` to the
skill that answers costs a second HTTP round trip to the action server in every such turn.
The shopper sees nothing of it: the REST channel's ``CollectingOutputChannel._message`` keeps
only recipient_id, text, image, buttons, attachment and custom, and the Socket.IO output
(bot/channels/socketio.py and Rasa's) builds its payloads from those fields alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

SKILL_KEY = "skill"

Events = list[dict[str, Any]]


class Turn(Protocol):
    """What the logic reads of the tracker: this message and the slots, nothing older."""

    sender_id: str
    latest_message: dict[str, Any]
    active_loop: dict[str, Any]

    def get_slot(self, key: str) -> Any: ...


class Dispatcher(Protocol):
    def utter_message(self, **kwargs: Any) -> None: ...


class Reply:
    """The dispatcher as the logic uses it: every message it sends names the answering skill."""

    def __init__(self, dispatcher: Dispatcher, skill: str) -> None:
        self._dispatcher = dispatcher
        self.skill = skill

    def utter_message(self, **kwargs: Any) -> None:
        self._dispatcher.utter_message(**kwargs, **{SKILL_KEY: self.skill})

    def by(self, skill: str) -> Reply:
        """The same dispatcher, for messages of another skill."""
        return Reply(self._dispatcher, skill)


Answer = TypeVar("Answer", bound=Callable[..., Any])


def skill(name: str) -> Callable[[Answer], Answer]:
    """Marks a function whose first argument is the :class:`Reply` as the answer of the skill
    ``name``: its messages name that skill, whoever called it."""

    def mark(answer: Answer) -> Answer:
        @functools.wraps(answer)
        def answering(reply: Reply, *args: Any, **kwargs: Any) -> Any:
            return answer(reply.by(name), *args, **kwargs)

        answering.skill = name  # type: ignore[attr-defined]
        return answering  # type: ignore[return-value]

    return mark
