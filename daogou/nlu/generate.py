"""Training examples generated from the graph: templates crossed with catalog names.

They teach the NLU the catalog's vocabulary (every model, brand, category and attribute word);
the hand-written examples in bot/data/nlu teach it how people talk.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import yaml

from daogou.nlu.check import examples_by_intent, plain_text_and_spans
from knowledge_graph.graph import ProductGraph

PER_INTENT = 250

ATTRIBUTE_TEMPLATES = [
    "{product}{price_question}",
    "{product}现在{price_question}",
    "{product}的[价格](attribute)是多少",
    "请问{product}{price_question}啊",
    "{product}的{attribute}是多少",
    "{product}{attribute}怎么样",
    "{product}{attribute}多少",
    "想问下{product}的{attribute}",
    "{product}的{attribute}",
    "{brand}{product}{attribute}咋样",
    "{product} {attribute}多大",
]
SEARCH_TEMPLATES = [
    "有没有{price_max}的{brand}{category}",
    "想买个{category}",
    "{brand}的{category}有哪些",
    "我要买{brand}{category}",
    "看看{category}",
    "{price_around}的{category}有吗",
    "找一款{attribute}好的{category}",
    "有什么{color}的{category}",
    "{brand}{category}{price_max}的有哪些",
    "来个{price_min}的{category}",
]
PRICES_MAX = ["三千以内", "2000以下", "不超过五千", "1000以内", "五百以下", "预算四千以内"]
PRICES_MIN = ["3000以上", "五千以上", "不低于两千"]
PRICES_AROUND = ["两千左右", "3000左右", "五百块左右", "一千五左右"]
# Question words that stand for the price, annotated as the hand-written examples do.
PRICE_QUESTIONS = ["多少钱", "什么价", "啥价", "几块钱"]


def _annotate(value: str, entity: str, role: str | None = None) -> str:
    if role:
        return f'[{value}]{{"entity": "{entity}", "role": "{role}"}}'
    return f"[{value}]({entity})"


def _names(graph: ProductGraph) -> dict[str, list[str]]:
    models = sorted({p.model for p in graph.products.values() if p.model})
    aliases = sorted({a for p in graph.products.values() for a in p.aliases})
    colours = sorted(
        {
            c
            for p in graph.products.values()
            for c in (p.attributes.get("颜色") or [])
            if isinstance(c, str)
        }
    )
    return {
        "product": models + aliases,
        "brand": sorted(graph.brands),
        "category": sorted(graph.categories),
        "attribute": sorted({k for specs in graph.schema.values() for k in specs if k != "颜色"}),
        "color": colours,
    }


def _fill(template: str, names: dict[str, list[str]], rng: random.Random) -> str:
    def pick(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot == "price_max":
            return _annotate(rng.choice(PRICES_MAX), "price", "max")
        if slot == "price_min":
            return _annotate(rng.choice(PRICES_MIN), "price", "min")
        if slot == "price_around":
            return _annotate(rng.choice(PRICES_AROUND), "price", "around")
        if slot == "price_question":
            word = rng.choice(PRICE_QUESTIONS)
            return f'[{word}]{{"entity": "attribute", "value": "价格"}}'
        return _annotate(rng.choice(names[slot]), slot)

    return re.sub(r"\{(\w+)\}", pick, template)


def _plain(example: str) -> str:
    return plain_text_and_spans(example)[0]


def handwritten_texts(nlu_dir: Path) -> set[str]:
    return {
        _plain(example).strip()
        for path in nlu_dir.glob("*.yml")
        for _, example in examples_by_intent(path)
    }


def generate(graph: ProductGraph, nlu_dir: Path, seed: int = 7) -> str:
    rng = random.Random(seed)
    names = _names(graph)
    taken = handwritten_texts(nlu_dir)
    blocks = []
    for intent, templates in (
        ("ask_attribute", ATTRIBUTE_TEMPLATES),
        ("search_product", SEARCH_TEMPLATES),
    ):
        examples: dict[str, None] = {}
        for attempt in range(PER_INTENT * 4):
            example = _fill(templates[attempt % len(templates)], names, rng)
            plain = _plain(example)
            if plain not in taken and "[" not in plain:
                examples[example] = None
                taken.add(plain)
            if len(examples) >= PER_INTENT:
                break
        blocks.append({"intent": intent, "examples": "".join(f"- {e}\n" for e in examples)})
    return yaml.safe_dump(
        {"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False, width=1000
    )
