"""Every table, imported here so that Alembic and the metadata see them all."""

from crm.db.models.association import AssociationSettings
from crm.db.models.atlaas import (
    Action,
    ActionOrganisation,
    ActionPerson,
    ActionPlace,
    ActionStatus,
    ActionTheme,
    Proposal,
    ProposalStatus,
    Theme,
)
from crm.db.models.audit import AuditEntry
from crm.db.models.board import BoardRole, Mandate
from crm.db.models.campaign import Campaign, CampaignKind, CampaignStatus, Delivery, DeliveryStatus
from crm.db.models.convention import Convention, ConventionStatus, Renewal
from crm.db.models.deliverability import Bounce, BounceKind, DkimKey
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
from crm.db.models.label import LabelAward
from crm.db.models.lists import LegalBasis, ListKind, MailingList, Subscription, SubscriptionStatus
from crm.db.models.membership import Dues, DuesStatus, FeeBand, Membership, MembershipStatus, MembershipStatusChange
from crm.db.models.organisation import Organisation, OrganisationKind
from crm.db.models.partner import (
    ApiClient,
    ApiKey,
    PartnerContact,
    PartnerIdempotentRequest,
    PartnerSharingConsent,
    contact_change,
    partner_share,
    partner_webhook_cursor,
)
from crm.db.models.person import Person, Position, PositionKind
from crm.db.models.privacy import Erasure
from crm.db.models.publication import Publication, PublicationKind
from crm.db.models.questionnaire import (
    AnsweredBy,
    JuryAssignment,
    JuryMember,
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireFile,
    QuestionnaireKind,
    QuestionnaireRecipient,
    QuestionnaireResponse,
    QuestionnaireStatus,
    QuestionnaireVersion,
    ResponseStatus,
)
from crm.db.models.reference import Commune, Departement, Epci, Region
from crm.db.models.segment import Segment
from crm.db.models.staff import Staff, StaffInvitation, StaffRole
from crm.db.models.suppression import Suppression, SuppressionReason
from crm.db.models.system import SystemMessage, SystemMessageKind, SystemMessageStatus
from crm.db.models.tag import Tag, Tagging
from crm.db.models.webhook import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEvent

__all__ = [
    "Action",
    "ActionOrganisation",
    "ActionPerson",
    "ActionPlace",
    "ActionStatus",
    "ActionTheme",
    "AnsweredBy",
    "ApiClient",
    "ApiKey",
    "AssociationSettings",
    "AuditEntry",
    "BoardRole",
    "Bounce",
    "BounceKind",
    "Campaign",
    "CampaignKind",
    "CampaignStatus",
    "Commune",
    "Convention",
    "ConventionStatus",
    "Delivery",
    "DeliveryStatus",
    "Departement",
    "DkimKey",
    "Dues",
    "DuesStatus",
    "Epci",
    "Erasure",
    "Event",
    "EventKind",
    "EventNotification",
    "EventStatus",
    "FeeBand",
    "ImportBatch",
    "ImportStatus",
    "Invitation",
    "InvitationStatus",
    "JuryAssignment",
    "JuryMember",
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
    "PartnerContact",
    "PartnerIdempotentRequest",
    "PartnerSharingConsent",
    "Person",
    "Position",
    "PositionKind",
    "Proposal",
    "ProposalStatus",
    "Publication",
    "PublicationKind",
    "Questionnaire",
    "QuestionnaireAnswer",
    "QuestionnaireFile",
    "QuestionnaireKind",
    "QuestionnaireRecipient",
    "QuestionnaireResponse",
    "QuestionnaireStatus",
    "QuestionnaireVersion",
    "Region",
    "Renewal",
    "ResponseStatus",
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
    "Theme",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEvent",
    "contact_change",
    "partner_share",
    "partner_webhook_cursor",
]
