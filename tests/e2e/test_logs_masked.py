"""After a conversation full of personal data, no log of the running services holds it."""

from __future__ import annotations

import uuid

PHONE = "13987654321"
ID_NUMBER = "11010519491231002X"


def test_no_log_holds_what_the_shopper_typed(bot, settings):
    logs = sorted((settings.var_dir / "logs").glob("*.log"))
    assert logs, "the services write their logs under var/logs"
    sizes = {path: path.stat().st_size for path in logs}
    sender = f"pii-{uuid.uuid4().hex[:8]}"
    for text in (
        f"我的手机号是{PHONE}，帮我查下订单",
        f"身份证{ID_NUMBER}能开发票吗",
        f"+86 {PHONE[:3]}-{PHONE[3:7]}-{PHONE[7:]} 送到北京市朝阳区建国路88号院3号楼2单元501室",
    ):
        assert bot.say(sender, text)  # every message gets an answer
    written = b"".join(path.read_bytes()[sizes.get(path, 0) :] for path in logs)
    text = written.decode("utf-8", errors="replace")
    assert PHONE not in text.replace("-", "").replace(" ", "")
    assert ID_NUMBER not in text
    assert "建国路88号" not in text
