"""AWS Health Dashboard parsers: `aws-json` (currentevents, legacy data.json) and `aws-rss`.

Every document here is made here, in the shapes of the real documents in the corpus.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from notifier.feeds.errors import EmptyFeedError, HostileDocumentError, ParseError
from notifier.feeds.formats.aws import parse_aws_json
from notifier.feeds.formats.aws_rss import parse_aws_rss
from notifier.feeds.formats.aws_timeline import resolve_label, split_timeline
from notifier.models import DocumentKind, Impact, Status, iso

# made here, in the shape of health.aws.amazon.com/public/currentevents
CURRENT = [
    {
        "date": "1772369485",
        "arn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/X1",
        "region_name": "N. Virginia",
        "status": "2",
        "service": "ec2-us-east-1",
        "service_name": "Amazon Elastic Compute Cloud",
        "summary": "Increased Launch Failures",
        "event_log": [
            {
                "summary": "s",
                "message": "Later <b>update</b>",
                "status": 2,
                "timestamp": 1772371000,
            },
            {
                "summary": "s",
                "message": "We are investigating",
                "status": 1,
                "timestamp": 1772369485,
            },
        ],
        "impacted_services": {
            "ec2-us-east-1": {"service_name": "Amazon EC2", "current": "2", "max": "2"}
        },
    }
]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),  # the corpus copy
        lambda s: b"\xef\xbb\xbf" + s.encode("utf-8"),  # UTF-8 with a BOM
        lambda s: s.encode("utf-16"),  # live: UTF-16 LE with a BOM
        lambda s: b"\xfe\xff" + s.encode("utf-16-be"),  # UTF-16 BE with a BOM
        lambda s: s.encode("utf-16-le"),  # UTF-16 without a BOM
    ],
)
def test_it_reads_currentevents_in_every_encoding_aws_serves(encode) -> None:
    doc = parse_aws_json(encode(json.dumps(CURRENT)), "aws")
    assert doc.kind is DocumentKind.ACTIVE
    (incident,) = doc.incidents
    assert incident.id == CURRENT[0]["arn"]
    assert incident.regions == ("us-east-1",)
    assert incident.components == ("Amazon EC2",)


def test_it_orders_the_event_log_and_strips_markup() -> None:
    (incident,) = parse_aws_json(json.dumps(CURRENT).encode(), "aws").incidents
    assert [u.status for u in incident.updates] == [Status.INVESTIGATING, Status.UPDATE]
    assert incident.updates[1].body == "Later update"
    assert incident.status is Status.UPDATE
    assert incident.impact is Impact.MAJOR  # status "2": service degradation
    assert incident.resolved_at is None


@pytest.mark.parametrize(
    ("status", "summary", "end_time", "expected_status", "expected_impact"),
    [
        ("3", "Outage", None, Status.INVESTIGATING, Impact.CRITICAL),  # disruption, open
        (3, "Outage", None, Status.INVESTIGATING, Impact.CRITICAL),  # the same as an integer
        ("1", "Info", None, Status.INVESTIGATING, Impact.MINOR),  # informational
        ("0", "[RESOLVED] Info", "1772379485", Status.RESOLVED, Impact.MINOR),  # closed, floor
        ("1", "[RESOLVED] Info", None, Status.RESOLVED, Impact.MINOR),  # closed by the prefix
    ],
)
def test_status_codes_map_to_status_and_impact(
    status, summary, end_time, expected_status, expected_impact
) -> None:
    event = {**CURRENT[0], "status": status, "summary": summary, "event_log": []}
    event["impacted_services"] = {}
    if end_time:
        event["end_time"] = end_time
    (incident,) = parse_aws_json(json.dumps([event]).encode(), "aws").incidents
    assert (incident.status, incident.impact) == (expected_status, expected_impact)
    assert incident.title == summary.removeprefix("[RESOLVED] ")


# made here, in the shape of the legacy status.aws.amazon.com/data.json
LEGACY = {
    "archive": [
        {
            "service_name": "Amazon Simple Storage Service (N. Virginia)",
            "summary": "[RESOLVED] Elevated Errors",
            "date": "1636495106",  # 2021-11-09T21:58:26Z = 1:58 PM PST
            "status": 1,  # an integer status next to string ones
            "details": "",
            "description": (
                '<div><span class="yellowfg"> 1:58 PM PST</span>&nbsp;We are investigating.</div>'
                '<div><span class="yellowfg">11:50 PM PST</span>&nbsp;Still working.</div>'
                '<div><span class="yellowfg"> 1:05 AM PST</span>&nbsp;Past midnight.</div>'
                '<div><span class="yellowfg">Nov 11,  9:00 AM PST</span>&nbsp;Resolved &amp; done.'
                "</div>"
            ),
            "service": "s3-us-standard",
        },
    ],
    "current": [
        {
            "service_name": "AWS Management Console",
            "summary": "Console errors",
            "date": "1655341554",
            "status": "3",
            "details": "",
            "description": "We are investigating console errors.",
            "service": "management-console",
        }
    ],
}


def test_legacy_data_json_is_a_history_of_derived_ids() -> None:
    doc = parse_aws_json(json.dumps(LEGACY).encode(), "aws")
    assert doc.kind is DocumentKind.HISTORY
    ids = [i.id for i in doc.incidents]
    assert ids == ["s3-us-standard-20211109T215826Z", "management-console-20220616T010554Z"]


def test_legacy_timeline_rolls_days_forward_and_reads_dated_labels() -> None:
    incident = parse_aws_json(json.dumps(LEGACY).encode(), "aws").incidents[0]
    assert [iso(u.at) for u in incident.updates] == [
        "2021-11-09T21:58:00Z",
        "2021-11-10T07:50:00Z",  # 11:50 PM PST, same local day
        "2021-11-10T09:05:00Z",  # 1:05 AM is earlier on the clock: the next day
        "2021-11-11T17:00:00Z",  # "Nov 11," names its own date
    ]
    assert [u.status for u in incident.updates][-1] is Status.RESOLVED
    assert incident.updates[-1].body == "Resolved & done."
    assert incident.regions == ("us-east-1",)  # "us-standard" is the old name of us-east-1
    assert incident.components == ("Amazon Simple Storage Service",)


def test_a_legacy_current_event_without_labels_is_one_open_update() -> None:
    incident = parse_aws_json(json.dumps(LEGACY).encode(), "aws").incidents[1]
    assert incident.status is Status.INVESTIGATING
    assert incident.impact is Impact.CRITICAL
    assert incident.regions == ()  # a global service
    assert [u.body for u in incident.updates] == ["We are investigating console errors."]


def test_an_unreadable_time_label_keeps_its_text() -> None:
    start = _utc("2021-11-09T21:58:26")
    entries = split_timeline('<div><span class="yellowfg">soon</span>&nbsp;Text</div>', start)
    assert entries == [(start, "soon Text")]


@pytest.mark.parametrize(
    ("label", "previous", "expected"),
    [
        ("12:53 PM PDT", None, "2021-06-24T19:53:00Z"),  # the start itself
        ("11:59 PM PDT", None, "2021-06-25T06:59:00Z"),  # nearest day to the start
        ("1:00 AM UTC", "2021-06-24T20:00:00", "2021-06-25T01:00:00Z"),  # other zones
        ("Jun 26, 3:00 AM PDT", "2021-06-24T20:00:00", "2021-06-26T10:00:00Z"),
    ],
)
def test_labels_resolve_against_the_start_and_the_previous_update(
    label, previous, expected
) -> None:
    start = _utc("2021-06-24T19:53:13")
    prev = _utc(previous) if previous else None
    resolved = resolve_label(label, start, prev)
    assert resolved is not None and iso(resolved) == expected


# made here, in the shape of status.aws.amazon.com/rss/ec2-ap-northeast-1.rss
def _rss(*items: tuple[str, str, int, str]) -> bytes:
    body = "".join(
        f"<item><title><![CDATA[{title}]]></title><pubDate>{date}</pubDate>"
        f'<guid isPermaLink="false">http://status.aws.amazon.com/#ec2-ap-northeast-1_{ts}</guid>'
        f"<description><![CDATA[{text}]]></description></item>"
        for title, date, ts, text in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title><![CDATA[Amazon Elastic Compute Cloud (Tokyo) Service Status]]></title>"
        "<link>http://status.aws.amazon.com/</link>" + body + "</channel></rss>"
    ).encode()


BILINGUAL = _rss(
    (
        "Service is operating normally: 接続性 | Instance Availability",
        "Fri, 23 Aug 2019 04:18:35 PDT",
        1566559115,
        "復旧 | Recovered. &lt;a href=&quot;https://aws.amazon.com/message/1/&quot;&gt;here&lt;/a&gt;",
    ),
    ("Service degradation: 接続性 | Instance Availability", "Thu, 22 Aug 2019 23:40:01 PDT",
     1566542401, "Degraded."),
    ("Informational message: 接続性 | Instance Availability", "Thu, 22 Aug 2019 21:18:32 PDT",
     1566533912, "Investigating."),
)  # fmt: skip


def test_rss_items_chain_into_one_incident_with_an_english_title() -> None:
    doc = parse_aws_rss(BILINGUAL, "aws")
    assert doc.kind is DocumentKind.HISTORY
    (incident,) = doc.incidents
    assert incident.id == "ec2-ap-northeast-1-20190823T041832Z"
    assert incident.title == "Instance Availability"
    assert [u.status for u in incident.updates] == [
        Status.INVESTIGATING,
        Status.UPDATE,
        Status.RESOLVED,
    ]
    assert incident.impact is Impact.MAJOR  # the worst item was a degradation
    assert incident.components == ("Amazon Elastic Compute Cloud",)
    assert incident.regions == ("ap-northeast-1",)
    # Both languages stay in the body; the escaped link is text, not markup.
    assert incident.updates[-1].body == "復旧 | Recovered. here"


def test_an_rss_incident_keeps_its_id_as_updates_arrive() -> None:
    # The first poll saw only the opening item; the id must not change later.
    opening = _rss(
        ("Informational message: 接続性 | Instance Availability", "Thu, 22 Aug 2019 21:18:32 PDT",
         1566533912, "Investigating."),
    )  # fmt: skip
    (first,) = parse_aws_rss(opening, "aws").incidents
    (later,) = parse_aws_rss(BILINGUAL, "aws").incidents
    assert first.id == later.id
    assert first.status is Status.INVESTIGATING
    assert first.updates[0].key == later.updates[0].key


def test_a_closed_rss_incident_takes_a_restatement_but_not_a_new_outbreak() -> None:
    doc = parse_aws_rss(
        _rss(
            # A later outbreak with the same title, hours after the close: a new incident.
            ("Informational message: Increased API Errors", "Wed, 20 Apr 2016 15:00:00 PDT",
             1461189600, "Again."),
            # Restated resolution 21 minutes after the first: the same incident.
            ("Service is operating normally: [RESOLVED] Increased API Errors",
             "Wed, 20 Apr 2016 10:00:00 PDT", 1461171600, "Resolved."),
            ("Service is operating normally: [RESOLVED] Increased API Errors",
             "Wed, 20 Apr 2016 09:39:00 PDT", 1461170340, "We are investigating."),
        ),
        "aws",
    )  # fmt: skip
    newest, oldest = doc.incidents
    assert [u.status for u in oldest.updates] == [Status.INVESTIGATING, Status.RESOLVED]
    assert oldest.resolved_at == _utc("2016-04-20T17:00:00")
    assert newest.status is Status.INVESTIGATING and newest.resolved_at is None


@pytest.mark.parametrize(
    ("parse", "body", "error"),
    [
        (parse_aws_json, b"", EmptyFeedError),  # an empty body
        (parse_aws_json, b"<html><body>Error</body></html>", ParseError),  # an error page
        (parse_aws_json, b'{"events": []}', ParseError),  # JSON of another shape
        (parse_aws_json, b'[{"date": "x", "status": "1"}]', ParseError),  # a bad epoch
        (parse_aws_json, json.dumps([{**CURRENT[0], "status": "9"}]).encode(), ParseError),
        (parse_aws_json, b"[" * 100_000, ParseError),  # nesting bomb
        (parse_aws_json, b"\xff\xfe\x00\xd8", ParseError),  # broken UTF-16
        (parse_aws_rss, b"", EmptyFeedError),
        (parse_aws_rss, b"<feed xmlns='http://www.w3.org/2005/Atom'/>", ParseError),  # not RSS
        (parse_aws_rss, b"<rss><channel><item><title>x</title></item></channel></rss>", ParseError),
        (
            parse_aws_rss,
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss>&a;</rss>',
            HostileDocumentError,
        ),  # entity expansion is refused
    ],
)
def test_bad_input_ends_in_a_one_line_feed_error(parse, body: bytes, error) -> None:
    with pytest.raises(error) as raised:
        parse(body, "aws")
    assert "\n" not in str(raised.value)
