"""Writes experiments/catalog/timm_models.txt from the installed timm.

The web service validates model names against this file so that it does not
need torch; run this after changing the timm pin (a test compares the two).
"""

from pathlib import Path

import timm

target = Path(__file__).resolve().parent.parent / "experiments/catalog/timm_models.txt"
names = sorted(timm.list_models())
target.write_text(f"# timm {timm.__version__}: timm.list_models()\n" + "\n".join(names) + "\n")
print(f"{len(names)} models -> {target}")
