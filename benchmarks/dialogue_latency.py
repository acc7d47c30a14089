"""Turn latency through the REST webhook (Rasa + actions) under light load, beside the bare NLU
parse time (the floor): 10 simulated shoppers, each sending a message every 2 seconds.

Each simulated shopper talks from its own loopback address (127.0.0.x) and no conversation sends
more than Rasa's per-shopper burst back to back, as with real shoppers: the channels' rate
limits (bot/channels/guard.py) must not answer a single message here with 429.

Target: p50 <= 60 ms, p95 <= 200 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cn_text.ratelimit import loopback_address  # noqa: E402
from daogou.launcher import on_free_ports, running_bot  # noqa: E402
from daogou.settings import load_settings  # noqa: E402
from web.identity import mint_shopper_token  # noqa: E402

MESSAGES = [
    "华为Mate60 Pro多少钱", "有没有三千以内的华为手机", "小米14的电池多大", "第二个多少钱",
    "对比一下前两个", "有没有便宜点的", "运费怎么算", "AirPods Pro 2多少钱", "500块以内的跑鞋",
    "适合油皮的护肤品", "还有货吗", "你好", "Mate60和小米14哪个续航好", "有没有类似的",
]  # fmt: skip


def signed(key: str, sender: str) -> dict[str, str]:
    """The headers of a message from `sender`: its shopper token, made before the clock runs."""
    return {"Authorization": f"Bearer {mint_shopper_token(key, sender)}"}


class Clients:
    """One HTTP client per loopback address: each simulated shopper is its own client to Rasa's
    per-address limit."""

    def __init__(self) -> None:
        self.by_address: dict[str, httpx.AsyncClient] = {}

    def of(self, sender: str) -> httpx.AsyncClient:
        address = loopback_address(sender)
        if address not in self.by_address:
            transport = httpx.AsyncHTTPTransport(local_address=address)
            self.by_address[address] = httpx.AsyncClient(transport=transport, timeout=60)
        return self.by_address[address]

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self.by_address.values()))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def shopper(
    clients: Clients, url: str, seed: int, turns: int, latencies: list[float], key: str
) -> None:
    name = f"bench-{RUN}-{seed}"
    client = clients.of(name)
    headers = signed(key, name)
    rng = random.Random(seed)  # the same messages at the same times in every run
    await asyncio.sleep(rng.random() * 2)
    for _ in range(turns):
        started = time.perf_counter()
        response = await client.post(
            url, json={"sender": name, "message": rng.choice(MESSAGES)}, headers=headers
        )
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        await asyncio.sleep(max(0.0, 2.0 - (time.perf_counter() - started)))


# New shoppers every run: a conversation left over from an earlier run would make Rasa load a
# longer tracker each turn than a real shopper's chat has.
RUN = uuid.uuid4().hex[:8]

# One shopper, one message at a time: where a turn's time goes without queueing.
BREAKDOWN = {
    "turn, reply from domain": ["你好", "谢谢", "运费怎么算", "你是机器人吗"],
    "turn, graph action": [
        "华为Mate60 Pro多少钱",
        "小米14的电池多大",
        "订单DG20261105000123到哪了",
    ],
    "turn, search action": ["有没有三千以内的华为手机", "适合油皮的护肤品", "500块以内的跑鞋"],
}


async def breakdown(clients: Clients, rasa_url: str, key: str) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    for name, texts in BREAKDOWN.items():
        for i, text in enumerate(texts * 5):
            headers = signed(key, f"solo-{RUN}-{i}")
            client = clients.of(f"solo-{RUN}-{i}")
            started = time.perf_counter()
            response = await client.post(
                f"{rasa_url}/webhooks/rest/webhook",
                json={"sender": f"solo-{RUN}-{i}", "message": text},
                headers=headers,
            )
            rows.setdefault(name, []).append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return rows


async def measure(
    rasa_url: str, token: str, shoppers: int, turns: int, shopper_key: str
) -> tuple[list[float], list[float], dict[str, list[float]]]:
    async with httpx.AsyncClient(timeout=60) as client, Clients() as clients:
        parse = []
        for text in MESSAGES * 3:
            started = time.perf_counter()
            (
                await client.post(
                    f"{rasa_url}/model/parse", params={"token": token}, json={"text": text}
                )
            ).raise_for_status()
            parse.append((time.perf_counter() - started) * 1000)
        # Warm-up: first use of each action path, as two conversations of 7 messages (within
        # the per-shopper burst; each half keeps the context its follow-ups refer to).
        for i, text in enumerate(MESSAGES):
            sender = f"warm-{RUN}-{i // 7}"
            (
                await clients.of(sender).post(
                    f"{rasa_url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": text},
                    headers=signed(shopper_key, sender),
                )
            ).raise_for_status()
        solo = await breakdown(clients, rasa_url, shopper_key)
        latencies: list[float] = []
        url = f"{rasa_url}/webhooks/rest/webhook"
        await asyncio.gather(
            *(shopper(clients, url, i, turns, latencies, shopper_key) for i in range(shoppers))
        )
        return latencies, parse, solo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shoppers", type=int, default=10)
    parser.add_argument("--turns", type=int, default=15)
    args = parser.parse_args()
    with running_bot(on_free_ports(load_settings())) as settings:
        turns, parse, solo = asyncio.run(
            measure(
                settings.rasa_url,
                settings.rasa_token,
                args.shoppers,
                args.turns,
                settings.shopper_key,
            )
        )
    print(
        f"dialogue latency: {args.shoppers} shoppers x {args.turns} turns, one message every 2 s each"
    )
    print(f"{'':26}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'n':>6}")
    rows = [("NLU parse (floor)", parse), *solo.items(), ("REST turn, 10 shoppers", turns)]
    for name, values in rows:
        print(
            f"{name:26}{percentile(values, 0.5):10.1f}{percentile(values, 0.95):10.1f}{statistics.mean(values):10.1f}{len(values):6d}"
        )
    print("target: turn p50 <= 60 ms, p95 <= 200 ms")


if __name__ == "__main__":
    main()
