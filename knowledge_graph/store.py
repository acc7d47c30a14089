"""The catalog store: the database behind the product graph (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from knowledge_graph.tables import (
    AttributeDef,
    Base,
    Brand,
    CatalogVersion,
    Category,
    Merchant,
    Product,
    Relation,
)

PRODUCT_FIELDS = (
    "sku",
    "title",
    "brand",
    "category",
    "price",
    "attributes",
    "tags",
    "description",
    "stock",
    "rating",
    "merchant_id",
    "image",
    "series",
    "model",
    "aliases",
)
RELATION_TYPES = ("ACCESSORY_OF", "COMPATIBLE_WITH", "SAME_SERIES", "ALTERNATIVE_TO", "BUNDLE_WITH")


class NotFound(LookupError):
    pass


class Conflict(RuntimeError):
    """An edit started from an older revision than the one stored."""


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL and a busy timeout because several processes share the file."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def product_to_dict(product: Product) -> dict[str, Any]:
    data = {name: getattr(product, name) for name in PRODUCT_FIELDS}
    data["price"] = float(product.price)
    data["revision"] = product.revision
    return data


@dataclass
class CatalogSnapshot:
    """Everything the graph needs, read in one transaction."""

    version: int
    products: list[dict[str, Any]]
    brands: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    attribute_defs: list[dict[str, Any]]
    relations: list[tuple[str, str, str]]
    merchants: dict[str, str] = field(default_factory=dict)


@dataclass
class ProductPage:
    items: list[dict[str, Any]]
    total: int


class CatalogStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> CatalogStore:
        return cls(make_engine(url))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def create_schema(self) -> None:
        """For tests and throwaway databases; real databases are migrated by Alembic."""
        Base.metadata.create_all(self.engine)

    # -- version -----------------------------------------------------------------
    def version(self) -> int:
        with self._sessions() as session:
            row = session.get(CatalogVersion, 1)
            return row.version if row else 0

    @staticmethod
    def bump_version(session: Session) -> None:
        row = session.get(CatalogVersion, 1)
        if row is None:
            session.add(CatalogVersion(id=1, version=1))
        else:
            session.execute(
                update(CatalogVersion)
                .where(CatalogVersion.id == 1)
                .values(version=CatalogVersion.version + 1, updated_at=func.now())
            )

    # -- seeding -----------------------------------------------------------------
    def is_empty(self) -> bool:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(Product)) == 0

    def load_catalog(self, catalog: dict[str, Any]) -> None:
        """Loads a catalog document (data/generate_catalog.py's shape) into an empty store.
        Its orders are the order store's (``knowledge_graph.orders``)."""
        with self.session() as session:
            session.add_all(Merchant(id=m["id"], name=m["name"]) for m in catalog["merchants"])
            session.add_all(
                Category(name=c["name"], parent=c.get("parent"), aliases=c.get("aliases", []))
                for c in catalog["categories"]
            )
            session.add_all(
                Brand(name=b["name"], aliases=b.get("aliases", []), origin=b.get("origin"))
                for b in catalog["brands"]
            )
            for category, attrs in catalog["attribute_schema"].items():
                session.add_all(
                    AttributeDef(
                        category=category,
                        key=key,
                        type=spec.get("type", "text"),
                        unit=spec.get("unit"),
                        better=spec.get("better"),
                        aliases=spec.get("aliases", []),
                    )
                    for key, spec in attrs.items()
                )
            session.flush()
            session.add_all(
                Product(**{k: p.get(k) for k in PRODUCT_FIELDS}) for p in catalog["products"]
            )
            session.flush()
            session.add_all(
                Relation(source_sku=r["source"], target_sku=r["target"], type=r["type"])
                for r in catalog["relations"]
            )
            self.bump_version(session)

    # -- reads -------------------------------------------------------------------
    def snapshot(self) -> CatalogSnapshot:
        with self._sessions() as session, session.begin():
            row = session.get(CatalogVersion, 1)
            products = [product_to_dict(p) for p in session.scalars(select(Product))]
            brands = [
                {"name": b.name, "aliases": b.aliases or [], "origin": b.origin}
                for b in session.scalars(select(Brand))
            ]
            categories = [
                {"name": c.name, "parent": c.parent, "aliases": c.aliases or []}
                for c in session.scalars(select(Category))
            ]
            attribute_defs = [
                {
                    "category": a.category,
                    "key": a.key,
                    "type": a.type,
                    "unit": a.unit,
                    "better": a.better,
                    "aliases": a.aliases or [],
                }
                for a in session.scalars(select(AttributeDef))
            ]
            relations = [
                (r.source_sku, r.target_sku, r.type) for r in session.scalars(select(Relation))
            ]
            merchants = {m.id: m.name for m in session.scalars(select(Merchant))}
        return CatalogSnapshot(
            version=row.version if row else 0,
            products=products,
            brands=brands,
            categories=categories,
            attribute_defs=attribute_defs,
            relations=relations,
            merchants=merchants,
        )

    def list_products(
        self,
        *,
        category: str | None = None,
        brand: str | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
        q: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> ProductPage:
        conditions = []
        if category:
            conditions.append(Product.category == category)
        if brand:
            conditions.append(Product.brand == brand)
        if min_price is not None:
            conditions.append(Product.price >= min_price)
        if max_price is not None:
            conditions.append(Product.price <= max_price)
        if q:
            pattern = f"%{q}%"
            conditions.append(
                or_(
                    Product.title.ilike(pattern),
                    Product.brand.ilike(pattern),
                    Product.model.ilike(pattern),
                )
            )
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(Product).where(*conditions))
            rows = session.scalars(
                select(Product).where(*conditions).order_by(Product.sku).limit(limit).offset(offset)
            )
            return ProductPage(items=[product_to_dict(p) for p in rows], total=int(total or 0))

    def get_product(self, sku: str) -> dict[str, Any]:
        with self._sessions() as session:
            product = session.get(Product, sku)
            if product is None:
                raise NotFound(sku)
            data = product_to_dict(product)
            outgoing = session.scalars(select(Relation).where(Relation.source_sku == sku))
            incoming = session.scalars(select(Relation).where(Relation.target_sku == sku))
            data["relations"] = [
                {"type": r.type, "sku": r.target_sku, "direction": "out"} for r in outgoing
            ] + [{"type": r.type, "sku": r.source_sku, "direction": "in"} for r in incoming]
            return data

    # -- writes ------------------------------------------------------------------
    def update_product(
        self, sku: str, changes: dict[str, Any], expected_revision: int | None = None
    ) -> dict[str, Any]:
        """Applies field changes; raises Conflict if someone else saved since `expected_revision`."""
        allowed = {k: v for k, v in changes.items() if k in PRODUCT_FIELDS and k != "sku"}
        with self.session() as session:
            product = session.get(Product, sku, with_for_update=True)
            if product is None:
                raise NotFound(sku)
            if expected_revision is not None and product.revision != expected_revision:
                raise Conflict(f"{sku} is at revision {product.revision}, not {expected_revision}")
            for key, value in allowed.items():
                setattr(product, key, value)
            product.revision += 1
            self.bump_version(session)
            session.flush()
            return product_to_dict(product)

    def delete_product(self, sku: str) -> None:
        with self.session() as session:
            if session.get(Product, sku) is None:
                raise NotFound(sku)
            session.execute(
                delete(Relation).where(or_(Relation.source_sku == sku, Relation.target_sku == sku))
            )
            session.execute(delete(Product).where(Product.sku == sku))
            self.bump_version(session)
