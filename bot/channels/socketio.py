"""Rasa 3.6's Socket.IO channel, with its blueprint rewritten so that our output is used.

Why the whole blueprint: Rasa's `SocketIOInput.blueprint()` builds a stock `SocketIOOutput`
inside its user-message handler, so no `get_output_channel` override or output subclass is
ever used for replies. The stock `send_custom_json` calls `sio.emit(event, **payload)`, so the
product cards of 「有没有三千以内的华为手机」 raised `TypeError: AsyncServer.emit() got an
unexpected keyword argument 'type'` inside Rasa's prediction loop and the rest of the turn
was lost.

Messages carry the REST channel's keys (`text`, `buttons`, `image`, `attachment`, `custom`,
product cards as {"custom": {"type": "products", "items": [...]}}), so one widget renderer
serves both channels; Rasa's own Socket.IO keys come along for stock widgets (`quick_replies`,
an image also as `attachment` {"type": "image", "payload": {"src": ...}}). A part that fails
to send is logged and the rest of the turn still goes out. Shopper text is sanitised as on
REST (cn_text/sanitize.py); the room join is awaited when `enter_room` is a coroutine
(python-socketio >= 5.10, rasa#13027); replies go to the configured `namespace`.

Who is talking: only a signed-in shopper connects, with a shopper token (bot/channels/identity.py)
in the Socket.IO `auth` object ({"token": "<jwt>"}, as Rasa's own channel reads it) or an
`Authorization: Bearer` header; without a valid one the connection is refused ("unauthorized").
The sender of every message on that connection is the token's `sub`, and the socket joins that
shopper's room at connect, so replies, a second tab and staff messages pushed to the
conversation reach it. A `session_id` the client sends (in `session_request` or a message) is
ignored: `session_confirm` answers with the shopper's id, and a client naming another shopper's
id neither joins their room nor talks in their conversation. The token is checked when the
connection opens; after it expires the connection keeps its shopper until it closes, and the
next connect needs a fresh token (socket.io-client's `auth` may be a function that fetches one).

Each message then passes the channel's guard (bot/channels/guard.py), with the client address
taken when the connection opens: Sanic's peer of the handshake request (Engine.IO's Sanic driver
puts a fixed 127.0.0.1 into REMOTE_ADDR, so that is never read), or the X-Forwarded-For of a
trusted proxy. A shopper over the rate limit gets one polite `bot_uttered` on that connection
for the whole throttled run, not one per message, and nothing reaches the bot until a message
is allowed again; a message with a sensitive word gets a polite refusal. Both are sent to the
socket that sent the message only.

Credentials (bot/credentials.yml; var/bot/credentials.yml as the launcher renders it), Rasa's
own (user_message_evt, bot_message_evt, namespace, socketio_path, metadata_key;
session_persistence is accepted and changes nothing: the token decides the conversation) and:
  jwt_key               the key shopper tokens are signed with (setting `shopper_key`; rendered
                        by the launcher). Without it every connection is refused.
  jwt_method            its algorithm, default HS256
  cors_allowed_origins  origins whose pages may connect (a browser's Origin header is checked);
                        default the web app's own, http://localhost:<port> and
                        http://127.0.0.1:<port> with port DAOGOU_WEB_PORT or 8000. Not "*".
  redis_url             e.g. redis://127.0.0.1:6379/0: rooms shared through Redis
                        (socketio.AsyncRedisManager), so that several Rasa instances reach one
                        conversation; default none (rooms live in this process).
  push_token            the token of `POST /webhooks/socketio/push` (the Rasa token, rendered by
                        the launcher); without it the route refuses every call.
  rate_per_shopper, rate_per_ip, trusted_proxies, proxy_token, sensitive_words: the guard's.

Pushing to a shopper (the handoff to a person: web/handoff_loop.py): `POST
/webhooks/socketio/push` with `Authorization: Bearer <push_token>` and JSON
`{"sender_id": "...", "message": {"text", "buttons", "custom", "image", "metadata"}}` emits the
message as `bot_uttered` to the shopper's room (every tab they have open), in the shapes above,
with `metadata` (e.g. `{"staff": "<name>"}`). It does not touch the tracker: the caller appends
the message there through Rasa's HTTP API. With `redis_url` the emit reaches sockets held by any
Rasa instance.
"""

from __future__ import annotations

import hmac
import inspect
import json
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import rasa.shared.utils.io
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic_cors.core import SANIC_CORS_EVALUATED
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError

from bot.channels.guard import ChatGuard, Refusal, shopper_metadata
from bot.channels.identity import ShopperTokens, bearer_token
from cn_text.sanitize import clean_message

logger = logging.getLogger(__name__)


def default_origins() -> list[str]:
    """The web app's own origins: the storefront page that embeds the widget."""
    port = os.environ.get("DAOGOU_WEB_PORT") or "8000"
    return [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]


def _origins(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return default_origins()
    origins = [value] if isinstance(value, str) else list(value)
    return [str(o).rstrip("/") for o in origins if o]


# Keys of a bot message that `send_response` sends (and never passes on as keyword arguments).
_PARTS = frozenset(
    (
        "recipient_id",
        "text",
        "quick_replies",
        "buttons",
        "custom",
        "image",
        "attachment",
        "elements",
    )
)


class _SocketBlueprint(SocketBlueprint):
    """Rasa's, but Engine.IO alone answers CORS on its path (checking cors_allowed_origins):
    Rasa's app-wide Sanic-CORS (`--cors`) added a second Access-Control-Allow-Origin header to
    the polling responses (seen with curl), which browsers reject."""

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        path = self.ctx.socketio_path.rstrip("/")

        async def engineio_answers_cors(request: Request) -> None:
            if request.path.rstrip("/") == path:
                setattr(request.ctx, SANIC_CORS_EVALUATED, "1")  # Sanic-CORS then skips it

        app.register_middleware(engineio_answers_cors, "request")


class ProductSocketIOOutput(SocketIOOutput):
    """Rasa's Socket.IO output with the REST channel's message shapes (module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def __init__(self, sio: AsyncServer, bot_message_evt: str, namespace: str | None = None):
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await self.sio.emit(
            self.bot_message_evt, response, room=socket_id, namespace=self.namespace
        )

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """`OutputChannel.send_response`, each part sent on its own: a failing part is logged
        and the others (and the turn's later messages) still go out."""
        parts: list[tuple[str, Callable[..., Awaitable[None]], tuple]] = []
        text = message.get("text") or ""
        if message.get("quick_replies"):
            parts.append(
                ("quick replies", self.send_quick_replies, (text, message["quick_replies"]))
            )
        elif message.get("buttons"):
            parts.append(("buttons", self.send_text_with_buttons, (text, message["buttons"])))
        elif text:
            parts.append(("text", self.send_text_message, (text,)))
        for key, send in (
            ("custom", self.send_custom_json),
            ("image", self.send_image_url),
            ("attachment", self.send_attachment),
            ("elements", self.send_elements),
        ):
            if message.get(key):
                parts.append((key, send, (message[key],)))
        # What is left (timestamp, metadata such as `skill`) goes along as keyword arguments.
        rest = {k: v for k, v in message.items() if k not in _PARTS}
        for what, send, args in parts:
            try:
                await send(recipient_id, *args, **rest)
            except Exception:
                logger.exception(
                    "socketio: could not send the %s of a reply to %s", what, recipient_id
                )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        # One message, as on REST (Rasa's Socket.IO output split the text on blank lines).
        quick_replies = [
            {"content_type": "text", "title": b.get("title"), "payload": b.get("payload")}
            for b in buttons
        ]
        await self._send_message(
            recipient_id, {"text": text, "buttons": buttons, "quick_replies": quick_replies}
        )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        attachment = {"type": "image", "payload": {"src": image}}
        await self._send_message(recipient_id, {"image": image, "attachment": attachment})


class ProductSocketIOInput(InputChannel):
    """Rasa's `SocketIOInput` (same credentials and events), replies sent by
    `ProductSocketIOOutput`; see the module docstring."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", False),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            cors_allowed_origins=credentials.get("cors_allowed_origins"),
            redis_url=credentials.get("redis_url"),
            push_token=credentials.get("push_token"),
            guard=ChatGuard.from_credentials(credentials),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = False,
        socketio_path: str = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str = "HS256",
        metadata_key: str = "metadata",
        *,
        cors_allowed_origins: str | Iterable[str] | None = None,
        redis_url: str | None = None,
        client_manager: Any = None,
        push_token: str | None = None,
        guard: ChatGuard | None = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.namespace = namespace
        self.session_persistence = session_persistence
        self.socketio_path = socketio_path
        self.jwt_key = jwt_key
        self.jwt_algorithm = jwt_method
        self.tokens = ShopperTokens(jwt_key, jwt_method)
        self.metadata_key = metadata_key
        self.cors_allowed_origins = _origins(cors_allowed_origins)
        self.redis_url = redis_url
        # A socketio client manager (e.g. AsyncRedisManager); built from redis_url if not given.
        self.client_manager = client_manager
        self.sio: AsyncServer | None = None
        self.push_token = str(push_token) if push_token else None
        self.guard = guard or ChatGuard()

    def get_output_channel(self) -> ProductSocketIOOutput | None:
        """For messages pushed into a conversation (`output_channel=latest`)."""
        if self.sio is None:
            rasa.shared.utils.io.raise_warning(
                "SocketIO output channel cannot be recreated. This is expected behavior when "
                "using multiple Sanic workers or multiple Rasa Open Source instances."
            )
            return None
        return ProductSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)

    def client(self, environ: dict[str, Any]) -> str:
        """The client address of a connection's handshake (module docstring)."""
        request = environ.get("sanic.request")
        peer = getattr(request, "ip", None) or environ.get("REMOTE_ADDR", "")
        return self.guard.client_address(
            peer, environ.get("HTTP_X_FORWARDED_FOR"), environ.get("HTTP_X_DAOGOU_PROXY")
        )

    def _make_client_manager(self) -> Any:
        if self.client_manager is None and self.redis_url:
            # AsyncRedisManager dropping replies and spinning while Redis is down: see its doc.
            from bot.channels.redis_manager import ResilientRedisManager

            self.client_manager = ResilientRedisManager(self.redis_url)
        return self.client_manager

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Engine.IO checks a browser's Origin header against this list (no "*").
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            client_manager=self._make_client_manager(),
        )
        socketio_webhook = _SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio  # for get_output_channel
        namespace = self.namespace

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @socketio_webhook.route("/push", methods=["POST"])
        async def push(request: Request) -> HTTPResponse:
            sent = bearer_token(request.headers.get("Authorization")) or ""
            if not self.push_token or not hmac.compare_digest(sent, self.push_token):
                return _error(401, "unauthorized", "push needs the push token")
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                body = None
            message = pushed_message(body)
            if message is None:
                return _error(400, "bad_request", 'expected {"sender_id": "...", "message": {...}}')
            await sio.emit(
                self.bot_message_evt, message, room=body["sender_id"], namespace=namespace
            )
            return response.json({"status": "sent"})

        async def join(sid: str, room: str) -> None:
            joined = sio.enter_room(sid, room, namespace=namespace)
            if inspect.isawaitable(joined):  # python-socketio >= 5.10 (rasa#13027)
                await joined

        async def shopper_of(sid: str) -> str | None:
            try:
                session = await sio.get_session(sid, namespace=namespace)
            except KeyError:  # disconnected meanwhile
                return None
            return session.get("sender_id")

        async def guarded(sid: str, sender_id: str, text: str | None) -> bool:
            """Whether the message may go to the bot; if not, the shopper is told (once per
            throttled run, module docstring)."""
            async with sio.session(sid, namespace=namespace) as session:
                refusal = self.guard.check(sender_id, session.get("address", ""), text)
                throttled = refusal is not None and refusal.reason == "throttled"
                already_told = throttled and session.get("throttled", False)
                session["throttled"] = throttled  # a message let through ends the run
            if refusal is not None and not already_told:
                await tell(sid, sender_id, refusal)
            return refusal is None

        async def tell(sid: str, sender_id: str, refusal: Refusal) -> None:
            output = ProductSocketIOOutput(sio, self.bot_message_evt, namespace)
            try:
                await output.send_text_message(sid, refusal.text)
            except Exception:
                logger.exception("socketio: could not tell %s why a message was refused", sender_id)

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict, auth: Any = None) -> None:
            token = auth.get("token") if isinstance(auth, dict) else None
            sender_id = self.tokens.sender(token or bearer_token(environ.get("HTTP_AUTHORIZATION")))
            if sender_id is None:
                raise ConnectionRefusedError("unauthorized")
            session = {"sender_id": sender_id, "address": self.client(environ), "throttled": False}
            await sio.save_session(sid, session, namespace=namespace)
            await join(sid, sender_id)
            logger.debug("User %s connected to socketIO endpoint.", sid)

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str, *_: Any) -> None:
            logger.debug("User %s disconnected from socketIO endpoint.", sid)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            sender_id = await shopper_of(sid)
            if sender_id is None:
                return
            asked = data.get("session_id") if isinstance(data, dict) else None
            if asked and str(asked) != sender_id:
                logger.debug("socketio: %s asked for session %s; it is %s", sid, asked, sender_id)
            await sio.emit("session_confirm", sender_id, room=sid, namespace=namespace)
            logger.debug("User %s started session %s.", sid, sender_id)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                logger.warning("socketio: ignored a message that is not an object from %s", sid)
                return
            sender_id = await shopper_of(sid)
            if sender_id is None:
                return
            text = clean_message(data.get("message", ""))
            if not await guarded(sid, sender_id, text):
                return
            metadata = shopper_metadata(data.get(self.metadata_key))
            message = UserMessage(
                text,
                ProductSocketIOOutput(sio, self.bot_message_evt, namespace),
                sender_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            try:
                await on_new_message(message)
            except Exception:  # as the REST channel: logged, the connection stays up
                logger.exception("socketio: could not handle a message from %s", sender_id)

        return socketio_webhook


def pushed_message(body: Any) -> dict[str, Any] | None:
    """The `bot_uttered` payload of a push body (module docstring), None if it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        return None
    sender_id, given = body.get("sender_id"), body["message"]
    if not isinstance(sender_id, str) or not sender_id or len(sender_id) > 255:
        return None
    message = {k: given[k] for k in ("text", "buttons", "custom", "image") if given.get(k)}
    if not message:
        return None
    if message.get("buttons"):
        message["quick_replies"] = [
            {"content_type": "text", "title": b.get("title"), "payload": b.get("payload")}
            for b in message["buttons"]
            if isinstance(b, dict)
        ]
    if message.get("image"):
        message["attachment"] = {"type": "image", "payload": {"src": message["image"]}}
    metadata = given.get("metadata")
    message["metadata"] = metadata if isinstance(metadata, dict) else {}
    return message


def _error(status: int, code: str, text: str) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": text}}, status=status)
