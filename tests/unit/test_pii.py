"""Personal data masked in shopper text (cn_text/pii.py)."""

from __future__ import annotations

import time

import pytest

from cn_text.pii import PiiMatch, find_pii, mask_pii

# ------------------------------------------------------------------ independent check digits


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 as GB 11643 writes it: sum of digit * 2^(17-i) mod 11."""
    total = sum(int(digit) * pow(2, 17 - i, 11) for i, digit in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def resident_id(first17: str) -> str:
    return first17 + id_check_char(first17)


def luhn_complete(payload: str) -> str:
    """``payload`` with the Luhn check digit appended."""
    for check in "0123456789":
        digits = [int(d) for d in payload + check]
        odd = digits[-1::-2]
        even = [sum(divmod(2 * d, 10)) for d in digits[-2::-2]]
        if (sum(odd) + sum(even)) % 10 == 0:
            return payload + check
    raise AssertionError("unreachable")


def luhn_broken(payload: str) -> str:
    valid = luhn_complete(payload)
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


def test_the_helpers_agree_with_published_numbers():
    assert resident_id("11010519491231002") == "11010519491231002X"  # GB 11643's own example
    assert luhn_complete("7992739871") == "79927398713"  # the textbook Luhn example


ID = resident_id("11010519491231002")  # 11010519491231002X
ID_DIGIT = resident_id("44030419900307123")  # ends in a digit
CARD19 = luhn_complete("622202123456789012")
CARD16 = luhn_complete("622848001234567")
VISA16 = luhn_complete("453201511283036")


def grouped(number: str, sep: str = " ") -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


# ------------------------------------------------------------------ phones


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "我的手机号是13800138000，麻烦帮我查一下订单",
            "我的手机号是138****8000，麻烦帮我查一下订单",
        ),
        ("电话+86 139-1234-5678", "电话+86 139****5678"),
        ("电话+8613912345678", "电话+86 139****5678"),
        ("8613800138000", "86 138****8000"),
        ("0086-13800138000", "0086 138****8000"),
        ("手机 138 0013 8000 收货", "手机 138****8000 收货"),
        ("手机138-0013-8000", "手机138****8000"),
        ("手机：１３８－００１３－８０００", "手机：138****8000"),
        ("手机１９９１２３４５６７８", "手机199****5678"),
        ("📦收货电话13800138000🙏", "📦收货电话138****8000🙏"),
        ("call me 15912345678 please", "call me 159****5678 please"),
        ("号码13800138000/13900139000都行", "号码138****8000/139****9000都行"),
        ("13800138000 3点前送到", "138****8000 3点前送到"),
    ],
)
def test_phones_are_masked(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


# ------------------------------------------------------------------ resident IDs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身份证{ID}", "身份证110105********002X"),
        (f"身份证{ID.lower()}", "身份证110105********002X"),
        (
            f"身份证号：{ID_DIGIT}，实名认证用",
            f"身份证号：440304********{ID_DIGIT[-4:]}，实名认证用",
        ),
        (f"身份证 {ID[:6]} {ID[6:14]} {ID[14:]}", "身份证 110105********002X"),
        (
            f"身份证{ID.translate(str.maketrans('0123456789X', '０１２３４５６７８９Ｘ'))}",
            "身份证110105********002X",
        ),
    ],
)
def test_resident_ids_with_a_right_checksum_are_masked(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "身份证110105194912310029",  # the brief's number: its check character should be X
        f"订单号{ID[:-1]}{'0' if ID[-1] != '0' else '1'}",  # wrong check character
        f"编号{resident_id('11010519490230002')}",  # right checksum, but 30 February
        f"编号{resident_id('11010518491231002')}",  # born 1849: not a live ID
        "老身份证110105491231002",  # 15-digit first generation: left alone (documented)
    ],
)
def test_numbers_that_only_look_like_ids_stay(text: str) -> None:
    assert mask_pii(text) == text
    assert find_pii(text) == []


# ------------------------------------------------------------------ bank cards


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"卡号{CARD19}", f"卡号6222 **** **** {CARD19[-4:]}"),
        (f"卡号 {grouped(CARD19)}", f"卡号 6222 **** **** {CARD19[-4:]}"),
        (f"退款到{grouped(CARD16, '-')}这张卡", f"退款到6228 **** **** {CARD16[-4:]}这张卡"),
        (f"visa {grouped(VISA16)}", f"visa 4532 **** **** {VISA16[-4:]}"),
    ],
)
def test_bank_cards_passing_luhn_are_masked(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_the_brief_card_number_is_luhn_valid_and_masked():
    assert luhn_complete("622202123456789012") == "6222021234567890128"
    assert mask_pii("卡号6222 0212 3456 7890 128") == "卡号6222 **** **** 0128"


def test_a_count_after_a_grouped_card_is_not_read_as_its_last_digits():
    card = luhn_complete("622202123456789")
    count = next(c for c in "23" if luhn_complete(card)[-1] != c)  # card + count fails Luhn
    text = f"卡号{grouped(card)} {count}张"
    assert mask_pii(text) == f"卡号6222 **** **** {card[-4:]} {count}张"


@pytest.mark.parametrize(
    "text",
    [
        f"卡号{luhn_broken('622202123456789012')}",
        f"卡号 {grouped(luhn_broken('622848001234567'))}",
        f"订单号{luhn_complete('123456789012345678')}",  # starts with 1: no card network
        f"卡号{grouped(CARD16)[:9]}-{grouped(CARD16)[10:]}",  # mixed separators
    ],
)
def test_numbers_failing_the_card_rules_stay(text: str) -> None:
    assert mask_pii(text) == text


# ------------------------------------------------------------------ addresses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("北京市朝阳区建国路88号院3号楼2单元501室", "北京市朝阳区****"),
        ("上海浦东新区张江路123弄5号", "上海浦东新区****"),
        ("广东省深圳市南山区科技园南路XX号", "广东省深圳市南山区****"),
        ("广东省深圳市南山区科技园南路18号", "广东省深圳市南山区****"),
        ("杭州市西湖区文三路 100 号 2 幢 301", "杭州市西湖区****"),
        ("杭州市西湖区文三路100号3-2-501，放快递柜", "杭州市西湖区****，放快递柜"),
        ("广东省东莞市虎门镇连升路5号", "广东省东莞市****"),
        ("成都市武侯区人民南路四段12号", "成都市武侯区****"),
        ("北京市朝阳区望京花园3号楼2单元501", "北京市朝阳区****"),
        ("我住在建国路八十八号", "我住在****"),
        ("麻烦寄到北京市海淀区中关村大街27号A座1001室，谢谢", "麻烦寄到北京市海淀区****，谢谢"),
    ],
)
def test_addresses_keep_the_region_and_hide_the_rest(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我要一台小米14",
        "送到公司",
        "朝阳区有货吗",
        "北京市朝阳区建国路有门店吗",  # a road without a number
        "朝阳区3号能送到吗",  # a district and a date, no road
        "12号能到吗",
        "你知道12号能发货吗",
        "这个渠道12号到货吗",
        "顺路3号送到",
        "万达广场3楼有店吗",
        "路由器买3台",
        "双十一11号零点开抢",
    ],
)
def test_shopping_text_is_not_an_address(text: str) -> None:
    assert mask_pii(text) == text


# ------------------------------------------------------------------ what must stay


@pytest.mark.parametrize(
    "text",
    [
        "3999元",
        "预算5000",
        "预算5000左右，想要拍照好的",
        "iPhone15和mate60哪个好",
        "RTX4090显卡有货吗",
        "SKU PH-XM-14-256 还有吗",
        "订单DG20261204000123怎么还没发货",
        "订单DG-13800138000",
        "快递单号1381234567",  # 10 digits
        "物流单号138001380001",  # 12 digits: too long for a phone
        "物流单号SF13800138000",
        "2026-12-04之前能到吗",
        "买3台，再来2个充电器",
        "65W快充，5000mAh",
        "我要一台小米14，送到公司😊",
        "",
    ],
)
def test_prices_models_order_numbers_and_dates_stay(text: str) -> None:
    assert mask_pii(text) == text
    assert find_pii(text) == []


# ------------------------------------------------------------------ overlaps and spans


def test_an_id_that_also_passes_luhn_is_an_id():
    both = next(
        number
        for seq in range(1000)
        if luhn_complete((number := resident_id(f"44030419900307{seq:03d}"))[:-1]) == number
    )
    assert [m.kind for m in find_pii(f"证件{both}")] == ["id_number"]
    assert mask_pii(f"证件{both}") == f"证件440304********{both[-4:]}"


def test_phone_like_digits_inside_longer_numbers_are_not_masked_as_a_phone():
    # "19491231002" in an ID and "13800138000" in a card number look like mobile numbers.
    assert mask_pii(f"身份证{ID}") == "身份证110105********002X"
    assert mask_pii("身份证110105194912310029") == "身份证110105194912310029"
    not_a_card = f"卡号{luhn_broken('621380013800012')}"
    assert mask_pii(not_a_card) == not_a_card
    assert find_pii(not_a_card) == []
    card = luhn_complete("621380013800012")
    assert find_pii(f"卡号{card}") == [PiiMatch("bank_card", 2, 18, card)]


def test_an_address_followed_by_a_card_or_phone_masks_both():
    assert (
        mask_pii(f"北京市朝阳区建国路88号 {grouped(CARD19)}")
        == f"北京市朝阳区**** 6222 **** **** {CARD19[-4:]}"
    )
    assert mask_pii("杭州市西湖区文三路100号2幢301 13800138000") == "杭州市西湖区**** 138****8000"


def test_mixed_message():
    text = (
        f"地址：上海浦东新区张江路123弄5号，电话+86 139-1234-5678，身份证{ID}，"
        "预算5000，要RTX4090的😊"
    )
    assert mask_pii(text) == (
        "地址：上海浦东新区****，电话+86 139****5678，身份证110105********002X，"
        "预算5000，要RTX4090的😊"
    )


def test_find_pii_gives_spans_into_the_original_text():
    text = "😊手机１３８００１３８０００，送到北京市朝阳区建国路88号院3号楼"
    matches = find_pii(text)
    assert matches == [
        PiiMatch("phone", 3, 14, "１３８００１３８０００"),
        PiiMatch("address", 23, 33, "建国路88号院3号楼"),
    ]
    assert all(text[m.start : m.end] == m.text for m in matches)
    with pytest.raises(AttributeError):
        matches[0].kind = "address"  # type: ignore[misc]


def test_masking_twice_changes_nothing_more():
    text = f"电话13800138000，卡{CARD19}，身份证{ID}，地址北京市朝阳区建国路88号"
    once = mask_pii(text)
    assert mask_pii(once) == once


def test_a_console_page_of_messages_is_fast():
    messages = [
        "请问小米14和华为Mate60哪个拍照更好，预算5000左右",
        "我的手机号是13800138000，麻烦帮我查一下订单",
        "送到北京市朝阳区建国路88号院3号楼2单元501室",
    ] * 100
    started = time.perf_counter()
    for message in messages:
        mask_pii(message)
    assert time.perf_counter() - started < 0.25  # about 3 ms on a laptop; generous for CI


def test_log_records_are_masked_whatever_logger_writes_them():
    import io
    import logging

    from cn_text.pii import mask_log_records

    previous = logging.getLogRecordFactory()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("rasa.core.processor.test-masking")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        mask_log_records()
        mask_log_records()  # twice is once
        logger.info(
            "Received user message '%s'", "我的手机号是13812345678，身份证11010519491231002X"
        )
        logger.info("no personal data: %s", "小米14多少钱")
    finally:
        logging.setLogRecordFactory(previous)
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "Received user message '我的手机号是138****5678，身份证110105********002X'",
        "no personal data: 小米14多少钱",
    ]
