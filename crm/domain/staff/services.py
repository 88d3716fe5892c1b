"""Staff accounts: creation, invitation, roles, deactivation, password checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, or_, select
from uuid_utils.compat import uuid7

from crm.db.models.staff import Staff, StaffInvitation, StaffRole
from crm.lib.links import invitation_token
from crm.lib.listing import ListQuery
from crm.lib.problems import ProblemError, field_error, invalid
from crm.lib.security import MIN_PASSWORD_LENGTH, hash_password, token_hash, verify_password
from crm.lib.services import Service


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(field, f"must be at least {MIN_PASSWORD_LENGTH} characters long")


class StaffService(Service[Staff]):
    async def by_email(self, email: str) -> Staff | None:
        return await self.get_one_or_none(Staff.email == email.strip().lower())

    async def authenticate(self, email: str, password: str) -> Staff | None:
        staff = await self.by_email(email)
        # verify_password always runs, so a wrong e-mail costs the same time as a wrong password.
        ok = verify_password(staff.password_hash if staff else None, password)
        if staff is None or not ok or not staff.is_active:
            return None
        staff.last_login_at = datetime.now(UTC)
        await self.repository.update(staff)
        return staff

    async def set_admin(self, email: str, password: str, name: str = "") -> tuple[Staff, bool]:
        """Creates the admin account, or makes an existing account an active admin with this
        password. Returns the account and whether it was created."""
        check_password_strength(password)
        email = email.strip().lower()
        staff = await self.by_email(email)
        if staff is None:
            staff = await self.create(
                Staff(email=email, name=name, role=StaffRole.ADMIN, password_hash=hash_password(password))
            )
            return staff, True
        staff.role = StaffRole.ADMIN
        staff.is_active = True
        staff.password_hash = hash_password(password)
        return await self.update(staff), False

    async def count_admins(self) -> int:
        return await self.count(Staff.role == StaffRole.ADMIN, Staff.is_active.is_(True))

    async def invite(
        self, email: str, name: str, role: StaffRole, *, invited_by: UUID, secret_key: str, ttl_hours: int
    ) -> tuple[Staff, StaffInvitation]:
        if await self.by_email(email) is not None:
            raise ProblemError(
                409,
                f"A staff account already exists for {email}",
                errors=[field_error("email", "already used")],
            )
        staff = await self.create(Staff(email=email, name=name, role=role))
        invitation = StaffInvitation(
            id=uuid7(),
            staff_id=staff.id,
            invited_by_id=invited_by,
            token_hash="",
            expires_at=datetime.now(UTC) + timedelta(hours=ttl_hours),
        )
        invitation.token_hash = token_hash(invitation_token(secret_key, invitation.id))
        self.session.add(invitation)
        await self.session.flush()
        return staff, invitation

    async def accept_invitation(self, token: str, password: str) -> Staff:
        check_password_strength(password)
        session = self.session
        invitation = await session.scalar(
            select(StaffInvitation).where(StaffInvitation.token_hash == token_hash(token)).with_for_update()
        )
        if invitation is None or invitation.used_at is not None or invitation.expires_at < datetime.now(UTC):
            raise invalid("token", "this invitation link is unknown, used or expired; ask an admin for a new one")
        staff = await self.get(invitation.staff_id)
        staff.password_hash = hash_password(password)
        invitation.used_at = datetime.now(UTC)
        return await self.update(staff)

    async def change(
        self,
        staff_id: UUID,
        acting_id: UUID,
        *,
        name: str | None,
        role: StaffRole | None,
        is_active: bool | None,
    ) -> tuple[Staff, bool]:
        """Applies the changes sent; returns the account and whether its sessions must end."""
        staff = await self.get(staff_id)
        demotes = (role is not None and role != StaffRole.ADMIN) or is_active is False
        if staff.role == StaffRole.ADMIN and demotes:
            if staff_id == acting_id:
                raise invalid("role" if role is not None else "is_active", "you cannot demote or deactivate yourself")
            if await self.count_admins() <= 1:
                raise ProblemError(409, "This is the last active admin; make another admin first")
        revoke = (role is not None and role != staff.role) or (is_active is False and staff.is_active)
        if name is not None:
            staff.name = name
        if role is not None:
            staff.role = role
        if is_active is not None:
            staff.is_active = is_active
        return await self.update(staff), revoke

    async def search(
        self, query: ListQuery, sortable: frozenset[str], *, role: StaffRole | None, is_active: bool | None
    ) -> tuple[Sequence[Staff], int]:
        conditions: list[Any] = []
        if query.q:
            pattern = f"%{query.q.lower()}%"
            conditions.append(or_(Staff.email.like(pattern), func.lower(Staff.name).like(pattern)))
        if role:
            conditions.append(Staff.role == role)
        if is_active is not None:
            conditions.append(Staff.is_active.is_(is_active))
        return await self.get_many_and_count(*query.filters(sortable, "email"), *conditions)

    async def is_empty(self) -> bool:
        return (await self.session.scalar(select(func.count()).select_from(Staff))) == 0
