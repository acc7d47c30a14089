"""shopper consents

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shopper_consents",
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id"),
    )


def downgrade() -> None:
    op.drop_table("shopper_consents")
