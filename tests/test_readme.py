"""The README's webhook example runs as printed."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_webhook_verification_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Receiving Cadence's webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), str(README), "exec"), {})
    assert out.getvalue().strip() == "booking.created bk_1 2026-06-01 13:00:00+00:00"
