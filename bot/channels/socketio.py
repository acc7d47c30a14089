"""Rasa 3.6's Socket.IO channel with two fixes the storefront widget needs.

1. `send_custom_json` in Rasa 3.6 calls `sio.emit(event, **payload)`, so a custom payload such
   as {"type": "products", ...} raises TypeError; we emit it as the message body instead.
2. Buttons arrive as `quick_replies`; we also send them under `buttons`, like the REST channel.
The room join is awaited when python-socketio makes `enter_room` a coroutine (rasa#13027), and
shopper text is sanitised as on the REST channel (cn_text/sanitize.py).
"""

from __future__ import annotations

import inspect
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from cn_text.sanitize import clean_message


class ProductSocketIOOutput(SocketIOOutput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"text": text, "buttons": buttons})


class ProductSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> ProductSocketIOOutput | None:
        if self.sio is None:
            return None
        return ProductSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message):  # type: ignore[no-untyped-def]
        async def sanitised(message: UserMessage) -> None:
            message.text = clean_message(message.text)
            await on_new_message(message)

        blueprint = super().blueprint(sanitised)
        sio = self.sio
        original_enter_room = sio.enter_room

        def enter_room(sid: str, room: str, namespace: str | None = None) -> Any:
            result = original_enter_room(sid, room, namespace=namespace)
            if inspect.isawaitable(result):
                import asyncio

                return asyncio.ensure_future(result)
            return result

        sio.enter_room = enter_room
        return blueprint
