"""A Rasa replica killed mid-conversation (SIGKILL, as a crash or the OOM killer would): the next
message through nginx is answered by the other replica with the conversation intact, and the
launcher notes the death and restarts the replica while the rest of the cluster keeps serving.
Run last (tests/cluster/conftest.py): the restarted replica loads its model for a while."""

from __future__ import annotations

import os
import signal
import socket
import time
import uuid


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_the_other_replica_answers_with_the_conversation_intact(cluster):
    sender = f"cluster-kill-{uuid.uuid4().hex[:8]}"
    token = cluster.token(sender)
    first = cluster.say(cluster.rasa_lb_url, sender, "华为手机", token)
    second = cluster.say(cluster.rasa_lb_url, sender, "3000以内的", token)
    served_by = cluster.replica_of(first.upstream)
    assert cluster.replica_of(second.upstream) == served_by  # sticky: one shopper, one replica
    shown = second.products
    assert shown and len(shown) >= 2

    victim = cluster.services()[f"rasa-{served_by}"]
    launcher_log = cluster.log_dir / "launcher.log"
    seen = len(launcher_log.read_text(errors="replace"))  # earlier runs wrote there too
    os.killpg(victim["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not refused(victim["port"]):
        assert time.monotonic() < deadline, "the killed replica's port still answers"
        time.sleep(0.05)

    started = time.monotonic()
    answer = cluster.say(cluster.rasa_lb_url, sender, "第二个多少钱", token)
    failover_seconds = time.monotonic() - started
    survivor = 2 if served_by == 1 else 1
    assert cluster.replica_of(answer.upstream) == survivor
    assert [p["sku"] for p in answer.products] == [shown[1]["sku"]]
    print(f"\nanswered by rasa-{survivor} {failover_seconds:.2f} s after rasa-{served_by} died")

    public = cluster.say(cluster.public_url, sender, "第一个多少钱", token)
    assert [p["sku"] for p in public.products] == [shown[0]["sku"]]

    deadline = time.monotonic() + 15
    log = ""
    while f"restarted rasa-{served_by}" not in log:
        assert time.monotonic() < deadline, log
        time.sleep(0.5)
        log = launcher_log.read_text(errors="replace")[seen:]
    assert f"rasa-{served_by} stopped (exit code -9); the others keep serving" in log
    assert cluster.services()[f"rasa-{served_by}"]["pid"] != victim["pid"]
    assert cluster.launcher.poll() is None  # the cluster did not stop
