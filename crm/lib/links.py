"""The signed links put in e-mails, and how long each stays valid. One place for each purpose,
so that the page that reads a token and the message that carries it agree."""

from __future__ import annotations

from uuid import UUID

from crm.config import Settings
from crm.lib.security import derived_token
from crm.lib.tokens import make_token

CONFIRM = "confirm-subscription"
UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"

# A confirmation link is for now; a way out must keep working long after the message was sent.
CONFIRM_MAX_AGE = 7 * 24 * 3600
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600
PREFERENCES_MAX_AGE = 400 * 24 * 3600


def _secret(settings: Settings) -> str:
    return settings.security.secret_key.get_secret_value()


def _str(value: UUID | str | None) -> str | None:
    return None if value is None else str(value)


def unsubscribe_token(
    settings: Settings, person_id: UUID | str, list_id: UUID | str | None, campaign_id: UUID | str | None
) -> str:
    payload = {"person_id": _str(person_id), "list_id": _str(list_id), "campaign_id": _str(campaign_id)}
    return make_token(_secret(settings), UNSUBSCRIBE, payload)


def unsubscribe_url(
    settings: Settings, person_id: UUID | str, list_id: UUID | str | None, campaign_id: UUID | str | None = None
) -> str:
    """The RFC 8058 one-click link (`List-Unsubscribe` header and footer). Without a list, the
    link takes the person off every list and suppresses the address."""
    return f"{settings.public_url}/u/{unsubscribe_token(settings, person_id, list_id, campaign_id)}"


def preferences_url(settings: Settings, person_id: UUID | str, campaign_id: UUID | str | None = None) -> str:
    """`campaign_id`: the campaign whose message carries the link, so that leaving a list from the
    page counts in that campaign's progress."""
    payload = {"person_id": str(person_id)}
    if campaign_id is not None:
        payload["campaign_id"] = str(campaign_id)
    token = make_token(_secret(settings), PREFERENCES, payload)
    return f"{settings.public_url}/p/{token}"


def confirm_url(settings: Settings, person_id: UUID | str, subscription_ids: list[UUID] | list[str]) -> str:
    token = make_token(
        _secret(settings),
        CONFIRM,
        {"person_id": str(person_id), "subscription_ids": [str(i) for i in subscription_ids]},
    )
    return f"{settings.public_url}/confirm/{token}"


def invitation_token(secret_key: str, invitation_id: UUID) -> str:
    """The token of a staff invitation's link: derived from its id, so that only its hash is stored."""
    return derived_token(secret_key, "staff-invitation", invitation_id)


QUESTIONNAIRE = "questionnaire"
JURY = "jury"
# An answer page stays open for the questionnaire's life (its closing refuses answers, not the link).
QUESTIONNAIRE_MAX_AGE = 400 * 24 * 3600
JURY_MAX_AGE = 180 * 24 * 3600


def questionnaire_url(
    settings: Settings, questionnaire_id: UUID | str, person_id: UUID | str, organisation_id: UUID | str | None
) -> str:
    """The answer page of a person, or of their member for a questionnaire answered once per member
    (colleagues' links open the same answer)."""
    payload = {"questionnaire_id": str(questionnaire_id), "person_id": str(person_id)}
    if organisation_id is not None:
        payload["organisation_id"] = str(organisation_id)
    return f"{settings.public_url}/q/{make_token(_secret(settings), QUESTIONNAIRE, payload)}"


def jury_url(settings: Settings, jury_member_id: UUID | str) -> str:
    """A juror's page: only the applications assigned to them."""
    return f"{settings.public_url}/jury/{make_token(_secret(settings), JURY, {'jury_member_id': str(jury_member_id)})}"


def respondent_key(
    settings: Settings, questionnaire_id: UUID, subject_id: UUID, *, anonymous: bool, per_member: bool
) -> str:
    """Who an answer belongs to: the person or the member in the clear, or, for an anonymous
    questionnaire, a keyed hash only the server can make from the link (nothing in the database
    leads from the answer back to who gave it)."""
    prefix = "o" if per_member else "p"
    if not anonymous:
        return f"{prefix}:{subject_id}"
    return "h:" + derived_token(
        _secret(settings), "questionnaire-respondent", f"{questionnaire_id}:{prefix}:{subject_id}"
    )


ATLAAS_PROPOSAL = "atlaas-proposal"
# Sent to a member's contact to describe an action for the Atlaas: long enough to write it up.
ATLAAS_PROPOSAL_MAX_AGE = 60 * 24 * 3600


def atlaas_proposal_url(
    settings: Settings, person_id: UUID | str, organisation_id: UUID | str, action_id: UUID | str | None = None
) -> str:
    """The page where a contact proposes an action of their organisation (or changes to one) for
    the Atlaas; staff review it before anything is published."""
    payload = {"person_id": str(person_id), "organisation_id": str(organisation_id), "action_id": _str(action_id)}
    token = make_token(_secret(settings), ATLAAS_PROPOSAL, payload)
    return f"{settings.public_url}/atlaas/proposer/{token}"
