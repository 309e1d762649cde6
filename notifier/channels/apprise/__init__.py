"""Everything apprise reaches (Teams, Discord, Mattermost, Telegram, ntfy, ...)."""
