"""Mailing lists (listes de diffusion) and subscriptions with their consent proof."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class ListKind(enum.StrEnum):
    NEWSLETTER = "newsletter"  # lettre d'information
    INVITATIONS = "invitations"  # invitations aux événements
    PUBLICATIONS = "publications"
    OTHER = "other"


class MailingList(Audited, Base):
    """A list people subscribe to (liste de diffusion)."""

    __tablename__ = "mailing_list"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[ListKind] = mapped_column(pg_enum(ListKind, "list_kind"))
    # Listed on the public subscribe and preference pages.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    double_opt_in: Mapped[bool] = mapped_column(Boolean, default=True)


class SubscriptionStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the confirmation link: nothing is sent
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"


class LegalBasis(enum.StrEnum):
    CONSENT = "consent"  # RGPD art. 6.1.a
    LEGITIMATE_INTEREST = "legitimate_interest"  # art. 6.1.f: professional addresses, B2B


class Subscription(Audited, Base):
    """A person on a list, with the proof the GDPR asks for: the legal basis, where it came from,
    when, and the consent text and version the person saw."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("person_id", "list_id", name="uq_subscription_person_list"),)

    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    list_id: Mapped[UUID] = mapped_column(ForeignKey("mailing_list.id", ondelete="CASCADE"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(pg_enum(SubscriptionStatus, "subscription_status"), index=True)
    legal_basis: Mapped[LegalBasis] = mapped_column(pg_enum(LegalBasis, "legal_basis"))
    source: Mapped[str] = mapped_column(String(100))  # "public form", "import", "staff"...
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_version: Mapped[str | None] = mapped_column(String(50))
    consented_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    unsubscribe_reason: Mapped[str | None] = mapped_column(Text)
    # The campaign whose link (one-click or preference page) the person left through, so that the
    # campaign's progress counts them; kept only while the person stays unsubscribed.
    unsubscribed_via_campaign_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), index=True
    )
