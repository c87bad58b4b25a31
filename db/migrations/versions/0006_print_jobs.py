"""print jobs: a job table claimed per printer, printer leases, open staff alerts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # New tables only, no change to existing ones. Print jobs were per-process memory before:
    # nothing to carry over.
    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('printer', sa.String(length=64), nullable=False),
    sa.Column('kiosk', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('message', sa.String(length=300), nullable=True),
    sa.Column('alert', sa.Boolean(), nullable=False),
    sa.Column('alert_closed_at', sa.DateTime(), nullable=True),
    sa.Column('alert_closed_by', sa.Integer(), nullable=True),
    sa.Column('alert_resolution', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['alert_closed_by'], ['users.id'], name=op.f('fk_print_jobs_alert_closed_by_users')),
    sa.ForeignKeyConstraint(['area_id'], ['service_areas.id'], name=op.f('fk_print_jobs_area_id_service_areas')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_print_jobs_site_id_sites')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_print_jobs_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs')),
    sa.UniqueConstraint('uuid', name=op.f('uq_print_jobs_uuid'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_print_jobs_state_printer', ['state', 'printer'], unique=False)
        batch_op.create_index('ix_print_jobs_site_alert', ['site_id', 'alert'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_jobs_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('printer_leases',
    sa.Column('printer', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=True),
    sa.Column('until', sa.DateTime(), nullable=True),
    sa.Column('pace', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('printer', name=op.f('pk_printer_leases'))
    )


def downgrade():
    op.drop_table('printer_leases')
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_jobs_ticket_id'))
        batch_op.drop_index('ix_print_jobs_site_alert')
        batch_op.drop_index('ix_print_jobs_state_printer')

    op.drop_table('print_jobs')
