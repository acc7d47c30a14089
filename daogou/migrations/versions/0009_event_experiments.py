"""events: the A/B test's experiment beside its arm

Rows recorded before keep experiment NULL: which experiment served them is not known (arm
names repeat across experiments), so the report counts them only when asked for.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-16 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("experiment", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_events_experiment_arm", ["experiment", "arm"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_experiment_arm")
        batch_op.drop_column("experiment")
