"""The Litestar application: `create_app()` builds it from `Settings`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.types import Message, Scope
from sqlalchemy.ext.asyncio import create_async_engine

from crm.adminui import admin_handlers
from crm.config import Settings, get_settings
from crm.domain.association.controllers import AssociationSettingsController
from crm.domain.atlaas.controllers import ActionController, AtlaasApiController, ProposalController, ThemeController
from crm.domain.atlaas.public_pages import AtlaasPages
from crm.domain.audit.controllers import AuditController
from crm.domain.auth.guards import open_to_anyone
from crm.domain.auth.middleware import CSRF_EXEMPT, staff_session_middleware
from crm.domain.board.controllers import MandateController
from crm.domain.campaigns.controllers import CampaignController, DeliveryController, OrganisationCampaignsController
from crm.domain.conventions.controllers import ConventionController
from crm.domain.dashboard.controllers import DashboardController
from crm.domain.deliverability.controllers import BounceController, DkimKeyController
from crm.domain.events.controllers import EventController, OrganisationEventsController, PersonEventsController
from crm.domain.geo.controllers import GeoController
from crm.domain.imports.controllers import ImportController, OrganisationExportController, PeopleExportController
from crm.domain.labels.controllers import LabelController, OrganisationLabelController
from crm.domain.lists.controllers import MailingListController, SubscriptionController, SuppressionController
from crm.domain.memberships.controllers import DuesController, FeeBandController, MembershipController
from crm.domain.organisations.controllers import OrganisationController
from crm.domain.partners.auth import send_rate_limit_headers
from crm.domain.partners.controllers import ApiClientController, PartnerContactController
from crm.domain.partners.webhook_controllers import PartnerWebhookController
from crm.domain.people.controllers import PersonController, PositionController
from crm.domain.privacy.controllers import PersonRightsController, RetentionController
from crm.domain.public.controllers import PublicController
from crm.domain.public.layout import public_content_changed
from crm.domain.public.rsvp import RsvpController
from crm.domain.public.staff_invitation import StaffInvitationPage
from crm.domain.publications.controllers import PublicationController
from crm.domain.questionnaires.controllers import QuestionnaireController
from crm.domain.questionnaires.public import QuestionnairePages
from crm.domain.segments.controllers import SegmentController
from crm.domain.staff.controllers import StaffController
from crm.domain.staff.login import AuthController, LoginController
from crm.domain.system.controllers import HealthController, Readiness, SystemController
from crm.domain.tags.controllers import TagController
from crm.domain.webhooks.controllers import WebhookDeliveryController, WebhookEndpointController
from crm.lib.json_body import JsonBodyRequest
from crm.lib.logging import configure_logging, request_id_middleware
from crm.lib.problems import ProblemDocsPlugin, exception_handlers
from crm.lib.redis import connect_redis
from crm.lib.routing import TrueAllowPlugin
from crm.lib.security_headers import add_security_headers
from crm.lib.services import commit_request, database_options
from crm.lib.sessions import SessionCache

# The route table: each controller declares a class-level guard (a role, or `open_to_anyone` for the
# login, health and public pages), so this list reads as the permission matrix; docs/roles.md is that
# matrix, and tests/test_role_matrix.py fails on a route without a guard or missing from it.
ROUTE_HANDLERS: list[type] = [
    HealthController,
    LoginController,
    AuthController,
    StaffController,
    StaffInvitationPage,
    AuditController,
    AssociationSettingsController,
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
    PersonRightsController,
    RetentionController,
    MandateController,
    ConventionController,
    TagController,
    # partner webhooks: endpoints and their deliveries
    WebhookEndpointController,
    WebhookDeliveryController,
    # imports and exports
    ImportController,
    OrganisationExportController,
    PeopleExportController,
    # lists, subscriptions, segments, publications, campaigns, deliveries
    CampaignController,
    DeliveryController,
    BounceController,
    DkimKeyController,
    MailingListController,
    SubscriptionController,
    SuppressionController,
    SegmentController,
    PublicationController,
    PublicController,
    ActionController,
    ThemeController,
    ProposalController,
    AtlaasApiController,
    AtlaasPages,
    # events: staff side, a person's and a member's events, the public answer page
    EventController,
    PersonEventsController,
    OrganisationEventsController,
    OrganisationCampaignsController,
    RsvpController,
    QuestionnaireController,
    QuestionnairePages,
    # partners: API clients (admins), the partner API (bearer keys and scopes, not roles)
    ApiClientController,
    PartnerContactController,
    PartnerWebhookController,
]


class MetricsController(PrometheusController):
    """Prometheus text format for scrapers; not part of the JSON API's schema."""

    path = "/metrics"
    guards = [open_to_anyone]
    openmetrics_format = False
    include_in_schema = False


def request_alchemy_config(settings: Settings) -> SQLAlchemyAsyncConfig:
    """The database config of the web app: advanced-alchemy's Litestar flavour, one session per
    request, committed when the handler answers 2xx and rolled back otherwise."""
    config = SQLAlchemyAsyncConfig(
        **database_options(settings), session_config=AsyncSessionConfig(expire_on_commit=False)
    )
    commit = commit_request(config.session_scope_key)

    async def commit_then_tell_public_pages(message: Message, scope: Scope) -> None:
        await commit(message, scope)
        # Once committed, a staff write may have changed what the archive or a palmarès shows.
        if (
            message["type"] == "http.response.start"
            and 200 <= message["status"] < 300
            and scope.get("method") not in ("GET", "HEAD", "OPTIONS")
            and scope["path"].startswith("/api/")
        ):
            await public_content_changed(scope["app"].state.redis)

    config.before_send_handler = commit_then_tell_public_pages
    return config


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    db_config = request_alchemy_config(settings)

    @asynccontextmanager
    async def redis_lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.redis = connect_redis(settings.redis_url)
        app.state.sessions = SessionCache(app.state.redis)
        listener = asyncio.create_task(app.state.sessions.listen())
        try:
            yield
        finally:
            listener.cancel()
            # Bounded: nothing may keep the process from stopping.
            await asyncio.wait({listener}, timeout=5)
            await app.state.redis.aclose()

    @asynccontextmanager
    async def health_lifespan(app: Litestar) -> AsyncIterator[None]:
        # /health/ready asks PostgreSQL on a connection of its own: when every pooled connection
        # is busy serving requests, readiness must not queue behind them (and fail a probe).
        engine = create_async_engine(settings.database_url, pool_size=1, max_overflow=0, pool_pre_ping=False)
        app.state.readiness = Readiness(engine, app.state.redis)
        probing = asyncio.create_task(app.state.readiness.run())
        try:
            yield
        finally:
            probing.cancel()
            await asyncio.wait({probing}, timeout=5)
            await engine.dispose()

    prometheus = PrometheusConfig(app_name="crm", prefix="crm", group_path=True, exclude=["/metrics", "/health"])

    return Litestar(
        route_handlers=[*ROUTE_HANDLERS, MetricsController, *admin_handlers()],
        plugins=[
            SQLAlchemyPlugin(config=db_config),
            ProblemDocsPlugin(csrf_exempt=CSRF_EXEMPT),
            TrueAllowPlugin(),
        ],
        middleware=[request_id_middleware, prometheus.middleware, staff_session_middleware],
        before_send=[add_security_headers, send_rate_limit_headers],
        lifespan=[redis_lifespan, health_lifespan],
        exception_handlers=exception_handlers,
        request_class=JsonBodyRequest,
        state=State({"settings": settings, "db_config": db_config}),
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        openapi_config=OpenAPIConfig(
            title="Member-network CRM",
            version="1",
            description="JSON API of the member-network CRM and newsletter service: staff admin, partners, "
            "scripts. Errors are application/problem+json (RFC 9457).",
            # The schema is public, on purpose: partners read it before they have an account.
            openapi_router=Router(path="/schema", route_handlers=[], guards=[open_to_anyone], include_in_schema=False),
            render_plugins=[ScalarRenderPlugin()],
            components=Components(
                security_schemes={
                    "partnerKey": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="A partner API key (`crmp_...`), given by the association's admins",
                    )
                }
            ),
        ),
        debug=False,
    )


def create_served_app() -> Litestar:
    """The app as `crm serve` runs it in each process. What building it made (routes, models,
    schemas) lives as long as the process: frozen out of the garbage collector's sight, so that its
    full passes under load stay short (the 20-connection p99 fell from 90-290 ms to 6-85 ms,
    bench/README.md). Tests build many apps in one process and keep the collector as it is."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
