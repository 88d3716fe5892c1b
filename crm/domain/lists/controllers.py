"""Mailing lists, subscriptions (with their proof) and the suppression list."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, Parameter

from crm.db.models.lists import ListKind, Subscription, SubscriptionStatus
from crm.db.models.suppression import SuppressionReason
from crm.domain.auth.guards import requires_admin, requires_editor, requires_viewer
from crm.domain.lists.schemas import (
    BulkSubscribe,
    BulkSubscribeResult,
    CsvSubscribeUpload,
    MailingListCreate,
    MailingListRead,
    MailingListUpdate,
    SubscriptionCreate,
    SubscriptionRead,
    SubscriptionUpdate,
    SuppressionCreate,
    SuppressionRead,
)
from crm.domain.lists.services import MailingListService, SubscriptionService, SuppressionService, people_of_csv
from crm.domain.providers import provide_mailing_list_service, provide_subscription_service, provide_suppression_service
from crm.domain.system import mail as system_mail
from crm.lib.listing import ListQuery, list_query, page
from crm.lib.schemas import Page
from crm.lib.services import after_commit

LIST_SORTABLE = frozenset({"name", "slug", "kind", "created_at"})
SUBSCRIPTION_SORTABLE = frozenset({"created_at", "updated_at", "status", "consented_at", "confirmed_at"})
SUPPRESSION_SORTABLE = frozenset({"created_at", "reason"})


async def _send_confirmation(
    request: Request[Any, Any, Any], subscription_service: SubscriptionService, subscription: Subscription
) -> None:
    """The double opt-in e-mail the public form sends too: an outbox row of this transaction; the
    worker is woken once the request is committed."""
    await system_mail.queue_confirmations(subscription_service.session, [subscription.id])
    redis = request.app.state.redis
    after_commit(subscription_service.session, lambda: system_mail.wake(redis))


async def _subscribe_many(
    request: Request[Any, Any, Any], list_id: UUID, data: BulkSubscribe, subscription_service: SubscriptionService
) -> BulkSubscribeResult:
    counts, pending = await subscription_service.subscribe_many(list_id, **data.model_dump())
    await system_mail.queue_confirmations(subscription_service.session, pending)
    if pending:
        redis = request.app.state.redis
        after_commit(subscription_service.session, lambda: system_mail.wake(redis))
    return BulkSubscribeResult(**counts)


class MailingListController(Controller):
    path = "/api/v1/lists"
    tags = ["Lists and subscriptions"]
    guards = [requires_viewer]
    dependencies = {
        "list_service": provide_mailing_list_service,
        "subscription_service": provide_subscription_service,
        "listing": list_query(LIST_SORTABLE),
    }

    @get(
        "/",
        operation_id="listMailingLists",
        summary="List mailing lists",
        description="Every mailing list. `q` searches name and slug.",
    )
    async def list_lists(
        self,
        list_service: NamedDependency[MailingListService],
        listing: NamedDependency[ListQuery],
        kind: Annotated[ListKind | None, Parameter(description="Only this kind")] = None,
        is_public: Annotated[bool | None, Parameter(description="Only public (true) or internal (false) lists")] = None,
    ) -> Page[MailingListRead]:
        items, total = await list_service.search(listing, LIST_SORTABLE, kind=kind, is_public=is_public)
        return Page[MailingListRead](**page([MailingListRead.model_validate(i) for i in items], total, listing))

    @get(
        "/{list_id:uuid}",
        operation_id="getMailingList",
        summary="One mailing list",
        description="A mailing list by id.",
    )
    async def get_list(
        self, list_service: NamedDependency[MailingListService], list_id: FromPath[UUID]
    ) -> MailingListRead:
        return MailingListRead.model_validate(await list_service.get(list_id))

    @post(
        "/",
        guards=[requires_editor],
        operation_id="createMailingList",
        summary="Create a mailing list",
        description="A new list; the slug names it in public links and must be unique.",
    )
    async def create_list(
        self, data: JSONBody[MailingListCreate], list_service: NamedDependency[MailingListService]
    ) -> MailingListRead:
        return MailingListRead.model_validate(await list_service.add(data.model_dump()))

    @patch(
        "/{list_id:uuid}",
        guards=[requires_editor],
        operation_id="updateMailingList",
        summary="Change a mailing list",
        description="Changes the fields sent.",
    )
    async def update_list(
        self,
        list_id: FromPath[UUID],
        data: JSONBody[MailingListUpdate],
        list_service: NamedDependency[MailingListService],
    ) -> MailingListRead:
        values = data.model_dump(exclude_unset=True)
        return MailingListRead.model_validate(await list_service.change(list_id, values))

    @post(
        "/{list_id:uuid}/subscriptions",
        guards=[requires_editor],
        operation_id="subscribeManyToList",
        summary="Subscribe a segment, people or addresses to a list",
        status_code=200,
        description="One call for many: everyone the segment selects, the `person_ids` and the people "
        "whose address is in `emails` (up to 50,000 of each), with one legal basis and its proof, "
        "written on each subscription and in one audit entry. Answers the counts: subscribed, pending "
        "(consent on a double opt-in list: each is e-mailed the confirmation link), already there, left "
        "before (people who unsubscribed from this list are not put back in bulk), the suppressed "
        "addresses (never subscribed), people without an address, and the ids and addresses not found.",
    )
    async def subscribe_many(
        self,
        request: Request[Any, Any, Any],
        list_id: FromPath[UUID],
        data: JSONBody[BulkSubscribe],
        subscription_service: NamedDependency[SubscriptionService],
    ) -> BulkSubscribeResult:
        return await _subscribe_many(request, list_id, data, subscription_service)

    @post(
        "/{list_id:uuid}/subscriptions/csv",
        guards=[requires_editor],
        operation_id="subscribeCsvToList",
        summary="Subscribe the people of a CSV file to a list",
        status_code=200,
        description="Multipart form: `file` (a CSV as the people import reads it: UTF-8 or Windows-1252, "
        "semicolons or commas, a `Courriel`/`E-mail` or `id` column), `legal_basis`, and optionally "
        "`source` (default `import`), `consent_text`, `consent_version`. Subscribes the people the rows "
        "name (by id, else by address) with that basis, as `subscribeManyToList` does, and answers the "
        "same counts: import the people first, then subscribe the same file.",
    )
    async def subscribe_csv(
        self,
        request: Request[Any, Any, Any],
        list_id: FromPath[UUID],
        data: Annotated[CsvSubscribeUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        subscription_service: NamedDependency[SubscriptionService],
    ) -> BulkSubscribeResult:
        emails, person_ids = people_of_csv(await data.file.read())
        proof = BulkSubscribe.model_validate(
            {
                "emails": emails,
                "person_ids": person_ids,
                "legal_basis": data.legal_basis,
                "source": data.source or "import",
                "consent_text": data.consent_text or None,
                "consent_version": data.consent_version or None,
            }
        )
        return await _subscribe_many(request, list_id, proof, subscription_service)

    @delete(
        "/{list_id:uuid}",
        guards=[requires_admin],
        operation_id="deleteMailingList",
        summary="Delete a mailing list",
        description="Deletes the list and its subscriptions (the audit log keeps their history).",
    )
    async def delete_list(self, list_id: FromPath[UUID], list_service: NamedDependency[MailingListService]) -> None:
        await list_service.delete(list_id)


class SubscriptionController(Controller):
    path = "/api/v1/subscriptions"
    tags = ["Lists and subscriptions"]
    guards = [requires_viewer]
    dependencies = {
        "subscription_service": provide_subscription_service,
        "listing": list_query(SUBSCRIPTION_SORTABLE),
    }

    @get(
        "/",
        operation_id="listSubscriptions",
        summary="List subscriptions",
        description="Subscriptions with their proof (legal basis, source, dates, consent text and version).",
    )
    async def list_subscriptions(
        self,
        subscription_service: NamedDependency[SubscriptionService],
        listing: NamedDependency[ListQuery],
        list_id: Annotated[UUID | None, Parameter(description="Only this list")] = None,
        person_id: Annotated[UUID | None, Parameter(description="Only this person")] = None,
        status: Annotated[SubscriptionStatus | None, Parameter(description="Only this status")] = None,
    ) -> Page[SubscriptionRead]:
        items, total = await subscription_service.search(
            listing, SUBSCRIPTION_SORTABLE, list_id=list_id, person_id=person_id, status=status
        )
        return Page[SubscriptionRead](**page([SubscriptionRead.model_validate(i) for i in items], total, listing))

    @get(
        "/{subscription_id:uuid}",
        operation_id="getSubscription",
        summary="One subscription",
        description="A subscription by id, with its proof.",
    )
    async def get_subscription(
        self, subscription_service: NamedDependency[SubscriptionService], subscription_id: FromPath[UUID]
    ) -> SubscriptionRead:
        return SubscriptionRead.model_validate(await subscription_service.get(subscription_id))

    @post(
        "/",
        guards=[requires_editor],
        operation_id="createSubscription",
        summary="Subscribe a person to a list",
        description="Records the subscription and its proof. On legitimate interest (a professional "
        "address) the person is subscribed at once. Consent on a double opt-in list waits for the "
        "person's confirmation: the subscription stays `pending` and the person is e-mailed the same "
        "confirmation link as from the public form (see `resendSubscriptionConfirmation`). A suppressed "
        "address is refused (422).",
    )
    async def create_subscription(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[SubscriptionCreate],
        subscription_service: NamedDependency[SubscriptionService],
    ) -> SubscriptionRead:
        subscription = await subscription_service.add_by_staff(**data.model_dump())
        if subscription.status == SubscriptionStatus.PENDING:
            await _send_confirmation(request, subscription_service, subscription)
        return SubscriptionRead.model_validate(subscription)

    @post(
        "/{subscription_id:uuid}/resend-confirmation",
        guards=[requires_editor],
        operation_id="resendSubscriptionConfirmation",
        summary="Send the confirmation e-mail again",
        description="E-mails the person the double opt-in link again (e.g. the first one was lost or has "
        "expired). Only for a pending subscription (409 otherwise); a suppressed address gets nothing.",
        status_code=202,
    )
    async def resend_confirmation(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[UUID],
        subscription_service: NamedDependency[SubscriptionService],
    ) -> SubscriptionRead:
        subscription = await subscription_service.pending_for_confirmation(subscription_id)
        await _send_confirmation(request, subscription_service, subscription)
        return SubscriptionRead.model_validate(subscription)

    @patch(
        "/{subscription_id:uuid}",
        guards=[requires_editor],
        operation_id="updateSubscription",
        summary="Unsubscribe a person from a list",
        description="Sets the status to `unsubscribed`, with a reason; the proof stays on record.",
    )
    async def update_subscription(
        self,
        subscription_id: FromPath[UUID],
        data: JSONBody[SubscriptionUpdate],
        subscription_service: NamedDependency[SubscriptionService],
    ) -> SubscriptionRead:
        subscription = await subscription_service.change_status(subscription_id, data.status, data.unsubscribe_reason)
        return SubscriptionRead.model_validate(subscription)


class SuppressionController(Controller):
    path = "/api/v1/suppressions"
    tags = ["Lists and subscriptions"]
    guards = [requires_admin]
    dependencies = {
        "suppression_service": provide_suppression_service,
        "listing": list_query(SUPPRESSION_SORTABLE),
    }

    @get(
        "/",
        operation_id="listSuppressions",
        summary="List suppressed addresses",
        description="The suppression list: hash, reason and date, never the address. `email` finds "
        "whether one address is on it.",
    )
    async def list_suppressions(
        self,
        suppression_service: NamedDependency[SuppressionService],
        listing: NamedDependency[ListQuery],
        reason: Annotated[SuppressionReason | None, Parameter(description="Only this reason")] = None,
        email: Annotated[
            str | None, Parameter(max_length=320, description="Only this address (matched by its hash)")
        ] = None,
    ) -> Page[SuppressionRead]:
        items, total = await suppression_service.search(listing, SUPPRESSION_SORTABLE, reason=reason, email=email)
        return Page[SuppressionRead](**page([SuppressionRead.model_validate(i) for i in items], total, listing))

    @post(
        "/",
        operation_id="createSuppression",
        summary="Suppress an address",
        description="No message will be sent to this address again, and it cannot be subscribed.",
    )
    async def create_suppression(
        self, data: JSONBody[SuppressionCreate], suppression_service: NamedDependency[SuppressionService]
    ) -> SuppressionRead:
        return SuppressionRead.model_validate(await suppression_service.suppress(data.email, data.reason, data.note))

    @delete(
        "/{suppression_id:uuid}",
        operation_id="deleteSuppression",
        summary="Lift a suppression",
        description="Removes the address from the suppression list (e.g. a bounce that was a mistake).",
    )
    async def delete_suppression(
        self, suppression_id: FromPath[UUID], suppression_service: NamedDependency[SuppressionService]
    ) -> None:
        await suppression_service.delete(suppression_id)
