"""Our settings with scripts/lower_bound.py's URLs: for the second server that bench_list.py starts."""

from platform_site.settings import *  # noqa: F403

ROOT_URLCONF = "lower_bound"
