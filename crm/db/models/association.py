"""The association's own settings (paramètres de l'association): who sends the mail and how every
message and public page looks. One row; until an admin saves it, the `CRM_ORGANISATION_*`
environment values stand in (crm/domain/association/branding.py)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base


class AssociationSettings(Audited, Base):
    __tablename__ = "association_settings"
    # The image is bytes: the log says it changed, not what it holds.
    __audit_exclude__ = frozenset({"logo"})
    __table_args__ = (CheckConstraint("singleton", name="one_row"),)

    # Always true and unique: the table holds one row at most.
    singleton: Mapped[bool] = mapped_column(Boolean, default=True, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    postal_address: Mapped[str] = mapped_column(String(300))
    website: Mapped[str] = mapped_column(String(2000))
    sender_name: Mapped[str] = mapped_column(String(200))
    sender_email: Mapped[str] = mapped_column(String(320))
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    brand_colour: Mapped[str] = mapped_column(String(7))
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    logo_type: Mapped[str | None] = mapped_column(String(20), default=None)
    # Raised by each save: every process compares it with the one it has cached.
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def has_logo(self) -> bool:
        return self.logo_type is not None
