"""Redis down (the cluster's private Redis killed): both Rasa replicas keep answering, each with
its own in-process lock, and say so in their logs once (bot/lock_store.py); once Redis is back
they take the shared lock again and log that too."""

from __future__ import annotations

import time
import uuid

# bot/lock_store.py's (it imports Rasa, which this Python has not got)
OUTAGE_WARNING = "Redis unreachable: using this replica's in-process lock"
RECOVERY_MESSAGE = "Redis reachable again"
RETRY_SECONDS = 5  # DEFAULT_RETRY_SECONDS there


def test_rasa_keeps_answering_without_redis_and_says_so(cluster):
    sender = f"cluster-redis-{uuid.uuid4().hex[:8]}"
    token = cluster.token(sender)
    logs_before = {n: len(cluster.log(f"rasa-{n}")) for n in (1, 2)}
    cluster.redis.stop()
    try:
        first = cluster.say(cluster.replica_url(1), sender, "华为手机", token)
        shown = cluster.say(cluster.replica_url(2), sender, "3000以内的", token).products
        through_nginx = cluster.say(cluster.public_url, sender, "第二个多少钱", token)
        assert first.text
        assert shown and {p["brand"] for p in shown} == {"华为"}
        assert [p["sku"] for p in through_nginx.products] == [shown[1]["sku"]]
        for replica in (1, 2):
            new_lines = cluster.log(f"rasa-{replica}")[logs_before[replica] :]
            assert new_lines.count(OUTAGE_WARNING) == 1, new_lines[-3000:]
    finally:
        cluster.redis.start()

    time.sleep(RETRY_SECONDS + 0.5)  # the replicas try Redis again at their next turn after this
    for replica in (1, 2):
        assert cluster.say(cluster.replica_url(replica), sender, "谢谢", token).text
        new_lines = cluster.log(f"rasa-{replica}")[logs_before[replica] :]
        assert RECOVERY_MESSAGE in new_lines
