"""Locust shoppers for benchmarks/cluster_load.py: multi-turn Chinese conversations through
nginx's REST webhook, one message every 2 s per shopper (the latency benchmark's pace).

Each simulated shopper talks from its own loopback address (127.0.0.x, as in
benchmarks/dialogue_latency.py) with its own signed identity, so the channels' per-address and
per-shopper limits see 50 different shoppers, and nginx's sticky hash (the Authorization header)
spreads them over the Rasa replicas. A conversation is a fresh sender id; the texts each sender
sent are appended to a JSON-lines file (`DAOGOU_LOAD_SENT`) so that the driver can compare them
with the tracker afterwards: no message lost, none reordered.

Started by the driver as `locust -f benchmarks/cluster_locustfile.py --headless ...` with
DAOGOU_SHOPPER_KEY and DAOGOU_LOAD_SENT in the environment.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import uuid
from pathlib import Path

from locust import HttpUser, constant_pacing, task
from requests.adapters import HTTPAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cn_text.ratelimit import loopback_address  # noqa: E402
from web.identity import mint_shopper_token  # noqa: E402

# Conversations as shoppers have them: a search, follow-ups that need the context (第二个, 这款,
# 便宜点的), a comparison, an after-sales question.
CONVERSATIONS = [
    ["你好", "有没有三千以内的华为手机", "第二个多少钱", "还有货吗", "谢谢"],
    ["小米14的电池多大", "和华为Mate60 Pro比哪个续航好", "有没有类似的", "运费怎么算"],
    ["500块以内的跑鞋", "有没有便宜点的", "第一个有什么颜色", "可以退货吗"],
    ["适合油皮的护肤品", "200以内的", "第二个怎么样", "再见"],
    ["AirPods Pro 2多少钱", "这款保修多久", "有没有适合iPhone15的手机壳", "谢谢"],
    ["送女朋友什么礼物好", "预算1000左右", "第三个多少钱", "怎么开发票"],
]  # fmt: skip

_SENT_LOCK = threading.Lock()
_USER_NUMBERS = itertools.count()


class _FromAddress(HTTPAdapter):
    """Connections from one loopback address: each shopper is its own client to the limits."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _record_sent(sender: str, texts: list[str]) -> None:
    path = os.environ.get("DAOGOU_LOAD_SENT")
    if not path:
        return
    line = json.dumps({"sender": sender, "texts": texts}, ensure_ascii=False)
    with _SENT_LOCK, open(path, "a", encoding="utf-8") as file:
        file.write(line + "\n")


class Shopper(HttpUser):
    wait_time = constant_pacing(2.0)

    def on_start(self) -> None:
        self.number = next(_USER_NUMBERS)
        self.key = os.environ["DAOGOU_SHOPPER_KEY"]
        address = loopback_address(f"load-shopper-{self.number}")
        for scheme in ("http://", "https://"):
            self.client.mount(scheme, _FromAddress(address))
        self.script = CONVERSATIONS[self.number % len(CONVERSATIONS)]
        self._new_conversation()

    def on_stop(self) -> None:
        _record_sent(self.sender, self.sent)

    def _new_conversation(self) -> None:
        self.sender = f"load-{self.number}-{uuid.uuid4().hex[:10]}"
        self.headers = {"Authorization": f"Bearer {mint_shopper_token(self.key, self.sender)}"}
        self.sent: list[str] = []
        self.turn = 0

    @task
    def say(self) -> None:
        if self.turn >= len(self.script):
            _record_sent(self.sender, self.sent)
            self.script = CONVERSATIONS[(self.number + len(self.sent)) % len(CONVERSATIONS)]
            self._new_conversation()
        text = self.script[self.turn]
        self.turn += 1
        self.sent.append(text)
        with self.client.post(
            "/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            headers=self.headers,
            name="turn",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif not response.json():
                response.failure("no reply")  # the bot is never silent
