"""The names the annotation check accepts, read from the domain files and cached by mtime."""

from __future__ import annotations

import os

import pytest

from daogou.settings import REPO_ROOT
from web.review.annotations import AnnotationError, DomainNames

DOMAIN = """
intents:
  - greet
  - search_product
entities:
  - brand
  - price:
      roles: [min, max]
responses:
  utter_faq/shipping:
    - text: 全国包邮
"""


def test_names_come_from_the_domain_files(tmp_path):
    (tmp_path / "main.yml").write_text(DOMAIN, encoding="utf-8")
    names = DomainNames.load(tmp_path)
    assert names.intents == {"greet", "search_product"}
    assert names.entities == {"brand", "price"}
    assert names.roles["price"] == {"min", "max"}
    assert names.retrieval == {"faq/shipping"}
    with pytest.raises(AnnotationError, match="不在机器人的领域定义里"):
        names.check("你好", "say_goodbye", [])


def test_cached_names_are_read_again_only_when_a_file_changes(tmp_path):
    domain = tmp_path / "main.yml"
    domain.write_text(DOMAIN, encoding="utf-8")
    first = DomainNames.cached(tmp_path)
    assert DomainNames.cached(tmp_path) is first
    domain.write_text(DOMAIN.replace("  - greet\n", "  - greet\n  - goodbye\n"), "utf-8")
    stat = domain.stat()
    os.utime(domain, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = DomainNames.cached(tmp_path)
    assert again is not first and "goodbye" in again.intents


def test_the_bot_domain_knows_the_shopping_intents():
    names = DomainNames.cached(REPO_ROOT / "bot" / "domain")
    assert {"search_product", "ask_attribute", "request_human"} <= names.intents
