"""A feature-phone simulator (`/phone`) for trying the gateway by hand: type an SMS to the short
code and see the replies arrive as a phone shows them, or dial `*<short code>#` and walk the
USSD menu. Only while GATEWAY_OUTBOUND=log (the embedded default of `make run`): replies are
then never sent anywhere, so they are read back from the outbox rows the `log` sender marked
ACCEPTED for the simulated number. With any real outbound it answers 404, so it cannot exist
in production.

Nothing is simulated but the phone: an SMS goes through the generic aggregator's parser and
the inbound route's receive path (gateway.web.sms.receive_inbound), is stored, drained and
answered by the real workers; a USSD step goes through the generic USSD format and the USSD
route's path (gateway.web.ussd.answer_step)."""

from __future__ import annotations

import json
import logging
import secrets

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from gateway import gsm7
from gateway.aggregators import inbound_aggregator
from gateway.aggregators.base import WireRequest
from gateway.errors import InvalidNumber, InvalidPayload
from gateway.metrics import PHONE_MESSAGES
from gateway.models import InboundMessage, OutboundMessage, as_utc
from gateway.msisdn import mask_msisdn, normalise_msisdn
from gateway.runtime import Runtime
from gateway.ussd.formats import REGISTRY as USSD_FORMATS
from gateway.web.sms import receive_inbound
from gateway.web.ussd import answer_step

bp = Blueprint("phone", __name__, url_prefix="/phone")
log = logging.getLogger("gateway.phone")

DEFAULT_NUMBER = "081234567890"
SHOWN = 30  # the latest messages on the screen
MAX_SMS_CHARS = 918  # six concatenated GSM-7 parts: what phones let one type


def _rt() -> Runtime:
    return current_app.extensions["gateway"]


@bp.before_request
def _only_with_log_outbound():
    if _rt().settings.outbound != "log":
        abort(404, description="the phone simulator exists only with GATEWAY_OUTBOUND=log")


def _number(raw: str | None) -> tuple[str, str]:
    """(what the person typed, E.164); InvalidPayload naming `number` if it is not a number."""
    typed = (raw or DEFAULT_NUMBER).strip()
    try:
        return typed, normalise_msisdn(typed, _rt().settings.region)
    except InvalidNumber as exc:
        raise InvalidPayload("number", str(exc)) from None


@bp.get("/")
def phone():
    """The phone: its messages with the short code, a box to type an SMS, a dial box."""
    typed, e164 = _number(request.args.get("number"))
    return _render(typed, e164)


@bp.get("/messages")
def messages():
    """The message list alone (the page's script polls it so replies appear as they come)."""
    _typed, e164 = _number(request.args.get("number"))
    rt = _rt()
    return render_template(
        "phone/_messages.html", messages=conversation(rt, e164), short_code=rt.settings.short_code
    )


@bp.post("/sms")
def send_sms():
    """Send an SMS to the short code through the generic aggregator's receive path."""
    typed, e164 = _number(request.form.get("number"))
    text = request.form.get("text", "")
    if not text.strip() or len(text) > MAX_SMS_CHARS:
        raise InvalidPayload("text", f"must be 1 to {MAX_SMS_CHARS} characters")
    rt = _rt()
    wire = WireRequest(
        form={
            "from": e164,
            "to": rt.settings.short_code,
            "text": text,
            "id": f"phone-{secrets.token_hex(8)}",
        },
        content_type="application/x-www-form-urlencoded",
    )
    result = receive_inbound(rt, inbound_aggregator("generic"), wire)
    PHONE_MESSAGES.labels("sms", "accepted").inc()
    log.info("phone simulator: MO %s from %s", result.ids, mask_msisdn(e164))
    return redirect(url_for("phone.phone", number=typed), 303)


@bp.post("/ussd")
def dial():
    """Dial the service code (a new session) or answer the open screen."""
    typed, e164 = _number(request.form.get("number"))
    rt = _rt()
    session_id = request.form.get("session", "")
    entry = request.form.get("input", "").strip()
    if not session_id:
        if entry != f"*{rt.settings.short_code}#":
            PHONE_MESSAGES.labels("ussd", "unknown_code").inc()
            return _render(typed, e164, ussd={"text": "Kode USSD tidak dikenal.", "end": True}), 400
        session_id, entry = f"phone-{secrets.token_hex(8)}", ""
    wire = WireRequest(
        json={
            "session_id": session_id,
            "msisdn": e164,
            "input": entry,
            "service_code": f"*{rt.settings.short_code}#",
        },
        content_type="application/json",
    )
    answer = json.loads(answer_step(rt, USSD_FORMATS["generic"], wire).body)
    PHONE_MESSAGES.labels("ussd", answer["action"]).inc()
    log.info("phone simulator: USSD step from %s (%s)", mask_msisdn(e164), answer["action"])
    screen = {"text": answer["text"], "end": answer["action"] == "end", "session": session_id}
    return _render(typed, e164, ussd=screen)


def _render(typed: str, e164: str, ussd: dict | None = None):
    return render_template(
        "phone/phone.html", number=typed, messages=conversation(_rt(), e164), ussd=ussd,
        short_code=_rt().settings.short_code, max_chars=MAX_SMS_CHARS,
    )  # fmt: skip


def conversation(rt: Runtime, e164: str) -> list[dict]:
    """The number's latest texts to the short code and the replies the `log` sender marked
    sent, oldest first; each reply cut into the segments a phone receives."""
    with rt.sessions() as s:
        sent = s.scalars(
            select(InboundMessage)
            .where(InboundMessage.msisdn == e164)
            .order_by(InboundMessage.id.desc())
            .limit(SHOWN)
        )
        items = [(as_utc(m.received_at), 0, m.id, {"mine": True, "parts": [m.text]}) for m in sent]
        got = s.scalars(
            select(OutboundMessage)
            .where(
                OutboundMessage.msisdn == e164,
                OutboundMessage.aggregator == "log",
                OutboundMessage.accepted_at.is_not(None),
            )
            .order_by(OutboundMessage.id.desc())
            .limit(SHOWN)
        )
        items += [
            (as_utc(o.accepted_at), 1, o.id, {"mine": False, "parts": gsm7.split_segments(o.text)})
            for o in got
        ]
    items.sort(key=lambda item: item[:3])
    return [item[3] | {"at": item[0]} for item in items[-SHOWN:]]


@bp.errorhandler(InvalidPayload)
def _invalid(exc: InvalidPayload):
    PHONE_MESSAGES.labels(request.endpoint.rsplit(".", 1)[-1], "invalid").inc()
    return render_template("phone/error.html", message=f"{exc.field}: {exc.reason}"), 400
