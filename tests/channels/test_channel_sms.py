"""SMS text fitting (GSM-7 / UCS-2, one segment) and Twilio through the real client."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from notifier.channels.render import Presentation
from notifier.channels.sms import gsm
from notifier.channels.sms.channel import SmsChannel, SmsTarget, page_text, resolved_text
from notifier.models import Annotation, AnnotationKind
from tests.fakes import sample
from tests.fakes.twilio_api import FakeTwilio

NAMES = Presentation(names={"openai": "OpenAI"})


def sms_channel(twilio: FakeTwilio) -> SmsChannel:
    return SmsChannel(
        twilio.account_sid,
        SecretStr(twilio.auth_token),
        "+15550001111",
        api_url=twilio.url,
        presentation=NAMES,
    )


def test_a_page_reads_like_the_example_and_fits_one_segment() -> None:
    text = page_text(sample.alert(channel="sms"), "K7", NAMES)
    assert text == (
        "[MAJOR] OpenAI: Elevated errors on API. Upstream: Azure SCUS power. Reply 4 K7 to ack"
    )
    assert gsm.encode(text).units <= 160


def test_the_resolved_sms_says_how_long_it_lasted() -> None:
    text = resolved_text(sample.resolved(channel="sms"), NAMES)
    assert text == "[RESOLVED] OpenAI: Elevated errors on API. Lasted 2h 14m"


@pytest.mark.parametrize(
    ("text", "expected", "units"),
    [
        # plain ASCII costs one septet per character
        ("hello", "hello", 5),
        # extension-table characters cost two
        ("a{b}[c]~^|€\\", "a{b}[c]~^|€\\", 1 + 2 * 10 + 1 - 1),
        # typographic quotes, dashes, ellipsis and nbsp map to GSM
        ("“a” ‘b’ – c — d…\u00a0e", "\"a\" 'b' - c - d... e", 20),
        # accents whose base letter is GSM are stripped, GSM accents kept
        ("café à São Paulo", "café à Sao Paulo", 16),
        # pictographs are decoration: dropped
        ("🔴 Major outage", "Major outage", 12),
    ],
)
def test_text_is_mapped_into_gsm_7(text: str, expected: str, units: int) -> None:
    encoded = gsm.encode(text)
    assert (encoded.text, encoded.encoding, encoded.units) == (expected, "gsm7", units)


def test_letters_without_a_gsm_form_need_ucs2_with_its_70_limit() -> None:
    title = "Повышенный уровень ошибок API у всех клиентов"
    fitted = gsm.fit("[MAJOR] Яндекс: ", title, "", ". Reply 4 K7 to ack")
    assert fitted.encoding == "ucs2"
    assert fitted.units <= 70
    assert fitted.text.startswith("[MAJOR] Яндекс: Повышенный")
    assert fitted.text.endswith("у… Reply 4 K7 to ack")  # cut on a word, marked


def test_fitting_shortens_the_title_first_then_the_annotation_and_never_splits() -> None:
    long_note = Annotation(
        AnnotationKind.UPSTREAM, "Upstream: " + "Azure South Central US " * 8, "catalog"
    )
    alert = sample.alert(channel="sms", title="Elevated errors " * 20, annotations=(long_note,))
    text = page_text(alert, "K7", NAMES)
    assert gsm.encode(text).units <= 160
    # the title gave way first (down to its floor), then the annotation was cut to fit
    assert text.startswith("[MAJOR] OpenAI: Elevated errors Elevated... Upstream: Azure South")
    assert text.endswith("Azure South... Reply 4 K7 to ack")


@given(
    st.text(max_size=400),
    st.text(max_size=300),
    st.sampled_from(["K7", "Z99", None]),
)
def test_any_page_fits_one_segment(title: str, note: str, code: str | None) -> None:
    ann = (Annotation(AnnotationKind.UPSTREAM, note, "x"),) if note else ()
    text = page_text(sample.alert(channel="sms", title=title, annotations=ann), code, NAMES)
    encoded = gsm.encode(text)
    assert encoded.units <= encoded.limit
    if code:
        assert text.endswith(f"Reply 4 {code} to ack")


def test_it_sends_through_twilio_to_the_fake_base_url(fake_twilio: FakeTwilio) -> None:
    result = sms_channel(fake_twilio).send(
        sample.alert(channel="sms"), SmsTarget("+15550002222", "K7"), None
    )
    (sent,) = fake_twilio.sent
    assert sent["To"] == "+15550002222"
    assert sent["From"] == "+15550001111"
    assert sent["Body"].endswith("Reply 4 K7 to ack")
    assert result.message_id.startswith("SM")
