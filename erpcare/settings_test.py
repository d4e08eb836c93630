"""Settings for the test suite: the real settings with two switches for speed.

Environment variables are set before erpcare.settings reads them, so an explicit value
from the caller still wins.
"""

import os

os.environ.setdefault("ERPCARE_STATIC_MANIFEST", "false")  # no collectstatic needed
os.environ.setdefault("ERPCARE_FAST_PASSWORD_HASHER", "true")  # PBKDF2 would dominate
# Tests check every request against the database; test_api_auth covers the cache itself.
os.environ.setdefault("ERPCARE_API_AUTH_CACHE_SECONDS", "0")

from erpcare.settings import *  # noqa: F403
