"""A Slack channel configured by name, found by its id, so its earlier post can be looked up.

`conversations.history` takes a channel id only, and a route may name its channel
(`#ops`). A post whose answer never came (its worker died, the connection dropped) is
looked for before it is sent again; for a thread's first post to a named channel that
needs the name's id. Every post's answer carries the id, so each one is remembered
here; a name never answered yet is looked up once through `conversations.list`
(the `channels:read` scope, and `groups:read` for private channels).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

# conversations.list pages of 1,000 channels: a workspace with more than this many is
# asked no further (the post is then sent again, at-least-once, as without the scope).
LIST_PAGES = 10


class ChannelIds:
    """Channel name → id, as Slack answered it, for one channel instance."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()  # deliveries run on several threads

    def remember(self, name: str, channel_id: str) -> None:
        """A post to `name` was answered from channel `channel_id`."""
        if channel_id and name.lstrip("#") != channel_id:
            with self._lock:
                self._ids[_bare(name)] = channel_id

    def resolve(self, name: str, call: Callable[..., dict[str, Any]]) -> str | None:
        """The id of channel `name`, remembered or listed with `call` (the Web API method
        caller, raising `DeliveryError`); None when no listed channel has that name."""
        bare = _bare(name)
        with self._lock:
            known = self._ids.get(bare)
        if known is not None:
            return known
        cursor: str | None = None
        for _ in range(LIST_PAGES):
            data = call("conversations_list", types="public_channel,private_channel",
                        exclude_archived=True, limit=1000, cursor=cursor)  # fmt: skip
            for channel in data.get("channels") or ():
                if isinstance(channel, dict) and channel.get("name") == bare:
                    self.remember(bare, str(channel.get("id") or ""))
                    return str(channel.get("id") or "") or None
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None


def _bare(name: str) -> str:
    return name.lstrip("#")
