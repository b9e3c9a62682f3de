"""Operator commands: `flask --app wsgi sweep`, `outbox list|requeue`, `token create|revoke`,
`quarantine list|retry|drop`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy import select

from gateway.errors import InvalidPayload
from gateway.models import API_ROLES, ApiRole, OutboundMessage, OutboundStatus, QuarantineState
from gateway.msisdn import mask_msisdn


def register_cli(app: Flask) -> None:
    """Attach the operator commands to the app."""

    @app.cli.command("sweep")
    def sweep_command():
        """Re-enqueue pending MOs and due or stuck MTs now."""
        from gateway.services.sweeper import sweep

        click.echo(str(sweep(current_app.extensions["gateway"])))

    @app.cli.group("token")
    def token():
        """Admin API tokens."""

    @token.command("create")
    @click.option("--name", required=True, help="who or what uses it (shown in timelines)")
    @click.option("--role", type=click.Choice(API_ROLES), default=ApiRole.VIEWER.value, show_default=True)
    def token_create(name: str, role: str):
        """Create a token and print it once (only its hash is stored)."""
        from gateway.services.tokens import create_token

        try:
            click.echo(create_token(current_app.extensions["gateway"], name, role))
        except InvalidPayload as exc:
            raise click.BadParameter(exc.reason, param_hint="--name") from None

    @token.command("revoke")
    @click.argument("name")
    def token_revoke(name: str):
        """Revoke every live token with this name."""
        from gateway.services.tokens import revoke_tokens

        click.echo(f"revoked {revoke_tokens(current_app.extensions['gateway'], name)}")

    @app.cli.group("outbox")
    def outbox():
        """Inspect and requeue outbound messages."""

    @outbox.command("list")
    @click.option("--status", default=OutboundStatus.FAILED, show_default=True)
    @click.option("--limit", default=50, show_default=True)
    def list_command(status: str, limit: int):
        """List MTs in a state (numbers masked)."""
        rt = current_app.extensions["gateway"]
        with rt.sessions() as s:
            rows = s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.status == status.upper())
                .order_by(OutboundMessage.id.desc())
                .limit(limit)
            )
            for out in rows:
                masked = mask_msisdn(out.msisdn)
                error = out.last_error or ""
                click.echo(f"{out.id}\t{out.status}\t{masked}\tattempts={out.attempts}\t{error}")

    @outbox.command("requeue")
    @click.argument("outbound_ids", nargs=-1, type=int, required=True)
    def requeue_command(outbound_ids):
        """Give FAILED MTs a fresh set of send attempts."""
        from gateway.services.outbox import requeue_failed

        rt = current_app.extensions["gateway"]
        for oid in outbound_ids:
            done = requeue_failed(rt, oid)
            said = "requeued" if done else "no such message" if done is None else "not FAILED, left alone"
            click.echo(f"{oid}\t{said}")

    _register_quarantine(app)


def _register_quarantine(app: Flask) -> None:
    from gateway.services import quarantine

    @app.cli.group("quarantine")
    def group():
        """Work set aside because it kept failing (MOs, sends, DLRs, webhooks, USSD, SLA)."""

    @group.command("list")
    @click.option(
        "--state",
        type=click.Choice(quarantine.STATES),
        default=QuarantineState.QUARANTINED.value,
        show_default=True,
    )
    @click.option("--kind", type=click.Choice(quarantine.KINDS), default=None)
    @click.option("--limit", default=100, show_default=True)
    def list_command(state: str, kind: str | None, limit: int):
        """List entries (id, kind, ref, failures, error type, reason; never row values)."""
        for e in quarantine.list_entries(current_app.extensions["gateway"], state, kind, limit):
            click.echo(
                f"{e.id}\t{e.kind}\t{e.ref}\t{e.state}\tfailures={e.failures}\t{e.reason}\t{e.last_failed_at}"
            )

    @group.command("retry")
    @click.argument("entry_ids", nargs=-1, type=int, required=True)
    def retry_command(entry_ids):
        """Put quarantined work back with a fresh set of tries."""
        _act_on_each(quarantine.retry, entry_ids, "retried")

    @group.command("drop")
    @click.argument("entry_ids", nargs=-1, type=int, required=True)
    def drop_command(entry_ids):
        """Give up on quarantined work for good (kept for the record as DROPPED)."""
        _act_on_each(quarantine.drop, entry_ids, "dropped")


def _act_on_each(act, entry_ids, done: str) -> None:
    for entry_id in entry_ids:
        entry = act(current_app.extensions["gateway"], entry_id)
        click.echo(f"{entry_id}\t{done if entry else 'not quarantined, left alone'}")
