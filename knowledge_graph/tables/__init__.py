"""Every table the project owns, split by concern; importing the package registers them all
on ``Base.metadata`` (what Alembic and ``CatalogStore.create_schema`` create)."""

from knowledge_graph.tables.base import Base, utcnow
from knowledge_graph.tables.catalog import (
    AttributeDef,
    Brand,
    CatalogVersion,
    Category,
    Merchant,
    ProductRow,
    Relation,
)
from knowledge_graph.tables.commerce import Event, Order
from knowledge_graph.tables.shoppers import ShopperConsent
from knowledge_graph.tables.staff import (
    Account,
    Annotation,
    AuditEntry,
    CannedReply,
    ConversationFlag,
    ConversationReview,
    Handoff,
    LoginFailure,
    StaffSession,
)

__all__ = [
    "Account",
    "Annotation",
    "AttributeDef",
    "AuditEntry",
    "Base",
    "Brand",
    "CannedReply",
    "CatalogVersion",
    "Category",
    "ConversationFlag",
    "ConversationReview",
    "Event",
    "Handoff",
    "LoginFailure",
    "Merchant",
    "Order",
    "ProductRow",
    "Relation",
    "ShopperConsent",
    "StaffSession",
    "utcnow",
]
