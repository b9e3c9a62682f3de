"""The USSD wire-format registry: adding a format is one module, one line here, one test table."""

from __future__ import annotations

from gateway.ussd.africastalking import AfricasTalking
from gateway.ussd.base import UssdFormat
from gateway.ussd.generic import GenericUssd

REGISTRY: dict[str, UssdFormat] = {
    "africastalking": AfricasTalking(),
    "generic": GenericUssd(),
}
