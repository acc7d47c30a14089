"""TLS ends at nginx: https with the certificate the cluster generated under var/cluster/tls/
(a client trusts it by that file), for the storefront and the REST channel; a client that does
not know the certificate is refused."""

from __future__ import annotations

import ssl
import uuid

import httpx
import pytest


def test_https_with_the_generated_certificate(cluster):
    trusted = ssl.create_default_context(cafile=str(cluster.cert))
    for host in ("localhost", "127.0.0.1"):  # both are in the certificate
        health = httpx.get(f"https://{host}:{cluster.topology.https_port}/health", verify=trusted)
        assert health.status_code == 200
        assert health.json()["status"] in ("ok", "degraded")
    sender = f"cluster-tls-{uuid.uuid4().hex[:8]}"
    reply = cluster.say(
        f"https://localhost:{cluster.topology.https_port}", sender, "你好", verify=trusted
    )
    assert reply.text


def test_a_client_without_the_certificate_is_refused(cluster):
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://localhost:{cluster.topology.https_port}/health")
