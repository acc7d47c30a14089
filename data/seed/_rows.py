"""Small helpers the category tables share: compact row notation and product drafts.

A *draft* is a product before the generator adds what is derived (sku, the full
alias list, description, stock, rating, merchant). Its `key` names the model
line (unique over the whole catalog, ASCII); `variant` tells variants apart.
"""

from __future__ import annotations

from typing import Any

from data.seed.brands import BRAND_BY_NAME, TITLE_NAMES

Draft = dict[str, Any]


def words(text: str) -> list[str]:
    """'黑色 白色' -> ['黑色', '白色']: colour and tag lists are written space-separated."""
    return text.split()


def alias_list(text: str) -> list[str]:
    """Aliases may contain spaces ('mate 60 pro'), so they are written '|'-separated."""
    return [part.strip() for part in text.split("|") if part.strip()]


def title_brand(brand: str) -> str:
    return TITLE_NAMES.get(brand, brand)


def display_name(brand: str, model: str) -> str:
    """'小米14' and 'Apple Watch' stay as they are, 'Mate 60 Pro' becomes '华为 Mate 60 Pro'."""
    if any(model.lower().startswith(name.lower()) for name in (brand, title_brand(brand))):
        return model
    return f"{title_brand(brand)} {model}"


def storage_label(gigabytes: int) -> str:
    return f"{gigabytes // 1024}TB" if gigabytes >= 1024 else f"{gigabytes}GB"


def parse_configs(text: str) -> list[tuple[int, int, float]]:
    """'12+256:6499 12+1024:7999' -> [(12, 256, 6499.0), (12, 1024, 7999.0)]."""
    configs = []
    for item in text.split():
        memory, price = item.split(":")
        ram, storage = memory.split("+")
        configs.append((int(ram), int(storage), float(price)))
    return configs


def storage_variants(configs: list[tuple[int, int, float]]) -> list[str]:
    """Sku suffixes: the storage ('512', '1TB'), with the RAM when storage alone repeats."""
    storages = [storage for _, storage, _ in configs]
    codes = []
    for ram, storage, _ in configs:
        code = storage_label(storage).replace("GB", "")
        codes.append(f"{ram}G{code}" if storages.count(storage) > 1 else code)
    return codes


def draft(
    *,
    key: str,
    brand: str,
    title: str,
    price: float,
    attributes: dict[str, Any],
    tags: str | list[str] = "",
    aliases: str | list[str] = "",
    series: str | None = None,
    model: str | None = None,
    variant: str | None = None,
    **extra: Any,
) -> Draft:
    """One product draft; `extra` carries relation hints (compat, accessory_of, kind)."""
    if brand not in BRAND_BY_NAME:
        raise KeyError(f"unknown brand {brand!r} in {key}")
    return {
        "key": key,
        "variant": variant,
        "brand": brand,
        "title": title,
        "series": series,
        "model": model,
        "price": float(price),
        "attributes": {k: v for k, v in attributes.items() if v is not None},
        "tags": words(tags) if isinstance(tags, str) else list(tags),
        "aliases": alias_list(aliases) if isinstance(aliases, str) else list(aliases),
        **extra,
    }
