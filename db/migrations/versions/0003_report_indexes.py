"""reports: covering indexes on tickets and ratings, transfers by kind and time

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TICKET_COLUMNS = [
    'business_day', 'site_id', 'area_id', 'officer_id', 'counter_id', 'status',
    'issued_at', 'first_called_at', 'started_at', 'finished_at',
]
RATING_COLUMNS = ['rated_at', 'site_id', 'area_id', 'officer_id', 'counter_id', 'scale', 'level']


def upgrade():
    # Plain indexes only: no table is rebuilt (a hall keeps its data while upgrading).
    op.create_index('ix_tickets_report', 'tickets', TICKET_COLUMNS, unique=False)
    op.create_index('ix_ticket_events_kind_at', 'ticket_events', ['kind', 'at'], unique=False)
    op.create_index('ix_ratings_report', 'ratings', RATING_COLUMNS, unique=False)


def downgrade():
    op.drop_index('ix_ratings_report', table_name='ratings')
    op.drop_index('ix_ticket_events_kind_at', table_name='ticket_events')
    op.drop_index('ix_tickets_report', table_name='tickets')
