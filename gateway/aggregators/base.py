"""Values that cross the aggregator seam, and the interface every aggregator module implements.

An aggregator turns its wire format into these values and back. Its methods are pure: they
take a `WireRequest` (a plain snapshot of an HTTP request, no Flask) or an `OutboundSMS` and
return values, so each format is tested with recorded payloads and no server.

Adding an aggregator `<name>` (README "Adding an aggregator"):

1. `gateway/aggregators/<name>.py`: a frozen `Config(AggregatorConfig)` dataclass whose fields
   are declared with `setting(...)` (each reads `GATEWAY_<NAME>_<FIELD>`; `required`, `secret`
   and `url` say how config/aggregators.py loads and checks it), and a subclass of
   `Aggregator` with `name = "<name>"`, `Config = Config` and the methods below.
2. One line in gateway/aggregators/__init__.py: `"<name>": <Class>()` in REGISTRY. That gives
   it `/sms/<name>/inbound` and `/status`, `GATEWAY_OUTBOUND=<name>`, `GATEWAY_<NAME>_TPS`.
3. Recorded payloads in tests/fixtures/<name>/ and one table test over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from gateway import edge


@dataclass(frozen=True)
class WireRequest:
    """The parts of an HTTP request an aggregator parser may read."""

    method: str = "POST"
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    body: bytes = b""
    content_type: str = ""
    raw_query: bytes = b""  # for formats whose text is not UTF-8 (Kannel's UCS-2)
    # For native signature schemes: the path the receiver saw (a signature covers the public
    # URL, GATEWAY_PUBLIC_URL + this path + raw_query; rebuilding each request's full URL cost
    # the receiver about 15 us an MO, 3% in-process) and the headers, names in lower case.
    path: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """A header by name, in any case."""
        return self.headers.get(name.lower())

    def field(self, name: str) -> str | None:
        """A named field from the JSON object, the form or the query, in that order."""
        if isinstance(self.json, dict) and name in self.json:
            value = self.json[name]
            return None if value is None else str(value)
        if name in self.form:
            return self.form[name]
        return self.query.get(name)


@dataclass(frozen=True)
class MessagePart:
    """Which part of a long (concatenated) SMS an MO is, when the aggregator delivers the parts
    separately: the UDH reference shared by the parts, this part's 1-based `index`, and how
    many parts there are. Build it with `from_fields` (bounds checked)."""

    ref: str
    index: int
    total: int

    @classmethod
    def from_fields(
        cls, ref: str | None, index: str | int | None, total: str | int | None, names=edge.PART_FIELDS
    ) -> MessagePart | None:
        """The part named by an aggregator's three raw fields (None: not a part); 400 naming
        the field for a bad one (gateway.edge.parse_part)."""
        parsed = edge.parse_part(ref, index, total, names)
        return None if parsed is None else cls(*parsed)


@dataclass(frozen=True)
class InboundSMS:
    """One mobile-originated message as the aggregator described it (sender not yet normalised).
    `part` is set for one part of a long SMS delivered separately (gateway.services.multipart)."""

    sender: str
    to: str
    text: str
    external_id: str
    sent_at: datetime | None = None
    part: MessagePart | None = None


@dataclass(frozen=True)
class StatusUpdate:
    """One delivery report. `message_ref` is whatever the aggregator uses to name the MT:
    its own id (generic) or ours (Kannel puts our id in the dlr-url); `by_gateway_id` says which."""

    message_ref: str
    status: str  # one of gateway.models.DLR_STATUSES
    raw_status: str
    by_gateway_id: bool = False


@dataclass(frozen=True)
class OutboundSMS:
    """One mobile-terminated message ready to go out."""

    gateway_id: int
    to: str  # E.164
    sender: str  # our short code
    text: str


@dataclass(frozen=True)
class SendRequest:
    """An HTTP request to make to the aggregator's send API (built by a pure function)."""

    method: str
    url: str
    params: Mapping[str, str] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    data: bytes | None = None  # a raw body (form-encoded or pre-serialised), instead of `json`


@dataclass(frozen=True)
class SendResponse:
    """What came back from the send API: enough for an aggregator to decide accepted or not."""

    status_code: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@dataclass(frozen=True)
class Ack:
    """The HTTP answer to give an aggregator for an accepted callback."""

    status: int
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"


def setting(
    default: Any = "", *, required: bool = False, secret: bool = False, url: bool = False, env: str = ""
) -> Any:
    """Declare one field of an aggregator's Config. It reads `GATEWAY_<NAME>_<FIELD>` (the
    field's name in upper case, a trailing `_` dropped) unless `env` names the variable.
    `required`: must be non-empty when this aggregator sends MT (GATEWAY_OUTBOUND=<name>).
    `secret`: never shown (left out of repr, so out of logs too). `url`: an http(s) URL when set.
    The field's annotation (str, int or float) is how the value is converted."""
    meta = {"required": required, "secret": secret, "url": url, "env": env}
    return field(default=default, repr=not secret, metadata=meta)


def env_var(aggregator: str, f: Field) -> str:
    """The variable a Config field reads: its `env`, else GATEWAY_<NAME>_<FIELD>, where NAME is
    the aggregator's name in upper case (`8x8` -> GATEWAY_8X8_) and FIELD the field's."""
    prefix = "".join(c if c.isalnum() else "_" for c in aggregator.upper())
    return f.metadata.get("env") or f"GATEWAY_{prefix}_{f.name.rstrip('_').upper()}"


@dataclass(frozen=True)
class AggregatorConfig:
    """An aggregator's own settings. Subclasses add fields with `setting(...)` and give
    `base_url` their API's real default. `public_url` and `inbound_token` are not read from
    GATEWAY_<NAME>_*: they are the gateway's own GATEWAY_PUBLIC_URL and GATEWAY_INBOUND_TOKEN,
    filled in by the loader, for callback URLs an MT carries (`callback_url`)."""

    # GATEWAY_<NAME>_BASE_URL: scheme, host and port of the API; the adapter appends its paths.
    base_url: str = setting("", url=True)
    # GATEWAY_<NAME>_TPS: send-rate cap shared by every worker (gateway.sendrate); 0: none.
    tps: int = setting(0)
    public_url: str = field(default="", metadata={"shared": "public_url"})
    inbound_token: str = field(default="", repr=False, metadata={"shared": "inbound_token"})

    def endpoint(self, path: str) -> str:
        """`base_url` with an API path appended (one slash between them)."""
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def callback_url(self, aggregator: str, route: str, params: Mapping[str, str] | None = None) -> str:
        """Our public URL for /sms/<aggregator>/<route> with `params` and the inbound token in
        the query (for aggregators that take a per-message callback URL). Values are
        percent-encoded; for placeholders that must stay literal (Kannel's %d) build it yourself."""
        query = urlencode({**(params or {}), "token": self.inbound_token}, quote_via=quote)
        return f"{self.public_url.rstrip('/')}/sms/{aggregator}/{route}?{query}"


class Aggregator:
    """Interface of one aggregator wire format. Subclasses override what they support.

    `name` is its route and GATEWAY_OUTBOUND value (lower case letters, digits; `8x8` reads
    GATEWAY_8X8_*). `Config` is its settings dataclass; the process loads one instance at
    start-up and hands it to `build_send` and `verify`. No method does I/O."""

    name: str = ""
    Config: ClassVar[type[AggregatorConfig]] = AggregatorConfig
    # Our names (`from`, `to`, `text`, `id`) for the fields the checks behind the parser
    # (gateway.services.inbox, outbox) refuse, mapped to this aggregator's own names where they
    # differ: a 400 names the field as the aggregator sent it.
    wire_names: ClassVar[Mapping[str, str]] = {}

    def check_config(self, config: AggregatorConfig, outbound: bool) -> None:
        """Rules the field declarations cannot say (one of two fields, a format); raise
        ConfigError naming the variable (`self.env(field)`). `outbound`: this aggregator is
        GATEWAY_OUTBOUND. Runs before the per-field checks."""

    def env(self, field_name: str) -> str:
        """The environment variable behind one of this aggregator's Config fields."""
        return env_var(self.name, next(f for f in fields(self.Config) if f.name == field_name))

    def wire_field(self, name: str) -> str:
        """This aggregator's name for the field we call `name` (`wire_names`)."""
        return self.wire_names.get(name, name)

    def verify(self, req: WireRequest, config: AggregatorConfig, settings) -> str | None:
        """Check the callback's native signature, where the aggregator has one and it is
        configured (the inbound token was already checked by the view, for every aggregator).
        Raise CallbackRefused(reason) for a 401. Return a replay key (a string that names
        this exact signed request, e.g. its signature) or None: a request whose key was seen
        in an already handled request is answered as a duplicate and not handled again.
        `settings` is the gateway's Settings (signature_window, public_url)."""
        return None

    def parse_inbound(self, req: WireRequest) -> list[InboundSMS]:
        """Parse an MO callback; raise InvalidPayload naming the bad field."""
        raise NotImplementedError

    def parse_status(self, req: WireRequest) -> list[StatusUpdate]:
        """Parse a delivery report callback; raise InvalidPayload naming the bad field."""
        raise NotImplementedError

    def build_send(self, sms: OutboundSMS, config: AggregatorConfig) -> SendRequest:
        """Build the HTTP request that submits `sms` to the aggregator (URL from
        `config.endpoint(...)`, so GATEWAY_<NAME>_BASE_URL points it at another server)."""
        raise NotImplementedError

    def read_send_response(self, resp: SendResponse) -> str:
        """Return the aggregator's message id (or "" if it gives none) for an accepted send;
        raise SendError(retryable=...) otherwise."""
        raise NotImplementedError

    def inbound_ack(self, gateway_ids: list[int], duplicate: bool) -> Ack:
        """The answer for an accepted MO (also for a duplicate)."""
        return Ack(202, '{"status": "accepted"}', "application/json")

    def status_ack(self) -> Ack:
        """The answer for an accepted delivery report."""
        return Ack(200, '{"status": "ok"}', "application/json")
