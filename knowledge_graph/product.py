"""The product as every package sees it: one frozen, typed record read from the catalog store.

The store builds these from its table rows; the graph, search, recommender, actions and the web
app pass them around and never change them (a merchant's edit goes through the store and a new
catalog version). ``to_dict`` is the JSON shape of the API and of the action server's payloads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    title: str
    brand: str
    category: str
    price: float
    stock: int = 0
    rating: float = 0.0
    merchant_id: str = ""
    # Category-specific specs as the attribute schema names them (颜色, 容量, 尺码 ...).
    attributes: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    description: str = ""
    model: str | None = None
    series: str | None = None
    aliases: tuple[str, ...] = ()
    image: str | None = None
    revision: int = 1

    def __post_init__(self) -> None:
        # Normalised once here, so readers never write `p.attributes or {}` or tuple(p.tags).
        set_field = object.__setattr__
        set_field(self, "attributes", dict(self.attributes or {}))
        set_field(self, "tags", tuple(self.tags or ()))
        set_field(self, "aliases", tuple(self.aliases or ()))
        set_field(self, "price", float(self.price))
        set_field(self, "description", self.description or "")

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def model_or_title(self) -> str:
        """What a shopper calls the product: its model name where it has one."""
        return self.model or self.title

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (lists, not tuples) of the API and the bot's product cards."""
        data = asdict(self)
        data["attributes"] = dict(self.attributes)
        data["tags"] = list(self.tags)
        data["aliases"] = list(self.aliases)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Product:
        """From the store's or the API's JSON; keys that are not product fields are ignored."""
        return cls(**{name: data[name] for name in FIELD_NAMES if name in data})


FIELD_NAMES = tuple(f.name for f in fields(Product))


@dataclass(frozen=True, slots=True)
class RelationRef:
    """One catalog relation seen from a product: `direction` "out" when the product is the
    relation's source (its ACCESSORY_OF target is a device), "in" when it is the target."""

    type: str
    sku: str
    direction: str


@dataclass(frozen=True, slots=True)
class ProductDetail:
    product: Product
    relations: tuple[RelationRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Suggested(Product):
    """A product shown with why it is suggested: the recommender's reason, printed on its card."""

    reason: str = ""

    @classmethod
    def of(cls, product: Product, reason: str) -> Suggested:
        return cls(**{name: getattr(product, name) for name in FIELD_NAMES}, reason=reason)
