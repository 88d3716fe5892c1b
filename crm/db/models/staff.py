from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base


class StaffRole(enum.StrEnum):
    # Viewers read, editors write, admins also delete and manage staff and settings.
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


ROLE_RANK = {StaffRole.VIEWER: 0, StaffRole.EDITOR: 1, StaffRole.ADMIN: 2}


class Staff(Audited, Base):
    """A member of the association's staff (salarié·e) with an account on the admin app."""

    __tablename__ = "staff"
    __audit_exclude__ = frozenset({"password_hash"})
    # A login is logged as such; the timestamp it updates is not a change of the account.
    __audit_ignore__ = frozenset({"last_login_at"})

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[StaffRole] = mapped_column(
        Enum(StaffRole, name="staff_role", values_callable=lambda e: [m.value for m in e]),
        default=StaffRole.VIEWER,
    )
    # argon2id; None until an invited person chooses a password.
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class StaffInvitation(Base):
    """A one-time link that lets an invited person choose their password. The token is an HMAC
    of the invitation's id under the secret key, so the job that sends it needs only the id; the
    database keeps the token's hash, to find the invitation when the link comes back."""

    __tablename__ = "staff_invitation"

    staff_id: Mapped[UUID] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    invited_by_id: Mapped[UUID | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    used_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
