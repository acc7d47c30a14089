"""The catalog: products, their taxonomy, brands, attribute definitions and relations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from knowledge_graph.tables.base import Base, utcnow


class CatalogVersion(Base):
    """One row; its `version` goes up on every catalog change so readers know to reload."""

    __tablename__ = "catalog_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Merchant(Base):
    __tablename__ = "merchants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Category(Base):
    __tablename__ = "categories"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)


class Brand(Base):
    __tablename__ = "brands"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    origin: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AttributeDef(Base):
    """Per-category attribute schema: type, unit, which direction is better, shoppers' words."""

    __tablename__ = "attribute_defs"
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(16), default="text")
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    better: Mapped[str | None] = mapped_column(String(8), nullable=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)


class ProductRow(Base):
    __tablename__ = "products"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    brand: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    series: Mapped[str | None] = mapped_column(String(120), nullable=True)
    model: Mapped[str | None] = mapped_column(String(120), nullable=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    price: Mapped[float] = mapped_column(Numeric(12, 2, asdecimal=False), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    stock: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[float] = mapped_column(Float, default=0.0)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    image: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Optimistic concurrency: an edit names the revision it started from.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Relation(Base):
    __tablename__ = "relations"
    __table_args__ = (UniqueConstraint("source_sku", "target_sku", "type"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_sku: Mapped[str] = mapped_column(
        ForeignKey("products.sku", ondelete="CASCADE"), index=True
    )
    target_sku: Mapped[str] = mapped_column(
        ForeignKey("products.sku", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
