"""Pydantic models for API requests and responses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ProductOut(BaseModel):
    sku: str
    title: str
    brand: str
    category: str
    price: float
    attributes: dict[str, Any]
    tags: list[str]
    description: str
    stock: int
    rating: float
    merchant_id: str
    image: str | None = None
    series: str | None = None
    model: str | None = None
    aliases: list[str] = Field(default_factory=list)
    revision: int = 1


class RelationOut(BaseModel):
    type: str
    sku: str
    direction: str


class ProductDetailOut(ProductOut):
    relations: list[RelationOut] = Field(default_factory=list)


class ProductList(BaseModel):
    items: list[ProductOut]
    total: int


class ChatIn(BaseModel):
    sender: str = Field(min_length=1, max_length=128)
    message: str = Field(max_length=20000)


class Health(BaseModel):
    status: str
    components: dict[str, str]
