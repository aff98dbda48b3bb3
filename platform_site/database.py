"""What the web processes do with their PostgreSQL connection pool when the database goes away."""

from django.db import connections


def drop_idle_connections() -> None:
    """Close the pool's idle connections, and open new ones in the background.

    Called when a request failed for want of a database connection. Pooled
    connections die together (the server restarted or went away), and the
    pool checks one only when it hands it out: left alone, it would hand the
    dead ones out one by one after the database is back, each a 503.
    """
    pool = getattr(connections["default"], "pool", None)  # SQLite has no pool
    if pool is not None:
        pool.drain()
