"""Questionnaires (questionnaires): member surveys (enquêtes) and the label's yearly application
(candidature), their frozen versions, who was asked, the answers, and the label jury's scores.

Anonymous mode: `questionnaire_recipient` holds the fact "this person (or member) has answered";
`questionnaire_response` holds the answers. For an anonymous questionnaire the response carries no
person or organisation id, only a keyed hash that the answer page recomputes from its signed link
(the key is the server's secret, which staff never see), and the recipient's answer day is kept to
the day, so that nothing in the database joins an answer back to a person."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db.base import Audited, Base
from crm.db.models.organisation import pg_enum


class QuestionnaireKind(enum.StrEnum):
    SURVEY = "survey"  # enquête
    LABEL_APPLICATION = "label_application"  # candidature au label


class QuestionnaireStatus(enum.StrEnum):
    DRAFT = "draft"  # being built; nobody can answer
    OPEN = "open"  # published: answers taken
    CLOSED = "closed"  # answers refused


class AnsweredBy(enum.StrEnum):
    PERSON = "person"  # one answer per person asked
    ORGANISATION = "organisation"  # one answer per member: colleagues continue the same answer


class ResponseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"  # label applications: with the jury
    DECIDED = "decided"


class Questionnaire(Audited, Base):
    __tablename__ = "questionnaire"
    __table_args__ = (
        CheckConstraint("kind <> 'label_application' OR label_year IS NOT NULL", name="label_has_year"),
        Index(
            "uq_questionnaire_label_year", "label_year", unique=True, postgresql_where=text("label_year IS NOT NULL")
        ),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[QuestionnaireKind] = mapped_column(pg_enum(QuestionnaireKind, "questionnaire_kind"))
    status: Mapped[QuestionnaireStatus] = mapped_column(
        pg_enum(QuestionnaireStatus, "questionnaire_status"), default=QuestionnaireStatus.DRAFT
    )
    answered_by: Mapped[AnsweredBy] = mapped_column(pg_enum(AnsweredBy, "questionnaire_answered_by"))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # The sections and questions being edited; publishing freezes them into a version.
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    current_version: Mapped[int | None] = mapped_column(Integer)
    closes_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # Reminders go once on each of these days to those who have not answered.
    reminder_dates: Mapped[list[date]] = mapped_column(ARRAY(Date), default=list)
    # The label's application: its year and the criteria the jury scores (key, label, max).
    label_year: Mapped[int | None] = mapped_column(Integer)
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # The results page is public (linked from the archive by a publication).
    results_public: Mapped[bool] = mapped_column(Boolean, default=False)


class QuestionnaireVersion(Base):
    """A published, frozen version: answers name the one they answered."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("questionnaire_id", "number", name="uq_questionnaire_version_number"),)

    questionnaire_id: Mapped[UUID] = mapped_column(ForeignKey("questionnaire.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB)


class QuestionnaireRecipient(Base):
    """Someone asked to answer, and whether they have: never the answer itself."""

    __tablename__ = "questionnaire_recipient"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "person_id", name="uq_questionnaire_recipient_person"),
        Index("ix_questionnaire_recipient_organisation", "questionnaire_id", "organisation_id"),
    )

    questionnaire_id: Mapped[UUID] = mapped_column(ForeignKey("questionnaire.id", ondelete="CASCADE"))
    person_id: Mapped[UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # The member the person answers for (questionnaires answered once per member).
    organisation_id: Mapped[UUID | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    # Kept to the day: a time would match the anonymous answer's.
    answered_on: Mapped[date | None] = mapped_column(Date)
    reminded_on: Mapped[list[date]] = mapped_column(ARRAY(Date), default=list)


class QuestionnaireResponse(Base):
    """One answer to a questionnaire (of a person, or of a member), draft until submitted."""

    __tablename__ = "questionnaire_response"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "respondent_key", name="uq_questionnaire_response_respondent"),
        Index("ix_questionnaire_response_status", "questionnaire_id", "status"),
    )

    questionnaire_id: Mapped[UUID] = mapped_column(ForeignKey("questionnaire.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    # Who answers, as the link says: the ids in the clear, or a keyed hash when anonymous.
    respondent_key: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[UUID | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    organisation_id: Mapped[UUID | None] = mapped_column(ForeignKey("organisation.id", ondelete="SET NULL"), index=True)
    # What the results group by, copied when the answer starts (anonymous answers keep them too).
    region_code: Mapped[str | None] = mapped_column(String(3))
    population_band: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[ResponseStatus] = mapped_column(
        pg_enum(ResponseStatus, "questionnaire_response_status"), default=ResponseStatus.DRAFT
    )
    submitted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    # The label's decision: level 1 to 5 "@", and the green "@".
    decided_level: Mapped[int | None] = mapped_column(Integer)
    decided_green: Mapped[bool | None] = mapped_column(Boolean)


class QuestionnaireAnswer(Base):
    """One question's answer: saved on its own, so the last write to each question wins and two
    colleagues typing in different questions never overwrite each other."""

    __tablename__ = "questionnaire_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_key", name="uq_questionnaire_answer_question"),)

    response_id: Mapped[UUID] = mapped_column(ForeignKey("questionnaire_response.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(60))
    value: Mapped[Any] = mapped_column(JSONB)


class QuestionnaireFile(Base):
    """A file attached to an answer (within the question's size limit)."""

    __tablename__ = "questionnaire_file"

    response_id: Mapped[UUID] = mapped_column(ForeignKey("questionnaire_response.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class JuryMember(Audited, Base):
    """A juror of a label year: a staff account, or an outsider reached by a signed link."""

    __tablename__ = "jury_member"

    questionnaire_id: Mapped[UUID] = mapped_column(ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[UUID | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))


class JuryAssignment(Base):
    __tablename__ = "jury_assignment"
    __table_args__ = (UniqueConstraint("jury_member_id", "response_id", name="uq_jury_assignment"),)

    jury_member_id: Mapped[UUID] = mapped_column(ForeignKey("jury_member.id", ondelete="CASCADE"))
    response_id: Mapped[UUID] = mapped_column(ForeignKey("questionnaire_response.id", ondelete="CASCADE"), index=True)
    # The juror's marks on the year's criteria ({criterion key: points}) and comment.
    scores: Mapped[dict[str, int]] = mapped_column(JSONB, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
