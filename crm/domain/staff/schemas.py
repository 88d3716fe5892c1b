from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from crm.db.models.staff import StaffRole
from crm.lib.schemas import Email, Schema, SingleLine


class StaffRead(Schema):
    id: UUID
    email: str
    name: str
    role: StaffRole
    is_active: bool
    has_password: bool = Field(description="False while an invitation is pending")
    last_login_at: datetime | None
    created_at: datetime


class StaffInvite(Schema):
    email: Email
    name: SingleLine = Field(default="", max_length=200)
    role: StaffRole = StaffRole.VIEWER


class StaffUpdate(Schema):
    name: SingleLine | None = Field(default=None, max_length=200)
    role: StaffRole | None = None
    is_active: bool | None = None
