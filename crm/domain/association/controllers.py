"""The association's settings (admins edit, all staff read): name, postal address, sender, logo and
colour, shown by every e-mail and public page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from crm.config import Settings
from crm.domain.association.branding import Branding, announce
from crm.domain.association.schemas import AssociationSettingsRead, AssociationSettingsUpdate
from crm.domain.association.services import AssociationSettingsService
from crm.domain.auth.guards import requires_admin, requires_viewer
from crm.lib.services import after_commit


def _read(branding: Branding) -> AssociationSettingsRead:
    return AssociationSettingsRead.model_validate(
        branding.model_dump(include=set(AssociationSettingsRead.model_fields))
    )


class AssociationSettingsController(Controller):
    path = "/api/v1/settings"
    tags = ["Settings"]
    guards = [requires_viewer]

    @get(
        "/",
        operation_id="getSettings",
        summary="The association's settings",
        description="Name, postal address, sender, reply-to, colour and logo shown by every e-mail and public "
        "page. Until an admin saves them, the CRM_ORGANISATION_* environment values (version 0).",
    )
    async def read(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> AssociationSettingsRead:
        settings: Settings = request.app.state.settings
        return _read(await AssociationSettingsService(db_session).read(settings))

    @put(
        "/",
        operation_id="updateSettings",
        summary="Change the association's settings",
        description="Admins only. Every field is given; `logo` (PNG or JPEG data URL, at most 200 KB) replaces "
        "the logo, `remove_logo` removes it. The brand colour must keep white text readable (WCAG AA, "
        "4.5:1). The next e-mail and page of every process show the change.",
        guards=[requires_admin],
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[AssociationSettingsUpdate],
        db_session: NamedDependency[AsyncSession],
    ) -> AssociationSettingsRead:
        settings: Settings = request.app.state.settings
        branding = await AssociationSettingsService(db_session).save(settings, data)
        redis = request.app.state.redis
        after_commit(db_session, lambda: announce(redis, branding.version))
        return _read(branding)
