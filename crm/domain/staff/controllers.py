"""Staff management (admins only): list, invite, change role, deactivate."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from crm.config import Settings
from crm.db.models.staff import StaffRole
from crm.domain.auth.guards import requires_admin
from crm.domain.providers import provide_staff_service
from crm.domain.staff.schemas import StaffInvite, StaffRead, StaffUpdate
from crm.domain.staff.services import StaffService
from crm.domain.system import mail as system_mail
from crm.lib import sessions
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page
from crm.lib.services import after_commit
from crm.lib.sessions import StaffSession

SORTABLE = frozenset({"email", "name", "role", "created_at", "last_login_at"})


def _read(staff: Any) -> StaffRead:
    return StaffRead.model_validate(
        {
            **{k: getattr(staff, k) for k in StaffRead.model_fields if k != "has_password"},
            "has_password": staff.password_hash is not None,
        }
    )


class StaffController(Controller):
    path = "/api/v1/staff"
    tags = ["Staff accounts"]
    guards = [requires_admin]
    dependencies = {
        "staff_service": provide_staff_service,
        "listing": list_query(SORTABLE),
    }

    @get(
        "/",
        operation_id="listStaff",
        summary="List staff accounts",
        description="Every staff account with its role and whether it is active. `q` searches e-mail and name.",
    )
    async def list_staff(
        self,
        staff_service: NamedDependency[StaffService],
        listing: NamedDependency[ListQuery],
        role: Annotated[StaffRole | None, Parameter(description="Only this role")] = None,
        is_active: Annotated[bool | None, Parameter(description="Only active (true) or inactive (false)")] = None,
    ) -> Page[StaffRead]:
        items, total = await staff_service.search(listing, SORTABLE, role=role, is_active=is_active)
        return Page[StaffRead](**page([_read(s) for s in items], total, listing))

    @get(
        "/{staff_id:uuid}",
        operation_id="getStaff",
        summary="One staff account",
        description="A staff account by id.",
    )
    async def get_staff(self, staff_service: NamedDependency[StaffService], staff_id: FromPath[UUID]) -> StaffRead:
        return _read(await staff_service.get(staff_id))

    @post(
        "/",
        operation_id="inviteStaff",
        summary="Invite a staff member",
        description="Creates the account without a password and e-mails the person a link, valid for a "
        "limited time, to choose one.",
    )
    async def invite_staff(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[StaffInvite],
        staff_service: NamedDependency[StaffService],
    ) -> StaffRead:
        settings: Settings = request.app.state.settings
        session: StaffSession = request.scope["auth"]
        staff, invitation = await staff_service.invite(
            data.email,
            data.name,
            data.role,
            invited_by=session.staff_uuid,
            secret_key=settings.security.secret_key.get_secret_value(),
            ttl_hours=settings.security.invitation_ttl_hours,
        )
        # The message is an outbox row of this transaction; the worker is woken once it is committed.
        await system_mail.queue_staff_invitation(staff_service.session, invitation.id)
        redis = request.app.state.redis
        after_commit(staff_service.session, lambda: system_mail.wake(redis))
        return _read(staff)

    @patch(
        "/{staff_id:uuid}",
        operation_id="updateStaff",
        summary="Change a staff account",
        description="Changes the name, the role or whether the account is active. A change of role or a "
        "deactivation ends the person's open sessions. The last active admin cannot be demoted.",
    )
    async def update_staff(
        self,
        request: Request[Any, Any, Any],
        staff_id: FromPath[UUID],
        data: JSONBody[StaffUpdate],
        staff_service: NamedDependency[StaffService],
    ) -> StaffRead:
        session: StaffSession = request.scope["auth"]
        staff, revoke = await staff_service.change(
            staff_id, session.staff_uuid, name=data.name, role=data.role, is_active=data.is_active
        )
        if revoke:
            # Once the change is committed: a request in between would reopen nothing.
            state = request.app.state
            after_commit(staff_service.session, lambda: sessions.revoke_all(state.redis, staff_id, state.sessions))
        return _read(staff)
