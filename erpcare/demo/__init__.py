"""The demo data set: customers, staff and a few hundred realistic ERP support tickets.

``erpcare.demo.plan`` decides everything from a fixed random seed (no database);
``erpcare.demo.seed`` replays that plan through the real service functions, each action
backdated with ``clock.frozen_at``, so history events and audit rows are the real ones.
The ``erpcare_seed_demo`` management command (and ``erpcare demo``) run it once.
"""

DEMO_PASSWORD = "erpcare-demo"  # noqa: S105 - the documented, public demo password
