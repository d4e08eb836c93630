"""SLA services: calendars, policies, each ticket's clocks, and the evaluator."""
