"""Chat robots: one transport per vendor, registered on import.

``erpcare.channels.robots`` is imported once (by the channels app or the delivery
runner) so every robot's ``register`` line runs.
"""

from erpcare.channels.robots import dingtalk, feishu, slack, teams, wecom

__all__ = ["dingtalk", "feishu", "slack", "teams", "wecom"]
