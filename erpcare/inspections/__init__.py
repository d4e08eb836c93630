"""Health inspections (巡检): checks against an ERP's database, Prometheus and HTTP endpoints."""
