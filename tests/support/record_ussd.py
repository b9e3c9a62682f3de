"""Re-record the USSD fixtures (tests/fixtures/africastalking/, tests/fixtures/ussd_generic/) by
posting real HTTP requests, shaped as each aggregator sends them, to a recording server on
127.0.0.1 and saving exactly what arrived (method, path, query, headers, body).

Africa's Talking posts `application/x-www-form-urlencoded` with sessionId, serviceCode,
phoneNumber (+E.164), networkCode and text (every input so far joined by `*`), as its USSD
documentation describes.

    .venv/bin/python -m tests.support.record_ussd
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from tests.support.recorded import FIXTURES

AT_BASE = {
    "sessionId": "ATUid_0c6e5b1f6a2d4e0f9b7d",
    "serviceCode": "*384*1708#",
    "phoneNumber": "+6281234567890",
    "networkCode": "51010",
}
AT_CASES = {
    "dial": {**AT_BASE, "text": ""},
    "choice_file": {**AT_BASE, "text": "1"},
    "free_text_with_star": {**AT_BASE, "text": "1*Jl. Mawar 5*7 berlubang besar"},
    "privacy_choice": {**AT_BASE, "text": "1*Jl. Mawar 5*7 berlubang besar*2"},
    "local_number_no_network": {
        k: v for k, v in {**AT_BASE, "phoneNumber": "081234567890"}.items() if k != "networkCode"
    }
    | {"text": "2"},
    "missing_session": {k: v for k, v in AT_BASE.items() if k != "sessionId"} | {"text": ""},
    "missing_phone": {k: v for k, v in AT_BASE.items() if k != "phoneNumber"} | {"text": ""},
    "missing_text": dict(AT_BASE),
    "bad_phone": {**AT_BASE, "phoneNumber": "+254711000111", "text": ""},
}
GENERIC_BASE = {"session_id": "gen-20261129-0001", "msisdn": "081234567890"}
GENERIC_CASES = {
    "dial": {**GENERIC_BASE, "input": "", "service_code": "*1708#"},
    "choice": {**GENERIC_BASE, "input": "1"},
    "free_text_with_star": {**GENERIC_BASE, "input": "Jl. Mawar 5*7 berlubang besar"},
    "plus62": {**GENERIC_BASE, "msisdn": "+6281234567890", "input": "2"},
    "missing_msisdn": {"session_id": "gen-20261129-0002", "input": ""},
    "missing_input": dict(GENERIC_BASE),
    "missing_session": {"msisdn": "081234567890", "input": ""},
    "input_not_string": {**GENERIC_BASE, "input": 1},
}


def record(server_url: str, captured: list, folder: str, name: str, path: str, **kwargs) -> None:
    requests.post(f"{server_url}{path}", headers={"Authorization": "Bearer rec-secret"}, timeout=5, **kwargs)
    method, req_path, query, headers, body = captured.pop()
    fixture = {
        "description": f"recorded by tests/support/record_ussd.py ({name})",
        "method": method,
        "path": req_path,
        "query_string": query,
        "headers": headers,
        "body": body.decode("utf-8"),
    }
    out = FIXTURES / folder / f"{name}.json"
    out.write_text(json.dumps(fixture, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    captured: list = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path, _, query = self.path.partition("?")
            captured.append((self.command, path, query, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for name, form in AT_CASES.items():
            record(url, captured, "africastalking", name, "/ussd/africastalking", data=form)
        for name, payload in GENERIC_CASES.items():
            record(url, captured, "ussd_generic", name, "/ussd/generic", json=payload)
        record(url, captured, "ussd_generic", "form_not_json", "/ussd/generic", data=GENERIC_CASES["choice"])
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
