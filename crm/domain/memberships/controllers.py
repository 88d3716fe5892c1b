"""Memberships and their history, the fee schedule, and the yearly dues."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from crm.db.models.membership import DuesStatus, MembershipStatus
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.memberships.schemas import (
    DuesCreate,
    DuesGenerate,
    DuesGenerated,
    DuesRead,
    DuesUpdate,
    FeeBandCreate,
    FeeBandRead,
    FeeBandUpdate,
    MembershipCreate,
    MembershipRead,
    MembershipUpdate,
    StatusChangeRead,
)
from crm.domain.memberships.services import DuesService, FeeBandService, MembershipService
from crm.domain.providers import provide_dues_service, provide_fee_band_service, provide_membership_service
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import MAX_YEAR, MIN_YEAR, Page

MEMBERSHIP_SORTABLE = frozenset({"status", "member_since", "ended_on", "created_at"})
FEE_BAND_SORTABLE = frozenset({"year", "min_population", "amount"})
DUES_SORTABLE = frozenset({"year", "amount", "status", "invoiced_on", "paid_on", "created_at"})


class MembershipController(Controller):
    path = "/api/v1/memberships"
    tags = ["Memberships"]
    guards = [requires_viewer]
    dependencies = {
        "membership_service": provide_membership_service,
        "listing": list_query(MEMBERSHIP_SORTABLE),
    }

    @get(
        "/",
        operation_id="listMemberships",
        summary="List memberships",
        description="Memberships with their organisation's name; filter by status or organisation.",
    )
    async def list_memberships(
        self,
        membership_service: NamedDependency[MembershipService],
        listing: NamedDependency[ListQuery],
        status: Annotated[MembershipStatus | None, Parameter(description="Only this status")] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Only this organisation")] = None,
    ) -> Page[MembershipRead]:
        items, total = await membership_service.search(
            listing, MEMBERSHIP_SORTABLE, status=status, organisation_id=organisation_id
        )
        return Page[MembershipRead](**page(await membership_service.read(items), total, listing))

    @post(
        "/",
        operation_id="createMembership",
        summary="Record a membership",
        description="One membership per organisation (409 for a second). Its first status starts the history.",
        guards=[requires_editor],
    )
    async def create_membership(
        self, data: JSONBody[MembershipCreate], membership_service: NamedDependency[MembershipService]
    ) -> MembershipRead:
        return (await membership_service.read([await membership_service.join(data)]))[0]

    @get(
        "/{membership_id:uuid}",
        operation_id="getMembership",
        summary="One membership",
        description="A membership by id.",
    )
    async def get_membership(
        self, membership_id: FromPath[UUID], membership_service: NamedDependency[MembershipService]
    ) -> MembershipRead:
        return (await membership_service.read([await membership_service.get(membership_id)]))[0]

    @patch(
        "/{membership_id:uuid}",
        operation_id="updateMembership",
        summary="Change a membership",
        description="Changes the fields sent; a new status is appended to the history with its date and note.",
        guards=[requires_editor],
    )
    async def update_membership(
        self,
        membership_id: FromPath[UUID],
        data: JSONBody[MembershipUpdate],
        membership_service: NamedDependency[MembershipService],
    ) -> MembershipRead:
        return (await membership_service.read([await membership_service.change(membership_id, data)]))[0]

    @get(
        "/{membership_id:uuid}/history",
        operation_id="getMembershipHistory",
        summary="A membership's status history",
        description="Every status the membership took, in the order staff recorded them, with its date and note.",
    )
    async def get_membership_history(
        self, membership_id: FromPath[UUID], membership_service: NamedDependency[MembershipService]
    ) -> list[StatusChangeRead]:
        return [StatusChangeRead.model_validate(c) for c in await membership_service.history(membership_id)]


class FeeBandController(Controller):
    path = "/api/v1/fee-bands"
    tags = ["Dues"]
    guards = [requires_viewer]
    dependencies = {
        "fee_band_service": provide_fee_band_service,
        "listing": list_query(FEE_BAND_SORTABLE),
    }

    @get(
        "/",
        operation_id="listFeeBands",
        summary="The fee schedule",
        description="Fee bands (barème de cotisation) by population, smallest first; filter by year.",
    )
    async def list_fee_bands(
        self,
        fee_band_service: NamedDependency[FeeBandService],
        listing: NamedDependency[ListQuery],
        year: Annotated[int | None, Parameter(ge=MIN_YEAR, le=MAX_YEAR, description="Only this year")] = None,
    ) -> Page[FeeBandRead]:
        items, total = await fee_band_service.search(listing, FEE_BAND_SORTABLE, year=year)
        return Page[FeeBandRead](**page([FeeBandRead.model_validate(b) for b in items], total, listing))

    @post(
        "/",
        operation_id="createFeeBand",
        summary="Add a fee band",
        description="A population band of a year and its dues. Bands of one year may not overlap (409).",
        guards=[requires_admin],
    )
    async def create_fee_band(
        self, data: JSONBody[FeeBandCreate], fee_band_service: NamedDependency[FeeBandService]
    ) -> FeeBandRead:
        return FeeBandRead.model_validate(await fee_band_service.add(data))

    @patch(
        "/{band_id:uuid}",
        operation_id="updateFeeBand",
        summary="Change a fee band",
        description="Changes the fields sent; the band still may not overlap another of its year. Dues "
        "already invoiced keep their amount.",
        guards=[requires_admin],
    )
    async def update_fee_band(
        self, band_id: FromPath[UUID], data: JSONBody[FeeBandUpdate], fee_band_service: NamedDependency[FeeBandService]
    ) -> FeeBandRead:
        return FeeBandRead.model_validate(await fee_band_service.change(band_id, data))

    @delete(
        "/{band_id:uuid}",
        operation_id="deleteFeeBand",
        summary="Delete a fee band",
        description="Removes a band from the schedule; dues already invoiced keep their amount.",
        guards=[requires_admin],
    )
    async def delete_fee_band(self, band_id: FromPath[UUID], fee_band_service: NamedDependency[FeeBandService]) -> None:
        await fee_band_service.delete(band_id)


class DuesController(Controller):
    path = "/api/v1/dues"
    tags = ["Dues"]
    guards = [requires_viewer]
    dependencies = {
        "dues_service": provide_dues_service,
        "listing": list_query(DUES_SORTABLE),
    }

    @get(
        "/",
        operation_id="listDues",
        summary="List dues",
        description="Yearly dues with their organisation's name; `year=2026&status=invoiced` lists what is "
        "still unpaid for 2026.",
    )
    async def list_dues(
        self,
        dues_service: NamedDependency[DuesService],
        listing: NamedDependency[ListQuery],
        year: Annotated[int | None, Parameter(ge=MIN_YEAR, le=MAX_YEAR, description="Only this year")] = None,
        status: Annotated[DuesStatus | None, Parameter(description="invoiced (unpaid), paid or waived")] = None,
        organisation_id: Annotated[UUID | None, Parameter(description="Only this organisation")] = None,
    ) -> Page[DuesRead]:
        items, total = await dues_service.search(
            listing, DUES_SORTABLE, year=year, status=status, organisation_id=organisation_id
        )
        return Page[DuesRead](**page(await dues_service.read(items), total, listing))

    @post(
        "/",
        operation_id="createDues",
        summary="Invoice a year's dues",
        description="Invoices an organisation's dues for a year, the amount taken from that year's fee band "
        "for its population (422 naming `year` when none matches) unless `amount` is sent.",
        guards=[requires_editor],
    )
    async def create_dues(self, data: JSONBody[DuesCreate], dues_service: NamedDependency[DuesService]) -> DuesRead:
        return (await dues_service.read([await dues_service.invoice(data)]))[0]

    @post(
        "/generate",
        operation_id="generateDues",
        summary="Invoice every active member for a year",
        description="Invoices the dues of every active member that has none for the year, from the fee "
        "schedule. Running it again creates nothing twice. Answers counts and the members skipped, with why.",
        guards=[requires_editor],
        status_code=200,
    )
    async def generate_dues(
        self, data: JSONBody[DuesGenerate], dues_service: NamedDependency[DuesService]
    ) -> DuesGenerated:
        return await dues_service.generate(data.year)

    @get(
        "/{dues_id:uuid}",
        operation_id="getDues",
        summary="One year's dues",
        description="Dues by id.",
    )
    async def get_dues(self, dues_id: FromPath[UUID], dues_service: NamedDependency[DuesService]) -> DuesRead:
        return (await dues_service.read([await dues_service.get(dues_id)]))[0]

    @patch(
        "/{dues_id:uuid}",
        operation_id="updateDues",
        summary="Record a payment or a waiver",
        description="Changes status (invoiced, paid, waived), paid_on, amount or notes. Marked paid without "
        "a date, the payment is dated today.",
        guards=[requires_editor],
    )
    async def update_dues(
        self, dues_id: FromPath[UUID], data: JSONBody[DuesUpdate], dues_service: NamedDependency[DuesService]
    ) -> DuesRead:
        return (await dues_service.read([await dues_service.change(dues_id, data)]))[0]
