"""The one shared outbound HTTP client: pooled connections, explicit timeouts, and transport
failures mapped to retryable send errors. MT to the aggregator and webhooks to the complaint
system (gateway.services.upstream) both go through it.

`LogSender` is the sender GATEWAY_OUTBOUND=log picks at start-up (gateway.runtime): it prints
each MT (the number masked) instead of sending it; webhooks still go out over HTTP."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from gateway.aggregators.base import Aggregator, AggregatorConfig, OutboundSMS, SendRequest, SendResponse
from gateway.errors import SendError
from gateway.logconfig import correlation, current_correlation
from gateway.msisdn import mask_msisdn

log = logging.getLogger("gateway.sender")


class Sender:
    """Submits SendRequests. One per process; each thread has its own `requests.Session`
    (sessions are not thread-safe), which pools keep-alive connections per host."""

    name = "http"

    def __init__(self, timeout: float, concurrency: int = 1):
        self.timeout = timeout
        self.concurrency = concurrency
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()  # several batches may send at once (drain.ReplyLane)

    @property
    def session(self) -> requests.Session:
        """This thread's session. It does not consult the environment on every request
        (requests re-reads every environment variable for proxy and CA settings per request
        otherwise: a quarter of a send's CPU in our profile); `_environment` reads it once."""
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.trust_env = False
        return self._local.session

    @staticmethod
    @functools.cache
    def _environment(url_base: str) -> tuple[dict, bool | str]:
        """The proxies (HTTP_PROXY, NO_PROXY, ...) and CA bundle (REQUESTS_CA_BUNDLE) the
        environment sets for this scheme://host, read once per process."""
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        return requests.utils.get_environ_proxies(url_base), verify

    def submit_many(
        self,
        reqs: list[SendRequest],
        read: Callable[[int, SendResponse], str],
        lanes: list[str] | None = None,
        keep_going: Callable[[], bool] = lambda: True,
        observe: Callable[[int, float], None] = lambda i, seconds: None,
        cids: list[str] | None = None,
        pace: Callable[[int], bool] = lambda i: True,
    ) -> list[str | Exception | None]:
        """Make the requests, up to `concurrency` at once (an aggregator's latency, not our
        CPU, is what limits sends); `read(i, response)` turns request i's answer into the
        aggregator's message id or raises SendError. Returns, in the order given, each id or
        SendError (any other exception: a bug or a poison message, handed back the same way
        so it cannot stop the others), or None for a request not made. Requests in
        the same lane (one citizen's number) go one after another, in order, so a citizen's
        replies reach the aggregator in the order they were written. Once one fails in a
        retryable way (the aggregator is in trouble) or `keep_going()` turns false, requests
        not yet started are not made: None, so at most one timeout per lane is waited out.
        `observe(i, seconds)` is told how long request i took, whatever its answer. `cids`:
        each request's correlation id, for what is logged while it is made (in a thread of
        the pool too). `pace(i)` is asked right before request i is made (the aggregator's
        send-rate cap: it may wait); False leaves it and the rest of its lane not made."""
        by_lane: dict[str, list[int]] = {}
        for i, lane in enumerate(lanes if lanes is not None else map(str, range(len(reqs)))):
            by_lane.setdefault(lane, []).append(i)
        answers: list[str | Exception | None] = [None] * len(reqs)
        trouble = threading.Event()

        def timed_submit(i: int) -> SendResponse:
            start = time.perf_counter()
            try:
                return self.submit(reqs[i])
            finally:
                with contextlib.suppress(Exception):  # a metrics hook must not fail a send
                    observe(i, time.perf_counter() - start)

        def run(indices: list[int]) -> None:
            for i in indices:
                try:
                    go = not trouble.is_set() and keep_going() and pace(i)
                except Exception as exc:  # the cap's check failed (Redis): not made, like a "no"
                    log.warning("send not made: its pacing failed (%s)", type(exc).__name__)
                    go = False
                if not go:
                    return
                try:
                    with correlation(cids[i] if cids is not None else current_correlation()):
                        answers[i] = read_answer(i, timed_submit(i))
                except SendError as exc:
                    answers[i] = exc
                    if exc.retryable:
                        trouble.set()
                except Exception as exc:  # a bug or a poison message: this one's answer, not all
                    answers[i] = exc

        def read_answer(i: int, response: SendResponse) -> str:
            # The request was made: an answer we cannot read is a permanent failure (FAILED,
            # visible, requeueable), never a retry, which would send the SMS again.
            try:
                return read(i, response)
            except SendError:
                raise
            except Exception as exc:
                raise SendError(
                    f"the answer could not be read ({type(exc).__name__})", retryable=False
                ) from None

        if len(by_lane) <= 1 or self.concurrency <= 1:
            for indices in by_lane.values():
                run(indices)
        else:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="send")
            list(self._pool.map(run, by_lane.values()))
        return answers

    def knows(self, aggregator: str) -> bool:
        """Whether this sender can send an MT stored for `aggregator` (a registered one)."""
        from gateway.aggregators import REGISTRY

        return aggregator in REGISTRY

    def prepare(
        self, aggregator: Aggregator | None, sms: OutboundSMS, config: AggregatorConfig | None
    ) -> SendRequest:
        """The request that sends `sms` (the aggregator builds it from its config)."""
        return aggregator.build_send(sms, config)

    def answer(self, aggregator: Aggregator | None, resp: SendResponse) -> str:
        """The aggregator's message id for an answer; SendError when it refused."""
        return aggregator.read_send_response(resp)

    def submit(self, req: SendRequest) -> SendResponse:
        """Make an MT's request; raise SendError(retryable=True) when the network fails."""
        return self.request(req)

    def request(self, req: SendRequest) -> SendResponse:
        """Make any outbound HTTP request (an MT's, a webhook's): no redirects followed,
        (connect, read) timeouts; SendError(retryable=True) for a timeout or a failed
        connection, retryable=False for a request requests refuses to make."""
        parts = urlsplit(req.url)
        proxies, verify = self._environment(f"{parts.scheme}://{parts.netloc}/")
        try:
            resp = self.session.request(
                req.method,
                req.url,
                proxies=proxies,
                verify=verify,
                params=req.params,
                json=req.json,
                data=req.data,
                headers=dict(req.headers),
                # (connect, read): a dead host fails fast; a slow API gets the full budget.
                timeout=(min(3.0, self.timeout), self.timeout),
                allow_redirects=False,
            )
        except requests.Timeout:
            raise SendError("timeout", retryable=True) from None
        except requests.ConnectionError:
            raise SendError("connection failed", retryable=True) from None
        except requests.RequestException as exc:
            raise SendError(f"request error: {type(exc).__name__}", retryable=False) from None
        return SendResponse(resp.status_code, resp.text, dict(resp.headers))


class LogSender(Sender):
    """GATEWAY_OUTBOUND=log: every MT is printed (for the developer running `make run`), none
    leaves; it is answered at once as accepted with the id `log-<gateway id>`."""

    name = "log"

    def knows(self, aggregator: str) -> bool:
        """Any MT can be printed."""
        return True

    def prepare(
        self, aggregator: Aggregator | None, sms: OutboundSMS, config: AggregatorConfig | None
    ) -> SendRequest:
        """A request that never leaves the process: what is printed."""
        return SendRequest(
            method="LOG", url="log:", json={"id": sms.gateway_id, "to": sms.to, "text": sms.text}
        )

    def answer(self, aggregator: Aggregator | None, resp: SendResponse) -> str:
        """Always accepted; the id is ours, prefixed so it cannot collide with a real one."""
        return resp.text

    def submit(self, req: SendRequest) -> SendResponse:
        """Print the MT instead of sending it."""
        msg = req.json
        # The reply text is ours (it carries a tracking number, never the complaint); the
        # number is masked like everywhere else.
        log.info("MT (GATEWAY_OUTBOUND=log) to %s: %s", mask_msisdn(msg["to"]), msg["text"])
        return SendResponse(200, f"log-{msg['id']}")


def make_sender(outbound: str, timeout: float, concurrency: int) -> Sender:
    """The process's sender: LogSender for GATEWAY_OUTBOUND=log, the HTTP one otherwise."""
    cls = LogSender if outbound == LogSender.name else Sender
    return cls(timeout, concurrency)
