"""appointments: booking rules per site and area, slot places, bookings (no personal data)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-04 20:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # New tables only, no change to existing ones.
    op.create_table('appointment_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('offered', sa.Boolean(), nullable=False),
    sa.Column('remote', sa.Boolean(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('hours', sa.JSON(), nullable=True),
    sa.Column('days_ahead', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['service_areas.id'], name=op.f('fk_appointment_rules_area_id_service_areas')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_appointment_rules_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_rules')),
    sa.UniqueConstraint('site_id', 'area_id', name=op.f('uq_appointment_rules_site_id_area_id'))
    )
    op.create_table('appointment_slots',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['service_areas.id'], name=op.f('fk_appointment_slots_area_id_service_areas')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_appointment_slots_site_id_sites')),
    sa.PrimaryKeyConstraint('site_id', 'area_id', 'starts_at', name=op.f('pk_appointment_slots'))
    )
    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('slot_start', sa.DateTime(), nullable=True),
    sa.Column('slot_end', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('address_key', sa.String(length=64), nullable=True),
    sa.Column('browser_key', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['service_areas.id'], name=op.f('fk_appointments_area_id_service_areas')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_appointments_site_id_sites')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_appointments_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments')),
    sa.UniqueConstraint('code', name=op.f('uq_appointments_code')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_appointments_token_hash')),
    sa.UniqueConstraint('uuid', name=op.f('uq_appointments_uuid'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_day', ['site_id', 'business_day', 'area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_address_key'), ['address_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_browser_key'), ['browser_key'], unique=False)


def downgrade():
    op.drop_table('appointments')
    op.drop_table('appointment_slots')
    op.drop_table('appointment_rules')
