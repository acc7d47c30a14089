"""Renders Rasa's credentials for a container deployment (deploy/compose.yaml, deploy/k8s/).

`daogou run` renders var/bot/credentials.yml at every start (daogou/launcher.py
`write_credentials`). In a deployment the init step renders it once into
DAOGOU_VAR/bot/credentials.yml, which every Rasa replica reads from the shared volume. On top of
the launcher's rendering (shopper key, push and proxy tokens, the chat guard's limits), the
Socket.IO channel gets what several replicas behind one public host need, as the cluster profile
gives its replicas (daogou/launcher.py write_cluster_bot_files):

- `redis_url` (setting REDIS_URL): rooms shared through Redis, so that a reply or a staff
  message reaches a shopper whose socket another replica holds;
- `cors_allowed_origins` (`--origin`): the shop's public origin, since the channel's default is
  the web app's own http://localhost:<port> and a browser on https://shop.example.com would be
  refused.

Run from the image's /app with the deployment's environment:

    python deploy/docker/rasa_credentials.py --origin https://shop.example.com
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from daogou.launcher import write_credentials
from daogou.settings import Settings, load_settings


def socketio_options(settings: Settings, origins: list[str]) -> dict[str, Any]:
    """Redis and the public origins for the Socket.IO channel (what daogou/launcher.py
    write_cluster_bot_files gives the cluster profile's replicas)."""
    options: dict[str, Any] = {"cors_allowed_origins": [o.rstrip("/") for o in origins]}
    if settings.redis_url:
        options["redis_url"] = settings.redis_url
    return options


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--origin",
        action="append",
        default=[],
        help="a public origin whose pages may open the chat (repeatable; empty values ignored)",
    )
    parser.add_argument("--out", type=Path, help="default DAOGOU_VAR/bot/credentials.yml")
    args = parser.parse_args(argv)
    origins = [origin for origin in args.origin if origin.strip()]
    if not origins:
        parser.error("at least one --origin: the chat refuses pages from any other origin")
    settings = load_settings()
    path = write_credentials(settings, args.out, socketio_options(settings, origins))
    print(f"Rasa credentials written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
