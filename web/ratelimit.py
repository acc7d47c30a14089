"""The web app's rate limits: the token buckets of cn_text/ratelimit.py, which Rasa's chat
channels share (one implementation for both Pythons). In-process: behind several web-app
replicas the load balancer's limit is the one that counts."""

from __future__ import annotations

from cn_text.ratelimit import Rate, RateLimiter, acquire_all

__all__ = ["Rate", "RateLimiter", "acquire_all"]
