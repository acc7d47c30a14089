"""Staff annotations exported by the console are data Rasa accepts: `rasa data validate`
with the bot's own domain and config on the exported file."""

from __future__ import annotations

import subprocess

from daogou.nlu.botprep import BOT, RASA_BIN, bot_dir, rasa_env
from web.review.annotations import EntitySpan, nlu_yaml, write_nlu_file


def test_rasa_validates_the_exported_annotations(settings, tmp_path):
    exported = tmp_path / "console_annotations.yml"
    write_nlu_file(
        exported,
        nlu_yaml(
            [
                ("search_product", "有没有三千以内的华为手机", [
                    EntitySpan(3, 7, "price", "3000", "max"),
                    EntitySpan(8, 10, "brand"),
                    EntitySpan(10, 12, "category"),
                ]),
                ("order_status", "我的手机号是13800138000，订单到哪了", []),
                ("faq/invoice", "发票怎么开", []),
            ]
        ),
    )  # fmt: skip
    text = exported.read_text(encoding="utf-8")
    assert "13800138000" not in text and "138****8000" in text
    result = subprocess.run(
        [
            str(RASA_BIN),
            "data",
            "validate",
            "--config",
            str(bot_dir(settings) / "config.yml"),
            "--domain",
            str(BOT / "domain"),
            "--data",
            str(exported),
        ],  # fmt: skip
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
