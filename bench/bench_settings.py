"""The portal's settings with the bench URLconf (`bench/bench_urls.py`): nothing else differs."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
