"""What shoppers did: orders (after-sales answers) and behaviour events (recommendations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from knowledge_graph.tables.base import Base, utcnow


class Order(Base):
    __tablename__ = "orders"
    order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    carrier: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tracking_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    eta: Mapped[str | None] = mapped_column(String(32), nullable=True)
    address_city: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Event(Base):
    """Shopper behaviour (impressions, views, clicks, carts, purchases) for recommendations."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_user_ts", "user_id", "ts"),
        # The A/B report reads one experiment's events by arm (recommender/ab.py).
        Index("ix_events_experiment_arm", "experiment", "arm"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64), index=True)
    type: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="storefront")
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The A/B test arm (recommender/ab.py) that served the shopper when the event happened;
    # None outside an experiment.
    arm: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The experiment that arm belongs to (arm names repeat across experiments: ease vs als
    # twice); None outside an experiment and on arm rows recorded before it was kept (0009).
    experiment: Mapped[str | None] = mapped_column(String(64), nullable=True)
