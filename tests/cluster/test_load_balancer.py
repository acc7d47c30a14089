"""Through nginx: the REST channel, and Socket.IO on both replicas (a client key that nginx
gives replica 1 and one it gives replica 2: `hash $sticky_key consistent` on the widget's
client_key), over the polling transport (many requests, each of which must reach the replica
holding the session) and upgraded to a WebSocket. A staff message pushed to the OTHER replica's
push route reaches the socket through Redis (the channel's AsyncRedisManager)."""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest
import socketio

from daogou.cluster import STICKY_QUERY_KEY


class Shopper:
    """A Socket.IO client as the widget is one: its token in `auth`, its client_key in the
    query, session_request, then user_uttered messages."""

    def __init__(self, cluster, key: str, transports: list[str]) -> None:
        self.cluster = cluster
        self.key = key
        self.sender = f"cluster-socket-{uuid.uuid4().hex[:8]}"
        self.transports = transports
        self.messages: list[dict] = []
        self.arrived = threading.Condition()
        self.confirmed = threading.Event()
        self.client = socketio.Client(
            reconnection=False, websocket_extra_options={"suppress_origin": True}
        )
        self.client.on("bot_uttered", self._received)
        self.client.on("session_confirm", lambda _: self.confirmed.set())

    def _received(self, message: dict) -> None:
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()

    def connect(self) -> Shopper:
        self.client.connect(
            f"{self.cluster.public_url}?{STICKY_QUERY_KEY}={self.key}",
            transports=self.transports,
            headers={"Origin": f"http://localhost:{self.cluster.topology.http_port}"},
            auth={"token": self.cluster.token(self.sender)},
            wait_timeout=20,
        )
        self.client.emit("session_request", {"session_id": self.sender})
        assert self.confirmed.wait(20), "no session_confirm"
        return self

    def wait_for(self, check, timeout: float = 60.0) -> dict:
        with self.arrived:
            found = self.arrived.wait_for(
                lambda: next((m for m in self.messages if check(m)), None), timeout
            )
        assert found, f"nothing matching arrived; got {self.messages}"
        return found

    def say(self, text: str) -> None:
        self.client.emit("user_uttered", {"message": text, "session_id": self.sender})

    def close(self) -> None:
        """Gone, as a closed tab is. (python-engineio's own disconnect waits for the pending
        long-poll, which the server answers only at its next ping, about 30 s here.)"""
        self.client.eio.disconnect(abort=True)


def keys_for_each_replica(cluster) -> dict[int, str]:
    keys: dict[int, str] = {}
    for number in range(200):
        key = f"browser-{number}"
        keys.setdefault(cluster.sticky_replica(key), key)
        if len(keys) == 2:
            return keys
    pytest.fail(f"200 client keys all went to one replica: {keys}")


def test_rest_through_the_public_listener(cluster):
    sender = f"cluster-rest-{uuid.uuid4().hex[:8]}"
    reply = cluster.say(cluster.public_url, sender, "华为Mate60 Pro多少钱")
    assert reply.products and "Mate 60 Pro" in reply.products[0]["title"]
    assert reply.upstream is None  # the public listener does not tell which replica answered


def test_the_sticky_key_decides_the_replica(cluster):
    keys = keys_for_each_replica(cluster)
    assert sorted(keys) == [1, 2]
    for replica, key in keys.items():  # the same key, the same replica, every time
        assert {cluster.sticky_replica(key) for _ in range(5)} == {replica}


@pytest.mark.parametrize("transports", [["polling"], ["polling", "websocket"]])
def test_socketio_on_each_replica_and_staff_push_from_the_other(cluster, transports):
    for replica, key in keys_for_each_replica(cluster).items():
        shopper = Shopper(cluster, key, transports).connect()
        try:
            if "websocket" in transports:
                assert shopper.client.transport() == "websocket"  # upgraded through nginx
            shopper.say("华为Mate60 Pro多少钱")
            cards = shopper.wait_for(lambda m: (m.get("custom") or {}).get("type") == "products")
            assert "Mate 60 Pro" in cards["custom"]["items"][0]["title"]

            other = 2 if replica == 1 else 1
            staff = {"text": f"您好，我是客服小王（{replica}号）", "metadata": {"staff": "小王"}}
            pushed = httpx.post(
                f"{cluster.replica_url(other)}/webhooks/socketio/push",
                json={"sender_id": shopper.sender, "message": staff},
                headers={"Authorization": f"Bearer {cluster.rasa_token}"},
                timeout=10,
            )
            assert pushed.status_code == 200, pushed.text
            text = staff["text"]
            got = shopper.wait_for(lambda m, text=text: m.get("text") == text, timeout=10)
            assert got["metadata"] == {"staff": "小王"}
        finally:
            shopper.close()
