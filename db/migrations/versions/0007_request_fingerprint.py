"""tickets: the fingerprint of the request that issued the ticket (Idempotency-Key reuse)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column: no table is rebuilt; tickets issued before it have no fingerprint
    # and a retry of theirs is answered as before.
    op.add_column('tickets', sa.Column('request_hash', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_column('request_hash')
