"""The enums' values are contracts (stored in the database, sent as JSON, metric labels, RQ job
names): this table pins every one, so renaming a member's value is a visible decision. The
README "Report statuses" labels are pinned with them."""

from __future__ import annotations

import importlib
import json

import pytest

from gateway import models, outcomes
from gateway.parsers.commands import CommandKind, Problem
from gateway.queueing import JobPath
from gateway.services.citizen import Lookup
from gateway.services.flood import FloodVerdict
from gateway.services.sla import Waiting
from gateway.ussd.menu import EffectKind, Found, ScreenName

CONTRACT = [
    (models.InboundStatus, "PENDING DONE QUARANTINED"),
    (models.ReportStatus, "RECEIVED VERIFIED IN_PROGRESS DONE POSTPONED OUT_OF_SCOPE ARCHIVED"),
    (models.Privacy, "PUBLIC CONFIDENTIAL ANONYMOUS"),
    (models.Channel, "SMS USSD"),
    (models.EventKind, "CREATED STATUS FOLLOW_UP CITIZEN_REPLY ADMIN_REPLY"),
    (models.OutboundKind, "REPLY NOTICE"),
    (
        models.OutboundStatus,
        "QUEUED SENDING ACCEPTED SENT UNKNOWN DELIVERED UNDELIVERED EXPIRED REJECTED FAILED QUARANTINED"
        " SUPPRESSED",
    ),
    (models.MultipartStatus, "OPEN COMPLETE INCOMPLETE QUARANTINED"),
    (models.WebhookStatus, "PENDING DELIVERED QUARANTINED"),
    (models.ApiRole, "admin viewer"),
    (models.QuarantineKind, "MO MT DLR WEBHOOK USSD SLA PARTS"),
    (models.QuarantineState, "FAILING QUARANTINED DROPPED"),
    (CommandKind, "REPORT CHECK REPLY HELP STOP START"),
    (Problem, "MISSING_TEXT MISSING_NUMBER BAD_NUMBER"),
    (outcomes.SendOutcome, "accepted retry failed quarantined handed-off not-due skipped"),
    (outcomes.MoOutcome, "FLOOD already-done missing quarantined"),
    (outcomes.DeliveryOutcome, "delivered retry quarantined"),
    (outcomes.PartOutcome, "stored duplicate late"),
    (outcomes.Receipt, "accepted duplicate refused"),
    (outcomes.ConsoleOutcome, "ok refused invalid not_found"),
    (Lookup, "FOUND NOT_FOUND THROTTLED"),
    (FloodVerdict, "OK WARN SILENT"),
    (Waiting, "VERIFICATION FOLLOW_UP CITIZEN_REPLY"),
    (ScreenName, "MAIN TEXT PRIVACY CONFIRM CHECK_NO REPLY_NO FOLLOW_UP REPLY_TEXT HELP RESUME"),
    (EffectKind, "FILE CHECK OPEN_REPLY REPLY"),
    (Found, "DONE NOT_FOUND THROTTLED FLOODED"),
    (
        JobPath,
        "workers.jobs.drain_inbound workers.jobs.send_outbound workers.jobs.sweep workers.jobs.sla_clock"
        " workers.jobs.deliver_webhooks workers.jobs.ussd_draft_check workers.jobs.apply_delivery_report",
    ),
]


@pytest.mark.parametrize("enum, values", [pytest.param(e, v, id=e.__name__) for e, v in CONTRACT])
def test_every_member_keeps_its_wire_value(enum, values):
    assert [m.value for m in enum] == values.split()
    # A member is the string itself: in JSON, in f-strings, as a dict key.
    member = next(iter(enum))
    assert json.dumps({member: member}) == json.dumps({member.value: member.value})
    assert f"{member}" == str(member) == member.value and {member.value: 1}[member] == 1


def test_the_report_statuses_have_the_citizens_labels_in_contract_order():
    labels = {s.value: s.label for s in models.ReportStatus}
    assert labels == {
        "RECEIVED": "Belum diverifikasi",
        "VERIFIED": "Terverifikasi",
        "IN_PROGRESS": "Ditindaklanjuti",
        "DONE": "Selesai",
        "POSTPONED": "Ditunda",
        "OUT_OF_SCOPE": "Bukan wewenang",
        "ARCHIVED": "Diarsipkan",
    }
    assert list(models.REPORT_STATUS_LABELS) == list(models.ReportStatus)


def test_the_dlr_statuses_are_the_generic_contracts_list():
    assert models.DLR_STATUSES == (
        "SENT",
        "DELIVERED",
        "UNDELIVERED",
        "EXPIRED",
        "REJECTED",
        "FAILED",
        "UNKNOWN",
    )
    assert set(models.OUTBOUND_ORDER) == set(models.OutboundStatus)


def test_choice_lists_are_plain_strings():
    """pydantic Literals and click Choices read enum members by name: they get plain values."""
    for choices in (models.PRIVACY_LEVELS, models.API_ROLES, models.values(models.QuarantineKind)):
        assert all(type(c) is str for c in choices)


def test_an_outcome_reads_as_its_value_inside_a_container():
    """Job results such as str(deliver_due(...)) read as they did before the enums."""
    assert str({outcomes.DeliveryOutcome.DELIVERED: 1}) == "{'delivered': 1}"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in JobPath])
def test_every_job_path_imports_to_a_callable(path):
    module, _, name = path.value.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
