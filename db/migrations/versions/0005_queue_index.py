"""tickets: the queue index covers the people-ahead count (area first, then queued_at)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NEW = ['site_id', 'business_day', 'area_id', 'status', 'queued_at', 'priority']
OLD = ['site_id', 'business_day', 'status', 'area_id']


def upgrade():
    # Plain indexes only: no table is rebuilt. Counting the people ahead of a new ticket
    # now reads the index alone instead of one table row per waiting ticket.
    op.drop_index('ix_tickets_queue', table_name='tickets')
    op.create_index('ix_tickets_queue', 'tickets', NEW, unique=False)


def downgrade():
    op.drop_index('ix_tickets_queue', table_name='tickets')
    op.create_index('ix_tickets_queue', 'tickets', OLD, unique=False)
