from __future__ import annotations

from uuid import UUID

from pydantic import Field

from crm.db.models.staff import StaffRole
from crm.lib.schemas import Schema


class LoginRequest(Schema):
    # Not the Email type: a malformed address is simply a failed login, not a hint.
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class Me(Schema):
    id: UUID
    email: str
    name: str
    role: StaffRole
    csrf_token: str = Field(description="Send it back in the X-CSRF-Token header on every write")


class AcceptInvitation(Schema):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
