"""The staff dashboard: one call for the admin's first page."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from crm.domain.auth.guards import requires_viewer
from crm.domain.dashboard.schemas import Dashboard
from crm.domain.dashboard.services import dashboard


class DashboardController(Controller):
    path = "/api/v1/dashboard"
    tags = ["Dashboard"]
    guards = [requires_viewer]

    @get(
        "/",
        operation_id="readDashboard",
        summary="What needs attention",
        description="Members by status and by région (active members), dues unpaid this year, conventions "
        "and board mandates ending in the next 90 days (with the notice deadline), the next events with "
        "their answers, the latest campaigns with their delivery figures, and imports still running.",
    )
    async def read(self, db_session: NamedDependency[AsyncSession]) -> Dashboard:
        return Dashboard.model_validate(await dashboard(db_session))
