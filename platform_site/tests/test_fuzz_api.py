"""Fuzzing the API from its OpenAPI schema with schemathesis, against the real server.

Every operation gets schema-valid and schema-violating requests with a real
token (plus schemathesis' own auth checks). The checks: no 5xx, every status
code, header and body is the one the schema documents, invalid input is
refused, and another user's objects stay out of reach. schemathesis.toml
holds the one exception and why.

Bounded: FUZZ_EXAMPLES cases per operation (default 40), from the seed
FUZZ_SEED (default fixed, so that CI is repeatable; set another to explore).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from experiments.tests.processes import ROOT, start_server

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


def test_the_api_survives_fuzzing_and_matches_its_schema(demo, datasets_root, tmp_path):
    server, url = start_server(tmp_path)
    token = AccessToken.for_user(demo["owner"])
    command = [
        str(SCHEMATHESIS), "run", f"{url}/api/v1/schema",
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", os.environ.get("FUZZ_EXAMPLES", "40"),
        "--seed", os.environ.get("FUZZ_SEED", "20261127"),
        "--workers", "1", "--request-timeout", "10", "--generation-database", "none", "--no-color",
    ]  # fmt: skip
    try:
        # From the repository root, where schemathesis.toml is.
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        server.stop()
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report + f"\n--- server ---\n{server.tail()}"
    passed = [int(count) for count in re.findall(r"(\d+) passed", result.stdout)]
    assert passed and 0 not in passed, report  # "2220 passed" is not "0 passed"
