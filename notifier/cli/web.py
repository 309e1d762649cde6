"""`notifier web`: serve the console, the webhooks (Twilio SMS, Slack's Acknowledge,
Statuspage), /healthz and /metrics alone (the production split; `notifier run` serves
the same app itself)."""

from __future__ import annotations

import argparse
import socket
import sys

from starlette.types import ASGIApp

from notifier.cli._shared import redis_url
from notifier.config.schema import Config
from notifier.config.settings import Settings, get_settings
from notifier.store.conn.connect import connect
from notifier.store.conn.server import ping
from notifier.store.conn.url import redacted


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "serve the console, the webhooks (Twilio, Slack, Statuspage), /healthz and /metrics"
    p = sub.add_parser("web", help=text, description=text)
    p.add_argument("--host", default=None, help="bind address (default NOTIFIER_WEB_HOST)")
    p.add_argument("--port", type=int, default=None, help="port (default NOTIFIER_WEB_PORT)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from notifier import logs
    from notifier.config.load import secrets_for_logging
    from notifier.web.serving.serve import WebThread

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json, secrets_for_logging(settings))
    url = redis_url()
    ping(url)  # a dead Redis is one line now (notifier.cli.main), not 503s later
    host = args.host or settings.web_host
    port = settings.web_port if args.port is None else args.port
    sock = listen(host, port)
    if sock is None:
        return 2
    web = WebThread(web_app(settings, url, bind_host=host), sock)
    web.start()
    print(f"notifier web: listening on {web.url} (Redis {redacted(url)})", file=sys.stderr)
    try:
        web.thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        web.stop()
    return 0


def listen(host: str, port: int) -> socket.socket | None:
    """The bound socket for the web endpoint, or None after saying on stderr why not
    (shared with `notifier run`)."""
    from notifier.web.serving.auth import refusal
    from notifier.web.serving.serve import bind

    refused = refusal(host, get_settings().web_token)
    if refused:
        print(f"notifier: {refused}", file=sys.stderr)
        return None
    try:
        return bind(host, port)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        print(f"notifier web: cannot listen on {host}:{port}: {exc.strerror or exc}; choose "
              "another with --host/--port or NOTIFIER_WEB_HOST/NOTIFIER_WEB_PORT",
              file=sys.stderr)  # fmt: skip
        return None


def web_app(
    settings: Settings,
    url: str,
    notes: bool = True,
    config: Config | None = None,
    bind_host: str | None = None,
) -> ASGIApp:
    """The app, with its own Redis client (short timeouts: a probe must not hang);
    `notes` says on stderr what the Twilio webhook cannot do. Without `config` the
    subscription file is read here; one that does not load leaves the console
    showing what Redis holds (said on stderr), and /healthz serving."""
    from notifier.channels.build import build_channels
    from notifier.config.load import ConfigError, load_config
    from notifier.web.app import build_app

    if config is None:
        try:
            config = load_config(settings.config_path())
        except ConfigError as exc:
            print(f"notifier web: the console runs without the subscription file: "
                  f"{exc.errors[0] if exc.errors else exc}", file=sys.stderr)  # fmt: skip

    client = connect(
        url,
        # an SMS ack during a failover waits for the new primary; a health check
        # answers no later than this either way
        failover_wait=min(settings.redis_failover_wait, 10.0),
        health_check_interval=30,
        socket_timeout=3,
        socket_connect_timeout=3,
    )
    _, pager = build_channels(settings, client, settings.key_prefix)
    if not notes:
        pass
    elif pager is None:
        print("notifier web: Twilio is not configured; /twilio/sms will not ack", file=sys.stderr)
    elif not settings.web_public_url:
        print("notifier web: NOTIFIER_WEB_PUBLIC_URL is unset; every Twilio request gets 403",
              file=sys.stderr)  # fmt: skip
    host = (bind_host or settings.web_host).strip("[]")
    if notes and not settings.web_public_url and host in ("0.0.0.0", "::"):
        print(f"notifier web: NOTIFIER_WEB_PUBLIC_URL is unset; listening on {host}, it answers "
              "only requests for localhost, 127.0.0.1 or [::1] (any other Host gets 421)",
              file=sys.stderr)  # fmt: skip
    return build_app(settings, client, pager, config, bind_host, url)
