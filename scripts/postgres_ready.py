"""Exit 0 when the PostgreSQL at the given URL accepts connections."""

import sys

import dj_database_url
import psycopg

config = dj_database_url.parse(sys.argv[1])
try:
    psycopg.connect(
        dbname=config["NAME"] or "postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"],
        port=config["PORT"] or 5432,
        connect_timeout=3,
    ).close()
except psycopg.OperationalError as error:
    print(f"PostgreSQL not available: {str(error).strip()}", file=sys.stderr)
    sys.exit(1)
