"""Inbound chat: a team's bot turns group messages into tickets and replies."""
