"""Reading what comes back: delivery status notifications (RFC 3464), feedback-loop reports
(ARF, RFC 5965) and mailto unsubscribe requests. Pure functions over the raw message, so that
`crm inbound`, the IMAP poller and the tests read them the same way.

Which delivery a report is about is taken only from our signed tags (crm.lib.verp): the return
path a bounce is sent to, the `Original-Mail-From` of a feedback report, or the tagged mailto
address in the original's `List-Unsubscribe`. A Message-ID quoted in a report is not signed, so it
is never trusted: a forged report cannot suppress someone else."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from enum import StrEnum
from uuid import UUID

from crm.lib.verp import BOUNCE_PREFIX, UNSUBSCRIBE_PREFIX, read_tag, tag_of

# 5.x.x codes about the mailbox's state or the message rather than the address (RFC 3463): the
# address may work tomorrow, so they count as soft bounces. 5.7.x is the receiver's policy
# (reputation, content), not a dead address either.
SOFT_PERMANENT = ("5.2.1", "5.2.2", "5.2.3", "5.3.4", "5.7.")
STATUS_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
ADDRESS = re.compile(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+")


class ReportKind(StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    OTHER = "other"  # an answer to a DSN that says it was delivered, an auto-reply, spam...


@dataclass
class Report:
    kind: ReportKind
    delivery_id: UUID | None = None
    status: str | None = None  # the RFC 3463 code, e.g. 5.1.1
    action: str | None = None  # failed, delayed, delivered, relayed, expanded
    diagnostic: str | None = None
    reporter: str | None = None
    feedback_type: str | None = None  # abuse, fraud... (ARF)
    addresses: list[str] = field(default_factory=list)  # where the tag was looked for

    @property
    def hard(self) -> bool:
        """A permanent failure of the address itself: suppress it at once."""
        if self.kind is not ReportKind.BOUNCE or not self.status or not self.status.startswith("5."):
            return False
        return not self.status.startswith(SOFT_PERMANENT)

    @property
    def counts(self) -> bool:
        """A bounce worth recording: failed or delayed (a 'delivered' notice is not)."""
        return self.kind is ReportKind.BOUNCE and self.status is not None and self.status[:1] in ("4", "5")


def parse_message(raw: bytes) -> Message:
    # compat32: the modern policy parses every header it is asked for into objects, which costs
    # a quarter of a report's handling; reports are read for a few plain fields.
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return payload.decode(part.get_content_charset() or "utf-8", "replace")


def _fields(part: Message) -> list[Message]:
    """The field groups of a `message/delivery-status` or `message/feedback-report` part. The
    email package parses the first as a list of header blocks; the second arrives as one block or
    as text, depending on the sender's MIME."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    if part.get("Content-Transfer-Encoding", "").lower() == "base64":
        text = part.get_payload(decode=True).decode("utf-8", "replace")  # type: ignore[union-attr]
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [email.message_from_string(b + "\n", policy=email.policy.compat32) for b in blocks if b.strip()]


def _value(block: Message, name: str) -> str | None:
    value = block.get(name)
    if value is None:
        return None
    return " ".join(str(value).split())


def _typed(value: str | None) -> str | None:
    """`rfc822; jane@example.fr` -> `jane@example.fr`."""
    if value is None:
        return None
    return value.partition(";")[2].strip() if ";" in value else value.strip()


def _original_headers(message: Message) -> Message | None:
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if ctype == "text/rfc822-headers":
            return email.message_from_string(_decoded(part), policy=email.policy.compat32)
    return None


def _tagged(addresses: list[str], secret: str, purpose: str) -> UUID | None:
    for candidate in addresses:
        tag = tag_of(candidate)
        if tag and (found := read_tag(secret, purpose, tag)):
            return found
    return None


def _addresses(*values: str | None) -> list[str]:
    return [a for value in values if value for a in ADDRESS.findall(value)]


def _text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            try:
                return _decoded(part)
            except LookupError:  # an unknown charset
                return ""
    return ""


def read_report(raw: bytes, envelope_recipients: list[str], secret: str, unsubscribe_mailbox: str) -> Report:
    """What one incoming message is. `envelope_recipients`: the RCPT TO addresses (SMTP), or
    empty when polled from a mailbox (then Delivered-To / X-Original-To / To stand in)."""
    message = parse_message(raw)
    headers = _addresses(
        *[str(v) for name in ("Delivered-To", "X-Original-To", "To") for v in (message.get_all(name) or [])]
    )
    recipients = [*envelope_recipients, *headers]
    content_type = message.get_content_type()
    param = message.get_param("report-type") if content_type == "multipart/report" else None
    report_type = param.lower() if isinstance(param, str) else ""
    parts = {part.get_content_type(): part for part in message.walk()}

    if report_type == "feedback-report" or "message/feedback-report" in parts:
        return _complaint(message, parts.get("message/feedback-report"), recipients, secret)
    if report_type == "delivery-status" or "message/delivery-status" in parts:
        return _bounce(message, parts.get("message/delivery-status"), recipients, secret)

    unsubscribe_local = unsubscribe_mailbox.rpartition("@")[0].lower()
    subject = str(message.get("Subject", ""))
    to_unsubscribe = [a for a in recipients if a.lower().partition("+")[0] == unsubscribe_local]
    subject_tag = re.search(r"\b([a-z2-7]{26}-[a-z2-7]{13})\b", subject.lower())
    if to_unsubscribe or (subject_tag and "unsubscribe" in subject.lower()):
        delivery = _tagged(to_unsubscribe, secret, UNSUBSCRIBE_PREFIX)
        if delivery is None and subject_tag:
            delivery = read_tag(secret, UNSUBSCRIBE_PREFIX, subject_tag.group(1))
        return Report(ReportKind.UNSUBSCRIBE, delivery, addresses=recipients)

    # A bounce that is not an RFC 3464 report (some servers still write prose): the return path
    # says which delivery, the prose gives the status when it holds one.
    delivery = _tagged(recipients, secret, BOUNCE_PREFIX)
    if delivery is not None:
        text = _text_of(message)
        code = STATUS_CODE.search(text)
        if code:
            status = code.group(0)
            line = next((ln.strip() for ln in text.splitlines() if status in ln), "")
            return Report(
                ReportKind.BOUNCE,
                delivery,
                status=status,
                action="failed" if status.startswith("5") else "delayed",
                diagnostic=line[:1000] or None,
                addresses=recipients,
            )
    return Report(ReportKind.OTHER, delivery, addresses=recipients)


def _bounce(message: Message, part: Message | None, recipients: list[str], secret: str) -> Report:
    blocks = _fields(part) if part is not None else []
    per_message = blocks[0] if blocks else None
    reporter = _typed(_value(per_message, "Reporting-MTA")) if per_message is not None else None
    # The worst recipient block: a DSN for one message of ours names one recipient, but a relay may
    # add 'delivered' or 'relayed' blocks beside the failure.
    chosen: Message | None = None
    for block in blocks[1:]:
        action = (_value(block, "Action") or "").lower()
        if action == "failed" or (action == "delayed" and chosen is None):
            chosen = block
    original = _original_headers(message)
    tag_places = [*recipients]
    if original is not None:
        tag_places += _addresses(str(original.get("Return-Path", "")))
    delivery = _tagged(tag_places, secret, BOUNCE_PREFIX)
    if chosen is None:
        return Report(ReportKind.OTHER, delivery, reporter=reporter, addresses=tag_places)
    status = _value(chosen, "Status")
    code = STATUS_CODE.search(status or "")
    diagnostic = _value(chosen, "Diagnostic-Code")
    if code is None and diagnostic:
        code = STATUS_CODE.search(diagnostic)
    return Report(
        ReportKind.BOUNCE,
        delivery,
        status=code.group(0) if code else None,
        action=(_value(chosen, "Action") or "").lower() or None,
        diagnostic=(_typed(diagnostic) or "")[:1000] or None,
        reporter=reporter,
        addresses=tag_places,
    )


def _complaint(message: Message, part: Message | None, recipients: list[str], secret: str) -> Report:
    blocks = _fields(part) if part is not None else []
    block = blocks[0] if blocks else None
    original = _original_headers(message)
    tag_places = [*recipients]
    unsubscribe_places: list[str] = []
    if block is not None:
        tag_places += _addresses(_value(block, "Original-Mail-From"))
    if original is not None:
        tag_places += _addresses(str(original.get("Return-Path", "")))
        unsubscribe_places = _addresses(str(original.get("List-Unsubscribe", "")).replace("mailto:", " "))
    delivery = _tagged(tag_places, secret, BOUNCE_PREFIX) or _tagged(unsubscribe_places, secret, UNSUBSCRIBE_PREFIX)
    return Report(
        ReportKind.COMPLAINT,
        delivery,
        feedback_type=(_value(block, "Feedback-Type") or "abuse").lower() if block is not None else "abuse",
        reporter=(_value(block, "Reported-Domain") or _value(block, "User-Agent")) if block is not None else None,
        addresses=tag_places + unsubscribe_places,
    )
