"""pytest plugin (loaded with -p before Django's settings): tests run with the
development settings, whatever the shell exports, except DATABASE_URL, which
selects the database the suite runs on."""

import os

os.environ["DEBUG"] = "1"
os.environ.pop("SECRET_KEY", None)
for name in ("ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "CORS_ALLOWED_ORIGINS", "LANGUAGE_CODE", "TIME_ZONE"):
    os.environ.pop(name, None)
