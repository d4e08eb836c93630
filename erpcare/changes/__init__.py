"""Change management: changes with impact, risk, approval, window and rollback plan."""
