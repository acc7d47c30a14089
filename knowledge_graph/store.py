"""The catalog store: the database behind the product graph (SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from knowledge_graph.product import Product, ProductDetail, RelationRef
from knowledge_graph.tables import (
    AttributeDef,
    AuditEntry,
    Base,
    Brand,
    CatalogVersion,
    Category,
    Merchant,
    ProductRow,
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
# Audit entries that record a read, not a change: an admin revealing a shopper's masked
# message (web/routes/conversations.py). Kept out of the catalog's change log.
ACCESS_ACTIONS = frozenset({"unmask"})


class NotFound(LookupError):
    pass


class Conflict(RuntimeError):
    """An edit started from an older revision than the one stored."""


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL and a busy timeout because several processes share the file,
    and commits synced at checkpoints (synchronous=NORMAL, as the tracker store and the review
    index): with WAL that cannot corrupt the file; a power cut may lose the last commits, a crash
    of a process loses nothing. A commit waited 3-4 ms on a busy disk for 0.9 ms of work."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # An unreachable host fails in seconds instead of the OS's minutes: the catalog service
    # then serves its last view and /health says degraded (knowledge_graph/service.py).
    connect_args = {"connect_timeout": 3} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def product_from_row(row: ProductRow) -> Product:
    values = {name: getattr(row, name) for name in PRODUCT_FIELDS}
    return Product(**values, revision=row.revision)


@dataclass
class CatalogSnapshot:
    """Everything the graph needs, read in one transaction."""

    version: int
    products: list[Product]
    brands: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    attribute_defs: list[dict[str, Any]]
    relations: list[tuple[str, str, str]]
    merchants: dict[str, str] = field(default_factory=dict)


@dataclass
class ProductPage:
    items: list[Product]
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
            return session.scalar(select(func.count()).select_from(ProductRow)) == 0

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
                ProductRow(**{k: p.get(k) for k in PRODUCT_FIELDS}) for p in catalog["products"]
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
            products = [product_from_row(p) for p in session.scalars(select(ProductRow))]
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
        merchant_id: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> ProductPage:
        """Filtered and paged by SKU; `q` matches title, brand, model or SKU; `merchant_id` one
        merchant's products (the merchant console)."""
        conditions = []
        if merchant_id is not None:
            conditions.append(ProductRow.merchant_id == merchant_id)
        if category:
            conditions.append(ProductRow.category == category)
        if brand:
            conditions.append(ProductRow.brand == brand)
        if min_price is not None:
            conditions.append(ProductRow.price >= min_price)
        if max_price is not None:
            conditions.append(ProductRow.price <= max_price)
        if q:
            pattern = f"%{q}%"
            conditions.append(
                or_(
                    ProductRow.title.ilike(pattern),
                    ProductRow.brand.ilike(pattern),
                    ProductRow.model.ilike(pattern),
                    ProductRow.sku.ilike(pattern),
                )
            )
        with self._sessions() as session:
            total = session.scalar(select(func.count()).select_from(ProductRow).where(*conditions))
            rows = session.scalars(
                select(ProductRow)
                .where(*conditions)
                .order_by(ProductRow.sku)
                .limit(limit)
                .offset(offset)
            )
            return ProductPage(items=[product_from_row(p) for p in rows], total=int(total or 0))

    def get_product(self, sku: str) -> ProductDetail:
        with self._sessions() as session:
            row = session.get(ProductRow, sku)
            if row is None:
                raise NotFound(sku)
            outgoing = session.scalars(select(Relation).where(Relation.source_sku == sku))
            incoming = session.scalars(select(Relation).where(Relation.target_sku == sku))
            relations = [RelationRef(r.type, r.target_sku, "out") for r in outgoing]
            relations += [RelationRef(r.type, r.source_sku, "in") for r in incoming]
            return ProductDetail(product_from_row(row), tuple(relations))

    # -- writes ------------------------------------------------------------------
    # Every write bumps the catalog version (each process reloads within a second) and leaves
    # one audit entry, in the same transaction: who, what, and the product before and after.
    def create_product(self, data: dict[str, Any], actor: str = "system") -> Product:
        values = {k: v for k, v in data.items() if k in PRODUCT_FIELDS}
        with self.session() as session:
            if session.get(ProductRow, values.get("sku")) is not None:
                raise Conflict(f"{values.get('sku')} exists already")
            _check_references(session, values)
            row = ProductRow(**values)
            session.add(row)
            session.flush()
            product = product_from_row(row)
            _audit(session, actor, "create", None, product)
            self.bump_version(session)
            return product

    def update_product(
        self,
        sku: str,
        changes: dict[str, Any],
        expected_revision: int | None = None,
        actor: str = "system",
    ) -> Product:
        """Applies field changes; raises Conflict if someone else saved since `expected_revision`."""
        allowed = {k: v for k, v in changes.items() if k in PRODUCT_FIELDS and k != "sku"}
        with self.session() as session:
            row = session.get(ProductRow, sku, with_for_update=True)
            if row is None:
                raise NotFound(sku)
            if expected_revision is not None and row.revision != expected_revision:
                raise Conflict(f"{sku} is at revision {row.revision}, not {expected_revision}")
            before = product_from_row(row)
            _check_references(session, {**before.to_dict(), **allowed})
            for key, value in allowed.items():
                setattr(row, key, value)
            row.revision += 1
            session.flush()
            after = product_from_row(row)
            _audit(session, actor, "update", before, after)
            self.bump_version(session)
            return after

    def delete_product(self, sku: str, actor: str = "system") -> None:
        with self.session() as session:
            row = session.get(ProductRow, sku)
            if row is None:
                raise NotFound(sku)
            before = product_from_row(row)
            session.execute(
                delete(Relation).where(or_(Relation.source_sku == sku, Relation.target_sku == sku))
            )
            session.execute(delete(ProductRow).where(ProductRow.sku == sku))
            _audit(session, actor, "delete", before, None)
            self.bump_version(session)

    def audit_log(
        self,
        *,
        merchant_id: str | None = None,
        target: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[AuditRecord], int]:
        """The catalog's changes, newest first; `merchant_id` narrows it to one merchant's
        products. Reads of personal data (`access_log`) share the table, not this list."""
        conditions = [AuditEntry.action.not_in(ACCESS_ACTIONS)]
        if merchant_id is not None:
            conditions.append(AuditEntry.merchant_id == merchant_id)
        if target is not None:
            conditions.append(AuditEntry.target == target)
        with self._sessions() as session:
            rows, total = newest_page(session, AuditEntry, conditions, limit, offset)
            records = [
                AuditRecord(
                    r.id,
                    r.actor,
                    r.action,
                    r.target,
                    r.merchant_id,
                    r.ts,
                    r.detail.get("before"),
                    r.detail.get("after"),
                )  # fmt: skip
                for r in rows
            ]
        return records, total

    # -- reads of personal data: an admin revealing what the console shows masked ------------
    def record_access(
        self, actor: str, action: str, target: str, detail: dict[str, Any]
    ) -> AccessRecord:
        """Logs one read of personal data (`action` one of ACCESS_ACTIONS, `target` whose data)
        before the caller shows it; `detail` says which and why, never the data itself."""
        if action not in ACCESS_ACTIONS:
            raise ValueError(f"not an access action: {action}")
        with self.session() as session:
            row = AuditEntry(actor=actor, action=action, target=target, detail=detail)
            session.add(row)
            session.flush()
            return _access(row)

    def access_log(
        self, *, action: str, target: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[AccessRecord], int]:
        """Reads of personal data of one kind, newest first; `target` narrows it to one
        shopper's."""
        conditions = [AuditEntry.action == action]
        if target is not None:
            conditions.append(AuditEntry.target == target)
        with self._sessions() as session:
            rows, total = newest_page(session, AuditEntry, conditions, limit, offset)
            return [_access(r) for r in rows], total

    # -- relations, and one merchant's products (the merchant console) ----------------------
    def add_relation(
        self, sku: str, relation_type: str, target: str, actor: str = "system"
    ) -> None:
        """Adds `sku` -[relation_type]-> `target` (a symmetric type counts in both directions),
        audited on `sku` with its relations before and after; bumps the catalog version.
        Raises NotFound (either product), InvalidProduct (a bad type or a self-relation) or
        Conflict (the relation exists already)."""
        if relation_type not in RELATION_TYPES:
            raise InvalidProduct("type", f"没有这种关系：{relation_type}")
        if sku == target:
            raise InvalidProduct("target", "商品不能和自己建立关系")
        with self.session() as session:
            row = session.get(ProductRow, sku, with_for_update=True)
            if row is None:
                raise NotFound(sku)
            if session.get(ProductRow, target) is None:
                raise NotFound(target)
            pairs = [(sku, target)]
            if relation_type in SYMMETRIC_RELATION_TYPES:
                pairs.append((target, sku))
            existing = session.scalar(
                select(func.count())
                .select_from(Relation)
                .where(
                    Relation.type == relation_type,
                    or_(*(
                        (Relation.source_sku == s) & (Relation.target_sku == t) for s, t in pairs
                    )),
                )
            )  # fmt: skip
            if existing:
                raise Conflict(f"{sku} {relation_type} {target} exists already")
            before = _relations_of(session, sku)
            session.add(Relation(source_sku=sku, target_sku=target, type=relation_type))
            session.flush()
            _audit_relations(
                session,
                actor,
                "relation_add",
                product_from_row(row),
                before,
                _relations_of(session, sku),
            )
            self.bump_version(session)

    def remove_relation(
        self, sku: str, relation_type: str, target: str, actor: str = "system"
    ) -> None:
        """Removes the relation between `sku` and `target` of that type (stored from `sku`, or
        from `target` for a symmetric type), audited on `sku`; NotFound when there is none."""
        with self.session() as session:
            row = session.get(ProductRow, sku, with_for_update=True)
            if row is None:
                raise NotFound(sku)
            pairs = [(sku, target)]
            if relation_type in SYMMETRIC_RELATION_TYPES:
                pairs.append((target, sku))
            condition = or_(
                *((Relation.source_sku == s) & (Relation.target_sku == t) for s, t in pairs)
            )
            before = _relations_of(session, sku)
            removed = session.execute(
                delete(Relation).where(Relation.type == relation_type, condition)
            ).rowcount
            if not removed:
                raise NotFound(f"{sku} {relation_type} {target}")
            _audit_relations(
                session,
                actor,
                "relation_remove",
                product_from_row(row),
                before,
                _relations_of(session, sku),
            )
            self.bump_version(session)


class InvalidProduct(ValueError):
    """A product that names what the catalog does not have (category, merchant)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class AuditRecord:
    id: int
    actor: str
    action: str
    target: str
    merchant_id: str | None
    ts: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AccessRecord:
    """One read of personal data: who, when, whose (`target`, a sender id) and `detail` (which
    message and the reason given)."""

    id: int
    actor: str
    action: str
    target: str
    ts: datetime
    detail: dict[str, Any]


def _access(row: AuditEntry) -> AccessRecord:
    ts = row.ts if row.ts.tzinfo else row.ts.replace(tzinfo=UTC)  # SQLite drops the zone
    return AccessRecord(row.id, row.actor, row.action, row.target, ts, dict(row.detail or {}))


def _check_references(session: Session, values: dict[str, Any]) -> None:
    """The category and merchant must exist; a brand the catalog does not know yet is added
    (merchants sell new brands every season)."""
    category = values.get("category")
    if category is None or session.get(Category, category) is None:
        raise InvalidProduct("category", f"没有这个品类：{category}")
    if session.get(Merchant, values.get("merchant_id")) is None:
        raise InvalidProduct("merchant_id", f"没有这个商家：{values.get('merchant_id')}")
    brand = values.get("brand")
    if not brand:
        raise InvalidProduct("brand", "品牌不能为空")
    if session.get(Brand, brand) is None:
        session.add(Brand(name=brand, aliases=[]))
        session.flush()


def _audit(
    session: Session, actor: str, action: str, before: Product | None, after: Product | None
) -> None:
    product = after or before
    assert product is not None
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            target=product.sku,
            merchant_id=product.merchant_id,
            detail={
                "before": before.to_dict() if before else None,
                "after": after.to_dict() if after else None,
            },
        )
    )


# -- relations (the merchant console) ---------------------------------------------------------
SYMMETRIC_RELATION_TYPES = frozenset({"SAME_SERIES", "ALTERNATIVE_TO", "BUNDLE_WITH"})


def _relations_of(session: Session, sku: str) -> list[dict[str, str]]:
    """A product's relations as the audit log keeps them: sorted, one dict per edge."""
    rows = session.scalars(
        select(Relation).where(or_(Relation.source_sku == sku, Relation.target_sku == sku))
    )
    edges = [{"type": r.type, "source": r.source_sku, "target": r.target_sku} for r in rows]
    return sorted(edges, key=lambda e: (e["type"], e["source"], e["target"]))


def _audit_relations(
    session: Session, actor: str, action: str, product: Product, before: list, after: list
) -> None:
    data = product.to_dict()
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            target=product.sku,
            merchant_id=product.merchant_id,
            detail={"before": {**data, "relations": before}, "after": {**data, "relations": after}},
        )
    )


def newest_page(
    session: Session, table: Any, conditions: list[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of a table's rows matching ``conditions``, newest (highest id) first, and how
    many match in all: the audit log, the annotation inbox."""
    total = session.scalar(select(func.count()).select_from(table).where(*conditions))
    rows = session.scalars(
        select(table).where(*conditions).order_by(table.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total or 0)
