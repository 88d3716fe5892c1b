"""The association's settings: read (stored, or the environment's defaults) and saved by admins,
audited like every write (the row is `Audited`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.config import Settings
from crm.db.models.association import AssociationSettings
from crm.domain.association.branding import EDITABLE, Branding, compose
from crm.domain.association.schemas import AssociationSettingsUpdate, decode_logo


class AssociationSettingsService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stored(self) -> AssociationSettings | None:
        return await self.session.scalar(select(AssociationSettings).with_for_update())

    async def read(self, settings: Settings) -> Branding:
        row = await self.session.scalar(select(AssociationSettings))
        return compose(settings, row)

    async def save(self, settings: Settings, data: AssociationSettingsUpdate) -> Branding:
        """Writes the row (the first save creates it) and raises its version; the caller commits,
        then announces the version (`branding.announce`)."""
        row = await self.stored()
        values = data.model_dump(include=set(EDITABLE))
        values["website"] = str(data.website)
        values["reply_to"] = data.reply_to or ""
        if row is None:
            row = AssociationSettings(**values, version=1)
            self.session.add(row)
        else:
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
            row.version += 1
        if data.logo is not None:
            row.logo_type, row.logo = decode_logo(data.logo)
        elif data.remove_logo:
            row.logo_type, row.logo = None, None
        await self.session.flush()
        return compose(settings, row)

    async def logo(self) -> tuple[str, bytes] | None:
        row = (
            await self.session.execute(
                select(AssociationSettings.logo_type, AssociationSettings.logo).where(
                    AssociationSettings.logo_type.is_not(None)
                )
            )
        ).one_or_none()
        return (row.logo_type, row.logo) if row else None
