"""Staff marks on conversations (handoff requests, shoppers' feedback), which live in the catalog
database's ``conversation_flags`` table, for the senders of one console page.

Read through ``knowledge_graph.conversations.flags_of``, one query per sender: a page has at most
100 senders, and that module has no query for many senders at once. The result is the
``flags`` argument of ``ConversationIndex.conversations``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from knowledge_graph.conversations import flags_of
from knowledge_graph.store import CatalogStore


def flags_by_sender(
    store: CatalogStore, sender_ids: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """sender_id -> its flags (kind, text, status, created_at), oldest first; senders without
    flags are left out."""
    found = {sender_id: flags_of(store, sender_id) for sender_id in dict.fromkeys(sender_ids)}
    return {sender_id: flags for sender_id, flags in found.items() if flags}
