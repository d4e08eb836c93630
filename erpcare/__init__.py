"""ERPCare: the support and maintenance platform for ERP teams."""

__version__ = "0.1.0"
