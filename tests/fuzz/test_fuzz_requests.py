"""What strangers send us, fuzzed: a Statuspage webhook body, a Slack interactivity
request, a Twilio SMS request, and a subscription file. Only the project's own errors
may come out (or none: a verdict), and nothing hangs past the deadline."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from notifier.channels.slack.interact import ack_press, signed
from notifier.channels.sms.acks import parse_ack
from notifier.config.load import check_text
from notifier.feeds.errors import FeedError
from notifier.feeds.webhook import parse as parse_push
from tests.fuzz.profile import FUZZ, sample_files

SECRET = "fuzz-signing-secret-0123456789"
WEBHOOK_SAMPLES = [p for p in sample_files() if p.parent.name == "statuspage_webhook"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
# Payloads shaped like a webhook delivery, with every value open to anything.
webhook_like = st.fixed_dictionaries(
    {},
    optional={
        "meta": json_values,
        "page": json_values,
        "incident": st.dictionaries(
            st.sampled_from(["id", "name", "status", "impact", "created_at", "updated_at",
                             "incident_updates", "components", "shortlink", "resolved_at"]),
            json_values, max_size=10),
        "component_update": st.dictionaries(
            st.sampled_from(["created_at", "old_status", "new_status", "component_id"]),
            json_values, max_size=4),
        "component": json_values,
    },
)  # fmt: skip


@FUZZ
@given(body=st.binary(max_size=2000) | webhook_like.map(lambda d: json.dumps(d).encode()))
def test_a_statuspage_webhook_body_is_a_push_or_a_feed_error(body: bytes) -> None:
    try:
        push = parse_push(body, "fuzz")
    except FeedError:
        return
    assert (push.incident is None) != (push.component is None)


@FUZZ
@given(data=st.data())
def test_a_mutated_real_webhook_delivery_is_a_push_or_a_feed_error(data: st.DataObject) -> None:
    if not WEBHOOK_SAMPLES:
        return  # no samples here: the generated shapes above still run
    doc = json.loads(data.draw(st.sampled_from(WEBHOOK_SAMPLES)).read_bytes())
    path = data.draw(st.lists(st.text(max_size=10), max_size=3))
    node = doc
    for key in path[:-1]:
        node = node.get(key, node) if isinstance(node, dict) else node
    if isinstance(node, dict) and path:
        node[path[-1]] = data.draw(json_values)
    with contextlib.suppress(FeedError):
        parse_push(json.dumps(doc).encode(), "fuzz")


def _slack_headers(body: bytes, now: int) -> dict[str, str]:
    base = f"v0:{now}:".encode() + body
    sig = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": sig}


@FUZZ
@given(
    body=st.binary(max_size=1500)
    | json_values.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()),
    headers=st.dictionaries(
        st.sampled_from(["X-Slack-Request-Timestamp", "X-Slack-Signature", "Content-Type"]),
        st.text(max_size=80), max_size=3),
    sign=st.booleans(),
)  # fmt: skip
def test_a_slack_interactivity_request_is_a_verdict_never_an_exception(
    body: bytes, headers: dict[str, str], sign: bool
) -> None:
    if sign:
        headers = _slack_headers(body, int(time.time()))
    verdict = signed(SECRET, body, headers)
    assert isinstance(verdict, bool)
    press = ack_press(body)
    assert press is None or all(
        isinstance(v, str) for v in (press.subscriber, press.provider, press.incident_id)
    )


@FUZZ
@given(
    body=st.binary(max_size=1500),
    fields=st.dictionaries(st.sampled_from(["From", "Body", "To", "MessageSid", "x"]),
                           st.text(max_size=60), max_size=5),
    signature=st.text(max_size=60),
)  # fmt: skip
def test_a_twilio_sms_request_is_a_verdict_never_an_exception(
    body: bytes, fields: dict[str, str], signature: str
) -> None:
    for raw in (body, urlencode(fields).encode()):
        # What POST /twilio/sms does with the body before it trusts anything in it.
        params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        ok = RequestValidator("fuzz-token").validate("https://x.example/twilio/sms", params,
                                                     signature)  # fmt: skip
        assert isinstance(ok, bool)
        code = parse_ack(params.get("Body", ""))
        assert code is None or code.isupper() or not code.isalpha()


yaml_bits = st.sampled_from([
    "providers:\n", "subscribers:\n", "  - id: openai\n", "  - name: sre\n",
    "    slack: {channel: '#x'}\n", "    pagerduty: {routing_key_env: PD}\n",
    "    filters: {min_impact: major}\n", "&a ", "*a ", "<<: *a\n", "!!python/object:os.system ",
    "!x ", "{", "}", "[", "]", "- ", ": ", "'", '"', "\t", "\n", "%YAML 1.1\n", "---\n", "...\n",
    "? ", "|\n", ">\n", "2024-13-45", "0x1F", "~", "\x00", "\ufeff", "oncall:\n",
    "quiet_hours: 1\n",
])  # fmt: skip


@FUZZ
@given(text=st.lists(yaml_bits, max_size=30).map("".join) | st.text(max_size=500))
def test_a_subscription_file_is_a_config_or_errors_with_lines_never_an_exception(text: str) -> None:
    report = check_text(text, "fuzz.yaml")
    assert (report.config is None) == bool(report.errors)
    assert all(e.startswith("fuzz.yaml:") for e in report.errors)
