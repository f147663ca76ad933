"""The HTML report is one self-contained page: inline SVG charts, nothing fetched, outside text escaped."""

from __future__ import annotations

import re
from typing import Any

from tests.support import analytics as week
from waba_cli.db.engine import Database


def test_the_page_loads_nothing_and_escapes_names(waba: Any, account: Any, db: Database, tmp_path: Any) -> None:
    from sqlmodel import select

    from waba_cli.db.models.messages import Message

    week.build(db)
    with db.transaction() as session:
        for message in session.exec(select(Message).where(Message.template_name == "promo")):
            message.template_name = "<script>alert(1)</script>"
            session.add(message)
    target = tmp_path / "report.html"
    args = ("--since", "2026-03-07", "--until", "2026-03-10", "--by", "template", "--html", str(target))
    result = waba("analytics", "report", *args)
    assert result.code == 0, result.err
    page = target.read_text(encoding="utf-8")
    assert (target.stat().st_mode & 0o777) == 0o600
    assert page.count("<svg") == 2
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page
