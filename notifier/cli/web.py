"""`notifier web`: serve the Twilio SMS webhook, /healthz and /metrics."""

from __future__ import annotations

import argparse
import sys

import redis

from notifier.config.settings import get_settings
from notifier.store.server import ping
from notifier.store.url import redacted, resolve_redis_url


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "serve POST /twilio/sms (page acks), GET /healthz and GET /metrics"
    p = sub.add_parser("web", help=text, description=text)
    p.add_argument("--host", default=None, help="bind address (default NOTIFIER_WEB_HOST)")
    p.add_argument("--port", type=int, default=None, help="port (default NOTIFIER_WEB_PORT)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from notifier import logs
    from notifier.channels.build import build_channels
    from notifier.config.load import secrets_for_logging
    from notifier.web.server import build_app, make_server

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json, secrets_for_logging(settings))
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    if url is None:
        print("error: no Redis. Set NOTIFIER_REDIS_URL (or start `notifier run`).", file=sys.stderr)
        return 2
    ping(url)  # a dead Redis is one line now (notifier.cli.main), not 503s later
    client = redis.Redis.from_url(url, health_check_interval=30)
    _, pager = build_channels(settings, client, settings.key_prefix)
    if pager is None:
        print("notifier web: Twilio is not configured; /twilio/sms will not ack", file=sys.stderr)
    elif not settings.public_url:
        print("notifier web: NOTIFIER_PUBLIC_URL is unset; every Twilio request gets 403",
              file=sys.stderr)  # fmt: skip
    host, port = args.host or settings.web_host, args.port or settings.web_port
    try:
        server = make_server(build_app(settings, client, pager), host, port)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        print(f"notifier web: cannot listen on {host}:{port}: {exc.strerror or exc}; choose "
              "another with --host/--port or NOTIFIER_WEB_HOST/NOTIFIER_WEB_PORT",
              file=sys.stderr)  # fmt: skip
        return 2
    print(f"notifier web: listening on http://{host}:{server.server_address[1]} "
          f"(Redis {redacted(url)})", file=sys.stderr)  # fmt: skip
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
