"""排摸 tasks: tasks, task rows (routing and answers), task events; 最多查一次 shop visits

Revision ID: 0003_tasks
Revises: 0002_citizen_reports
Create Date: 2026-12-03 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_tasks"
down_revision: str | None = "0002_citizen_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("checklist_yaml", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("list_name", sa.String(length=256), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("report_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "task_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("match_status", sa.String(length=16), nullable=False),
        sa.Column("match_rule", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("suggested_community", sa.String(length=12), nullable=True),
        sa.Column("person_id", sa.String(length=32), nullable=True),
        sa.Column("household_id", sa.String(length=32), nullable=True),
        sa.Column("street_code", sa.String(length=12), nullable=True),
        sa.Column("community_code", sa.String(length=12), nullable=True),
        sa.Column("walk_key", sa.String(length=200), nullable=True),
        sa.Column("address_shown", sa.String(length=256), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_user_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.ForeignKeyConstraint(["answered_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "source_row"),
    )
    with op.batch_alter_table("task_rows", schema=None) as batch_op:
        batch_op.create_index("ix_task_rows_task_id", ["task_id"], unique=False)
        batch_op.create_index("ix_task_rows_scope", ["task_id", "community_code", "status"], unique=False)
        batch_op.create_index("ix_task_rows_street", ["task_id", "street_code"], unique=False)
    op.create_table(
        "task_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_community", sa.String(length=12), nullable=True),
        sa.Column("to_community", sa.String(length=12), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"]),
        sa.ForeignKeyConstraint(["row_id"], ["task_rows.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_events", schema=None) as batch_op:
        batch_op.create_index("ix_task_events_task_id", ["task_id"], unique=False)
        batch_op.create_index("ix_task_events_row_id", ["row_id"], unique=False)

    op.create_table(
        "shop_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("shop_code", sa.String(length=20), nullable=False),
        sa.Column("street_code", sa.String(length=12), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("sign_name", sa.String(length=200), nullable=False),
        sa.Column("registered_name", sa.String(length=200), nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("business_address", sa.String(length=256), nullable=False),
        sa.Column("licence_no", sa.String(length=64), nullable=True),
        sa.Column("licence_valid_until", sa.String(length=10), nullable=True),
        sa.Column("contact_name", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("business_format", sa.String(length=32), nullable=False),
        sa.Column("inspection_result", sa.String(length=16), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("visitor", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_in", sa.String(length=7), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("shop_visits", schema=None) as batch_op:
        batch_op.create_index("ix_shop_visits_scope", ["community_code", "shop_code"], unique=False)


def downgrade() -> None:
    op.drop_table("shop_visits")
    op.drop_table("task_events")
    op.drop_table("task_rows")
    op.drop_table("tasks")
