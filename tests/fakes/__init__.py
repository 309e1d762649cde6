"""Local fakes of the vendors' APIs (Slack, Twilio) and a real SMTP server, made here.

They listen on 127.0.0.1 with a random port and speak the real wire formats, so
the channels are tested through the real client libraries. Fixtures live in
`tests.fakes.fixtures`.
"""

from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio

__all__ = ["FakeSlack", "FakeSmtp", "FakeTwilio"]
