"""Settings of the gunicorn server that benchmarks/invoice_download.py starts for its HTTP measurement.

The portal's settings as production runs them where it matters for a download: debug off, database
connections kept for 60 s (CONN_MAX_AGE, the production default), plus the urlconf that adds the bare view.
The database (DATABASE_URL), the media folder (MEDIA_ROOT) and the bare view's file (BENCH_BARE_FILE) come
from the environment the benchmark gives the server.
"""

import os

from portal.settings import *  # noqa: F403
from portal.settings import DATABASES

ROOT_URLCONF = "benchmarks._bench_urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
DATABASES = {**DATABASES, "default": {**DATABASES["default"], "CONN_MAX_AGE": 60}}
BENCH_BARE_FILE = os.environ.get("BENCH_BARE_FILE", "")
