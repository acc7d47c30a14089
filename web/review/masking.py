"""Personal data typed by shoppers, masked in everything the console shows or exports
(phones, ID and bank card numbers, street addresses: ``cn_text.pii``). Product cards are
catalog data and stay as they are."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cn_text.pii import mask_pii
from web.review.tracker import ConversationSummary
from web.review.transcript import BotMessage, ShopperMessage, Transcript, Turn


def mask_value(value: Any) -> Any:
    """Strings masked; lists and dicts walked (slot values, entity values)."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value


def mask_summary(summary: ConversationSummary) -> ConversationSummary:
    return replace(
        summary,
        last_shopper_message=mask_value(summary.last_shopper_message),
        matches=tuple(replace(m, text=mask_pii(m.text)) for m in summary.matches),
        flags=tuple(mask_value(f) for f in summary.flags),
    )


def mask_transcript(transcript: Transcript) -> Transcript:
    sessions = tuple(
        replace(s, turns=tuple(_mask_turn(t) for t in s.turns)) for s in transcript.sessions
    )
    return replace(transcript, sessions=sessions)


def _mask_turn(turn: Turn) -> Turn:
    return replace(
        turn,
        shopper=_mask_shopper(turn.shopper) if turn.shopper else None,
        bot=tuple(_mask_bot(m) for m in turn.bot),
        slots=mask_value(turn.slots),
        slot_changes=mask_value(turn.slot_changes),
    )


def _mask_shopper(message: ShopperMessage) -> ShopperMessage:
    entities = tuple(replace(e, value=mask_value(e.value)) for e in message.entities)
    return replace(message, text=mask_pii(message.text), entities=entities)


def _mask_bot(message: BotMessage) -> BotMessage:
    # The bot repeats what it was told (「您的订单 … 手机号 138…」): its text is masked too.
    return replace(message, text=mask_value(message.text))


# -- revealing one message (admins, logged: web/routes/conversations.py) ------------------------
def masked_messages(original: Transcript, masked: Transcript) -> frozenset[int]:
    """The event ids of the messages (the shopper's and the bot's) whose text ``masked`` shows
    changed: those an admin may want to see as typed."""
    changed = set()
    for before, after in zip(original.turns, masked.turns, strict=True):
        if before.shopper and after.shopper and before.shopper.text != after.shopper.text:
            changed.add(before.shopper.event_id)
        changed.update(
            b.event_id for b, a in zip(before.bot, after.bot, strict=True) if b.text != a.text
        )
    return frozenset(changed)


def original_text(transcript: Transcript, event_id: int) -> str | None:
    """The unmasked text of one message of the conversation (shopper or bot), by event id;
    None when the conversation has no message with that id."""
    for turn in transcript.turns:
        if turn.shopper is not None and turn.shopper.event_id == event_id:
            return turn.shopper.text
        for message in turn.bot:
            if message.event_id == event_id:
                return message.text or ""
    return None
