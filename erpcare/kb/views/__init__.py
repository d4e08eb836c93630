"""Knowledge-base pages: the desk (``desk``, ``panel``) and the customer portal (``portal``)."""
