"""Monitoring: alerts from Alertmanager, Grafana, Zabbix, PagerDuty-style and generic
sources, deduplicated and correlated into incident tickets."""
