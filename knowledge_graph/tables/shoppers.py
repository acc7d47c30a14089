"""What shoppers decided about their own data: consent to personal recommendations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from knowledge_graph.tables.base import Base, utcnow


class ShopperConsent(Base):
    """A shopper's answer to the widget's consent notice (knowledge_graph/consent.py): whether
    their browsing and chat history may personalise recommendations. No row: not asked or not
    answered yet, which counts as no."""

    __tablename__ = "shopper_consents"
    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
