"""The system of record: inbound and outbound messages, delivery reports, reports and their
timeline. Unique constraints here are the real idempotency guards; RQ job ids are only the
cheap ones."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now in UTC (stored as UTC on every backend)."""
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive ones back; all are UTC)."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def values(choices: type[StrEnum]) -> tuple[str, ...]:
    """The members' values as plain strings, in definition order: for pydantic Literals and
    click Choices, which treat enum members by name, and for messages listing the choices."""
    return tuple(member.value for member in choices)


class Base(DeclarativeBase):
    pass


class InboundStatus(StrEnum):
    """Where an inbound message (MO) is in its processing. QUARANTINED: handling it kept
    failing; set aside (see QuarantinedWork) so it cannot hold up the MOs behind it."""

    PENDING = "PENDING"
    DONE = "DONE"
    QUARANTINED = "QUARANTINED"


class ReportStatus(StrEnum):
    """A report's status (DESIGN.md "Report statuses"); `label` is what citizens read."""

    RECEIVED = "RECEIVED"
    VERIFIED = "VERIFIED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    POSTPONED = "POSTPONED"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    ARCHIVED = "ARCHIVED"

    @property
    def label(self) -> str:
        return REPORT_STATUS_LABELS[self]


# Report statuses and the labels citizens read, in the contract's order.
REPORT_STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.RECEIVED: "Belum diverifikasi",
    ReportStatus.VERIFIED: "Terverifikasi",
    ReportStatus.IN_PROGRESS: "Ditindaklanjuti",
    ReportStatus.DONE: "Selesai",
    ReportStatus.POSTPONED: "Ditunda",
    ReportStatus.OUT_OF_SCOPE: "Bukan wewenang",
    ReportStatus.ARCHIVED: "Diarsipkan",
}


class Privacy(StrEnum):
    """Who may see a report: PUBLIC; CONFIDENTIAL (LAPOR RAHASIA: not published); ANONYMOUS
    (LAPOR ANONIM: published, reporter hidden)."""

    PUBLIC = "PUBLIC"
    CONFIDENTIAL = "CONFIDENTIAL"
    ANONYMOUS = "ANONYMOUS"


PRIVACY_LEVELS = values(Privacy)


class Channel(StrEnum):
    """How a citizen reached us (a report's or an opt-out's channel)."""

    SMS = "SMS"
    USSD = "USSD"


class EventKind(StrEnum):
    """What one entry of a report's timeline records."""

    CREATED = "CREATED"
    STATUS = "STATUS"
    FOLLOW_UP = "FOLLOW_UP"
    CITIZEN_REPLY = "CITIZEN_REPLY"
    ADMIN_REPLY = "ADMIN_REPLY"


class OutboundKind(StrEnum):
    """Why an MT exists: the REPLY to a citizen's own text, or a NOTICE we start (follow-ups,
    status changes, USSD hand-offs; opted-out numbers get no notices)."""

    REPLY = "REPLY"
    NOTICE = "NOTICE"


class OutboundStatus(StrEnum):
    """Where an MT is; `OUTBOUND_ORDER` ranks them."""

    QUEUED = "QUEUED"
    SENDING = "SENDING"
    ACCEPTED = "ACCEPTED"
    SENT = "SENT"
    UNKNOWN = "UNKNOWN"
    DELIVERED = "DELIVERED"
    UNDELIVERED = "UNDELIVERED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"
    QUARANTINED = "QUARANTINED"
    SUPPRESSED = "SUPPRESSED"


# Outbound states, in the order a message moves through them. A delivery report may only
# move a message forward in this order, and never out of a terminal state.
OUTBOUND_ORDER = {
    OutboundStatus.QUEUED: 0,  # waiting for a send attempt (first or retry, see next_attempt_at)
    OutboundStatus.SENDING: 1,  # a worker is submitting it now
    OutboundStatus.ACCEPTED: 2,  # the aggregator's send API took it
    OutboundStatus.SENT: 3,  # the SMSC took it (DLR)
    OutboundStatus.UNKNOWN: 3,
    OutboundStatus.DELIVERED: 9,
    OutboundStatus.UNDELIVERED: 9,
    OutboundStatus.EXPIRED: 9,
    OutboundStatus.REJECTED: 9,
    OutboundStatus.FAILED: 9,  # the send failed permanently or ran out of attempts (requeueable by an admin)
    OutboundStatus.QUARANTINED: 9,  # sending it kept failing inside the gateway (see QuarantinedWork)
    # A notice to a number that opted out (BERHENTI/STOP/UNREG, see OptOut): kept, never sent,
    # so the report's timeline shows what the reporter was not told.
    OutboundStatus.SUPPRESSED: 9,
}
TERMINAL_RANK = 9
# Statuses a delivery report may carry (the generic contract's list): the MT statuses a DLR
# moves a message to. Aggregators' status tables map their codes to these.
DLR_STATUSES = (
    OutboundStatus.SENT,
    OutboundStatus.DELIVERED,
    OutboundStatus.UNDELIVERED,
    OutboundStatus.EXPIRED,
    OutboundStatus.REJECTED,
    OutboundStatus.FAILED,
    OutboundStatus.UNKNOWN,
)


class InboundMessage(Base):
    """One MO as received; stored before the aggregator is acknowledged."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("aggregator", "external_id", name="uq_inbound_aggregator_external_id"),
        Index("ix_inbound_status_received", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregator: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    # No index on the sender: nothing looks MOs up by number (reports and replies carry it),
    # and every index is written for every MO the receiver stores; this one cost about 5 us
    # of CPU per insert on SQLite (27 -> 22) and 6 on PostgreSQL's side (97 -> 91), 20,000
    # inserts, 3 rounds. A rare look-up by number (abuse, a citizen's data request) can scan.
    msisdn: Mapped[str] = mapped_column(String(20))
    to: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.PENDING)
    command: Mapped[str | None] = mapped_column(String(16))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # use_alter: reports also point at inbound_messages (the MO that filed them).
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", use_alter=True, name="fk_inbound_report")
    )
    # Set through the object, so a batch of MOs and their new reports is written in one
    # flush (bulk INSERTs) instead of a flush per report to learn its id.
    report: Mapped[Report | None] = relationship(foreign_keys=[report_id])


class MultipartStatus(StrEnum):
    """A long SMS delivered part by part (gateway.services.multipart): OPEN while parts arrive;
    COMPLETE or INCOMPLETE (the timeout passed first) once its one inbox MO is made;
    QUARANTINED when making it kept failing (see QuarantinedWork)."""

    OPEN = "OPEN"
    COMPLETE = "COMPLETE"
    INCOMPLETE = "INCOMPLETE"
    QUARANTINED = "QUARANTINED"


class MultipartMessage(Base):
    """One long SMS whose parts an aggregator delivers separately. `open_key` (aggregator,
    sender, part count, reference) is set only while it is OPEN: its unique key lets one
    process open the message, and the same reference may start a new message once this one is
    closed. Closing it (OPEN -> COMPLETE/INCOMPLETE, one conditional UPDATE) makes the one
    inbox MO, `inbound_id`."""

    __tablename__ = "multipart_messages"
    __table_args__ = (
        Index("ix_multipart_status_opened", "status", "opened_at"),
        Index("ix_multipart_sender_ref", "aggregator", "msisdn", "ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregator: Mapped[str] = mapped_column(String(32))
    msisdn: Mapped[str] = mapped_column(String(20))
    to: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(32))
    total: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=MultipartStatus.OPEN)
    open_key: Mapped[str | None] = mapped_column(String(96), unique=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), unique=True)


class MessagePartRow(Base):
    """One part of a MultipartMessage, stored before the aggregator is acknowledged. Unique by
    the aggregator's id (a retried part) and by its index in the message (the same part again
    under another id). `late`: it came after the message was closed (recorded, not filed)."""

    __tablename__ = "multipart_parts"
    __table_args__ = (
        UniqueConstraint("aggregator", "external_id", name="uq_multipart_part_external_id"),
        UniqueConstraint("message_id", "part_index", name="uq_multipart_part_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("multipart_messages.id"))
    aggregator: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(128))
    part_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class Report(Base):
    """A citizen's complaint."""

    __tablename__ = "reports"
    __table_args__ = (
        # The admin API's report list: newest first (ORDER BY created_at DESC, id DESC, one
        # page), optionally by status or a date range. Without them every page sorts the
        # whole table (migration 0002).
        Index("ix_reports_created", "created_at", "id"),
        Index("ix_reports_status_created", "status", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_no: Mapped[str] = mapped_column(String(10), unique=True)
    msisdn: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(Text)
    privacy: Mapped[str] = mapped_column(String(16), default=Privacy.PUBLIC)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.RECEIVED)
    channel: Mapped[str] = mapped_column(String(8), default=Channel.SMS)
    # What filed it ("sms:<inbound id>", "ussd:<session id>"): unique, so a job or a USSD
    # step that runs twice files one report.
    source_key: Mapped[str] = mapped_column(String(80), unique=True)
    source_inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # The SLA clock's inputs (gateway.services.sla).
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_follow_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_citizen_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    events: Mapped[list[ReportEvent]] = relationship(back_populates="report", order_by="ReportEvent.id")


class ReportEvent(Base):
    """One entry of a report's timeline: created, status change, follow-up, citizen reply."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # an EventKind
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64), default="citizen")
    # What caused a citizen event ("sms:<inbound id>", ...): unique, so a BALAS processed
    # twice is recorded once.
    source_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    report: Mapped[Report] = relationship(back_populates="events")


class OutboundMessage(Base):
    """One MT. `dedupe_key` names why it exists (e.g. `reply:<inbound id>`), so the same
    reason never produces two messages."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_status_next", "status", "next_attempt_at"),
        Index("ix_outbound_aggregator_external", "aggregator", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=OutboundKind.REPLY)
    aggregator: Mapped[str] = mapped_column(String(32))
    msisdn: Mapped[str] = mapped_column(String(20), index=True)
    sender: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OutboundStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(128))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    report: Mapped[Report | None] = relationship()
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What it costs (set by gateway.services.outbox.queue_message; migration 0003 counted the
    # older rows): SMS segments and the encoding they were counted in, GSM-7 or UCS-2.
    segments: Mapped[int | None] = mapped_column(Integer)
    encoding: Mapped[str | None] = mapped_column(String(8))


class OptOut(Base):
    """A number that asked for no more notices (BERHENTI, STOP, UNREG). Answers to its own
    texts still go; MULAI or START deletes the row. Keyed by the E.164 number, so a number
    opts out once however many times it asks."""

    __tablename__ = "opt_outs"

    msisdn: Mapped[str] = mapped_column(String(20), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    channel: Mapped[str] = mapped_column(String(8), default=Channel.SMS)  # how it was asked for
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"))  # the MO that asked


class DeliveryReport(Base):
    """Every DLR as received. One that arrives before we recorded the aggregator's id for
    the MT is kept unapplied and applied when the send is recorded."""

    __tablename__ = "delivery_reports"
    __table_args__ = (Index("ix_dlr_ref", "aggregator", "message_ref", "applied"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aggregator: Mapped[str] = mapped_column(String(32))
    message_ref: Mapped[str] = mapped_column(String(128))
    by_gateway_id: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # one of DLR_STATUSES
    raw_status: Mapped[str] = mapped_column(String(64))
    outbound_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_messages.id"), index=True)
    applied: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiRole(StrEnum):
    """Roles of admin API tokens: viewers read, admins also act."""

    ADMIN = "admin"
    VIEWER = "viewer"


API_ROLES = values(ApiRole)


class ApiToken(Base):
    """An admin API bearer token. Only the SHA-256 of its secret part is stored; `key_id`
    (public, inside the token) finds the row."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookStatus(StrEnum):
    """A webhook to the complaint system: PENDING until the upstream answers 2xx; QUARANTINED
    when sending it kept failing inside the gateway (see QuarantinedWork)."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    QUARANTINED = "QUARANTINED"


class WebhookDelivery(Base):
    """One signed webhook to the complaint system. Kept until the upstream answers 2xx, so a
    webhook is never lost; `event_id` (stable across retries) lets the upstream dedupe."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    event_type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON bytes sent (and signed) each time
    status: Mapped[str] = mapped_column(String(16), default=WebhookStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(255))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), index=True)
    report: Mapped[Report | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UpstreamEvent(Base):
    """An event the complaint system posted to /api/v1/events; the unique `event_id` refuses
    a replay."""

    __tablename__ = "upstream_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    event_type: Mapped[str] = mapped_column(String(32))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QuarantineKind(StrEnum):
    """Kinds of work that can be set aside (gateway.services.quarantine)."""

    MO = "MO"  # an MO to handle
    MT = "MT"  # an MT to send
    DLR = "DLR"  # a DLR to apply
    WEBHOOK = "WEBHOOK"  # a webhook to the complaint system
    USSD = "USSD"  # a USSD session's hand-off (its unsent draft)
    SLA = "SLA"  # a report's SLA close
    PARTS = "PARTS"  # a long MO whose parts could not be made into one (gateway.services.multipart)


class QuarantineState(StrEnum):
    """FAILING (counted, still retried), QUARANTINED (set aside for an admin), DROPPED."""

    FAILING = "FAILING"
    QUARANTINED = "QUARANTINED"
    DROPPED = "DROPPED"


class QuarantinedWork(Base):
    """One unit of work (an MO to handle, an MT to send, a DLR to apply, a webhook, a USSD
    hand-off, a report's SLA close) that failed inside the gateway. Each failure is counted
    here; at `gateway.services.quarantine.MAX_TRIES` it is set aside (`QUARANTINED`) so it
    cannot stop the work behind it, until an admin retries or drops it. Only the exception
    type and a short reason are kept, never row values (numbers, complaint text)."""

    __tablename__ = "quarantined_work"
    __table_args__ = (
        UniqueConstraint("kind", "ref", name="uq_quarantine_kind_ref"),
        Index("ix_quarantine_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # a QuarantineKind
    ref: Mapped[str] = mapped_column(String(128))  # the work's id in its own table or queue
    state: Mapped[str] = mapped_column(String(16), default=QuarantineState.FAILING)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    error_type: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    first_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    quarantined_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
