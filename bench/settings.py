"""Production settings for the benchmark processes, with one addition.

Everything comes from nupportal.settings and the environment (bench.run sets
DJANGO_DEBUG=false, a generated secret key, ALLOWED_HOSTS …). The only
override: STATIC_ROOT may point at a temporary directory, so collectstatic for
the throughput run never touches the checkout's staticfiles/.
"""

import os

from nupportal.settings import *  # noqa: F403

if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
# The test client's host.
if "testserver" not in ALLOWED_HOSTS:  # noqa: F405
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
