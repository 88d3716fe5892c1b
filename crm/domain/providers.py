"""Litestar's dependency providers of the services, for the controllers: kept apart from the
services so that a process without the web app (the worker) does not load advanced-alchemy's
Litestar extension (its plugin, CLI and Alembic commands: 14 MB of memory)."""

from __future__ import annotations

from advanced_alchemy.extensions.litestar.providers import create_service_provider

from crm.domain.audit.services import AuditService
from crm.domain.board.services import MandateService
from crm.domain.campaigns.services import CampaignService, DeliveryService
from crm.domain.conventions.services import ConventionService
from crm.domain.events.services import EventService
from crm.domain.imports.services import ImportService
from crm.domain.labels.services import LabelService
from crm.domain.lists.services import MailingListService, SubscriptionService, SuppressionService
from crm.domain.memberships.services import DuesService, FeeBandService, MembershipService
from crm.domain.organisations.services import OrganisationService
from crm.domain.people.services import PersonService, PositionService
from crm.domain.publications.services import PublicationService
from crm.domain.questionnaires.services import QuestionnaireService
from crm.domain.segments.services import SegmentService
from crm.domain.staff.services import StaffService
from crm.domain.tags.services import TagService
from crm.domain.webhooks.services import WebhookEndpointService

provide_audit_service = create_service_provider(AuditService)
provide_mandate_service = create_service_provider(MandateService)
provide_campaign_service = create_service_provider(CampaignService)
provide_delivery_service = create_service_provider(DeliveryService)
provide_convention_service = create_service_provider(ConventionService)
provide_event_service = create_service_provider(EventService)
provide_import_service = create_service_provider(ImportService)
provide_label_service = create_service_provider(LabelService)
provide_mailing_list_service = create_service_provider(MailingListService)
provide_subscription_service = create_service_provider(SubscriptionService)
provide_suppression_service = create_service_provider(SuppressionService)
provide_membership_service = create_service_provider(MembershipService)
provide_fee_band_service = create_service_provider(FeeBandService)
provide_dues_service = create_service_provider(DuesService)
provide_organisation_service = create_service_provider(OrganisationService)
provide_person_service = create_service_provider(PersonService)
provide_position_service = create_service_provider(PositionService)
provide_publication_service = create_service_provider(PublicationService)
provide_segment_service = create_service_provider(SegmentService)
provide_staff_service = create_service_provider(StaffService)
provide_tag_service = create_service_provider(TagService)
provide_webhook_endpoint_service = create_service_provider(WebhookEndpointService)
provide_questionnaire_service = create_service_provider(QuestionnaireService)
