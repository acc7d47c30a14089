"""Product texts and tokens shared by the keyword and vector indexes."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

from knowledge_graph.product import Product

jieba.setLogLevel(logging.WARNING)
_LATIN_OR_NUMBER = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "吧",
        "呀",
        "有",
        "没有",
        "是",
        "我",
        "想",
        "要",
        "买",
        "个",
        "一",
        "款",
        "一个",
        "一款",
        "给",
        "请问",
        "帮",
        "找",
        "什么",
        "哪些",
        "推荐",
        "和",
        "与",
        "或",
        "也",
        "都",
        "很",
        "好",
        "的话",
        "一下",
        "有没有",
    ]
)


def product_text(product: Product) -> str:
    """Everything a shopper might search for, in one passage."""
    attributes = "；".join(
        f"{key}：{'、'.join(map(str, value)) if isinstance(value, list) else value}"
        for key, value in product.attributes.items()
    )
    parts = [
        product.title,
        f"品牌：{product.brand}",
        f"品类：{product.category}",
        product.model or "",
        attributes,
        "标签：" + "、".join(product.tags),
        product.description,
    ]
    return "。".join(p for p in parts if p)


@lru_cache(maxsize=1)
def _init_jieba() -> None:
    jieba.initialize()


def add_words(words: list[str]) -> None:
    """Teaches jieba the catalog's words (model names, brands) so they stay whole."""
    _init_jieba()
    for word in words:
        if word and " " not in word:
            jieba.add_word(word, freq=2000)


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens, lower case, stop words and punctuation dropped."""
    _init_jieba()
    text = text.lower()
    tokens = []
    for token in jieba.cut_for_search(text):
        token = token.strip()
        if not token or token in _STOPWORDS:
            continue
        if token.isascii() and not _LATIN_OR_NUMBER.fullmatch(token):
            continue
        if not token.isascii() and not any("\u4e00" <= ch <= "\u9fff" for ch in token):
            continue  # punctuation, emoji
        tokens.append(token)
    return tokens
