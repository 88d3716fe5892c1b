"""The Litestar application: `create_app()` builds it from `Settings`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from crm.adminui import admin_handlers
from crm.config import Settings, get_settings
from crm.domain.audit.controllers import AuditController
from crm.domain.auth.controllers import AuthController
from crm.domain.auth.middleware import CSRF_EXEMPT, staff_session_middleware
from crm.domain.board.controllers import MandateController
from crm.domain.campaigns.controllers import CampaignController, DeliveryController, OrganisationCampaignsController
from crm.domain.conventions.controllers import ConventionController
from crm.domain.dashboard.controllers import DashboardController
from crm.domain.events.controllers import EventController, OrganisationEventsController, PersonEventsController
from crm.domain.events.rsvp import RsvpController
from crm.domain.geo.controllers import GeoController
from crm.domain.imports.controllers import ImportController, OrganisationExportController, PeopleExportController
from crm.domain.labels.controllers import LabelController, OrganisationLabelController
from crm.domain.lists.controllers import MailingListController, SubscriptionController, SuppressionController
from crm.domain.memberships.controllers import DuesController, FeeBandController, MembershipController
from crm.domain.organisations.controllers import OrganisationController
from crm.domain.people.controllers import PersonController, PositionController
from crm.domain.public.controllers import PublicController
from crm.domain.publications.controllers import PublicationController
from crm.domain.segments.controllers import SegmentController
from crm.domain.staff.controllers import StaffController
from crm.domain.staff.pages import StaffInvitationPage
from crm.domain.system.controllers import HealthController, SystemController
from crm.domain.tags.controllers import TagController
from crm.lib.json_body import JsonBodyRequest
from crm.lib.logging import configure_logging, request_id_middleware
from crm.lib.problems import ProblemDocsPlugin, exception_handlers
from crm.lib.redis import connect_redis
from crm.lib.routing import TrueAllowPlugin
from crm.lib.security_headers import add_security_headers
from crm.lib.services import alchemy_config

# The route table: each controller declares its guards, so this list reads as the permission matrix.
ROUTE_HANDLERS: list[type] = [
    HealthController,
    AuthController,
    StaffController,
    StaffInvitationPage,
    AuditController,
    SystemController,
    DashboardController,
    GeoController,
    # organisations, memberships, dues, fee bands, labels
    OrganisationController,
    MembershipController,
    DuesController,
    FeeBandController,
    LabelController,
    OrganisationLabelController,
    # people, positions, mandates, conventions, tags
    PersonController,
    PositionController,
    MandateController,
    ConventionController,
    TagController,
    # imports and exports
    ImportController,
    OrganisationExportController,
    PeopleExportController,
    # lists, subscriptions, segments, publications, campaigns, deliveries
    CampaignController,
    DeliveryController,
    MailingListController,
    SubscriptionController,
    SuppressionController,
    SegmentController,
    PublicationController,
    PublicController,
    # events: staff side, a person's and a member's events, the public answer page
    EventController,
    PersonEventsController,
    OrganisationEventsController,
    OrganisationCampaignsController,
    RsvpController,
]


class MetricsController(PrometheusController):
    """Prometheus text format for scrapers; not part of the JSON API's schema."""

    path = "/metrics"
    openmetrics_format = False
    include_in_schema = False


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    db_config = alchemy_config(settings)

    @asynccontextmanager
    async def redis_lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.redis = connect_redis(settings.redis_url)
        try:
            yield
        finally:
            await app.state.redis.aclose()

    prometheus = PrometheusConfig(app_name="crm", prefix="crm", group_path=True, exclude=["/metrics", "/health"])

    return Litestar(
        route_handlers=[*ROUTE_HANDLERS, MetricsController, *admin_handlers()],
        plugins=[
            SQLAlchemyPlugin(config=db_config),
            ProblemDocsPlugin(csrf_exempt=CSRF_EXEMPT),
            TrueAllowPlugin(),
        ],
        middleware=[request_id_middleware, prometheus.middleware, staff_session_middleware],
        before_send=[add_security_headers],
        lifespan=[redis_lifespan],
        exception_handlers=exception_handlers,
        request_class=JsonBodyRequest,
        state=State({"settings": settings, "db_config": db_config}),
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        openapi_config=OpenAPIConfig(
            title="Member-network CRM",
            version="1",
            description="JSON API of the member-network CRM and newsletter service: staff admin, partners, "
            "scripts. Errors are application/problem+json (RFC 9457).",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
        ),
        debug=False,
    )
