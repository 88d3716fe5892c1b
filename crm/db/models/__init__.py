"""Every table, imported here so that Alembic and the metadata see them all."""

from crm.db.models.association import AssociationSettings
from crm.db.models.audit import AuditEntry
from crm.db.models.campaign import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryStatus
from crm.db.models.event import (
    Event,
    EventKind,
    EventNotification,
    EventStatus,
    Invitation,
    InvitationStatus,
    NotificationKind,
    NotificationStatus,
)
from crm.db.models.imports import ImportBatch, ImportStatus
from crm.db.models.mailing import (
    LegalBasis,
    ListKind,
    MailingList,
    Publication,
    PublicationKind,
    Segment,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from crm.db.models.organisation import (
    Dues,
    DuesStatus,
    FeeBand,
    LabelAward,
    Membership,
    MembershipStatus,
    MembershipStatusChange,
    Organisation,
    OrganisationKind,
)
from crm.db.models.partner import Convention, ConventionStatus, Renewal
from crm.db.models.person import BoardRole, Mandate, Person, Position, PositionKind
from crm.db.models.reference import Commune, Departement, Epci, Region
from crm.db.models.staff import Staff, StaffInvitation, StaffRole
from crm.db.models.system import SystemMessage, SystemMessageKind, SystemMessageStatus
from crm.db.models.tag import Tag, Tagging

__all__ = [
    "AssociationSettings",
    "AuditEntry",
    "BoardRole",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "Commune",
    "Convention",
    "ConventionStatus",
    "Delivery",
    "DeliveryStatus",
    "Departement",
    "Dues",
    "DuesStatus",
    "Epci",
    "Event",
    "EventKind",
    "EventNotification",
    "EventStatus",
    "FeeBand",
    "ImportBatch",
    "ImportStatus",
    "Invitation",
    "InvitationStatus",
    "LabelAward",
    "LegalBasis",
    "ListKind",
    "MailingList",
    "Mandate",
    "Membership",
    "MembershipStatus",
    "MembershipStatusChange",
    "NotificationKind",
    "NotificationStatus",
    "Organisation",
    "OrganisationKind",
    "Person",
    "Position",
    "PositionKind",
    "Publication",
    "PublicationKind",
    "Region",
    "Renewal",
    "Segment",
    "Staff",
    "StaffInvitation",
    "StaffRole",
    "Subscription",
    "SubscriptionStatus",
    "Suppression",
    "SuppressionReason",
    "SystemMessage",
    "SystemMessageKind",
    "SystemMessageStatus",
    "Tag",
    "Tagging",
]
