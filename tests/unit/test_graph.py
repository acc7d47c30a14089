from __future__ import annotations

import pytest

from knowledge_graph.graph import format_value, numeric_value
from knowledge_graph.store import Conflict, NotFound


def test_filter_by_category_brand_price(mini_view):
    graph = mini_view.graph
    phones = graph.filter(category="手机")
    assert {p.sku for p in phones} == {
        "PH-HW-M60P-256", "PH-HW-M60P-512", "PH-HW-M60-256", "PH-XM-14-256", "PH-AP-15-128"
    }  # fmt: skip
    huawei_under_6000 = graph.filter(category="手机", brands=["华为"], max_price=6000)
    assert [p.sku for p in huawei_under_6000] == ["PH-HW-M60-256"]
    assert graph.filter(category="手机", min_price=6500, max_price=7000)[0].sku == "PH-HW-M60P-512"


def test_filter_in_stock_and_attributes(mini_view):
    graph = mini_view.graph
    assert "PH-AP-15-128" not in {p.sku for p in graph.filter(category="手机", in_stock=True)}
    white = graph.filter(category="手机", attributes={"颜色": "白色"})
    assert [p.sku for p in white] == ["PH-XM-14-256"]
    big_battery = graph.filter(attributes={"电池容量": (4700, None)})
    assert {p.sku for p in big_battery} == {"PH-HW-M60P-256", "PH-HW-M60P-512", "PH-HW-M60-256"}
    large_storage = graph.filter(attributes={"存储容量": (500, None)})
    assert [p.sku for p in large_storage] == ["PH-HW-M60P-512"]


def test_compare_gives_winner_per_attribute(mini_view):
    comparison = mini_view.graph.compare("PH-HW-M60P-256", "PH-XM-14-256")
    rows = {r.key: r for r in comparison.rows}
    assert rows["电池容量"].better == "a"  # 5000 > 4610, higher is better
    assert rows["重量"].better == "b"  # 193 g < 225 g, lower is better
    assert rows["价格"].better == "b"
    assert rows["屏幕尺寸"].better is None  # bigger is not simply better
    assert rows["5G"].better == "same"
    a_wins, b_wins = comparison.wins()
    assert a_wins >= 1 and b_wins >= 2


def test_related_products_both_directions(mini_view):
    graph = mini_view.graph
    assert ("AC-CASE-IP15", "COMPATIBLE_WITH") in graph.related("PH-AP-15-128")
    assert ("PH-HW-M60P-256", "SAME_SERIES") in graph.related("PH-HW-M60-256", ["SAME_SERIES"])
    assert graph.is_compatible("AC-CASE-IP15", "PH-AP-15-128")
    assert not graph.is_compatible("AC-CASE-IP15", "PH-XM-14-256")
    assert graph.related("NO-SUCH-SKU") == []


def test_graph_reloads_when_store_changes(mini_store, mini_service):
    before = mini_service.current()
    assert before.graph.product("PH-XM-14-256").price == 3999
    mini_store.update_product("PH-XM-14-256", {"price": 3699})
    after = mini_service.current()
    assert after.version == before.version + 1
    assert after.graph.product("PH-XM-14-256").price == 3699


def test_update_detects_concurrent_edit(mini_store):
    current = mini_store.get_product("PH-XM-14-256").product.revision
    mini_store.update_product("PH-XM-14-256", {"stock": 5}, expected_revision=current)
    with pytest.raises(Conflict):
        mini_store.update_product("PH-XM-14-256", {"stock": 6}, expected_revision=current)
    with pytest.raises(NotFound):
        mini_store.update_product("NOPE", {"stock": 1})


def test_delete_removes_relations(mini_store, mini_service):
    mini_store.delete_product("AC-CASE-IP15")
    view = mini_service.current()
    assert view.graph.product("AC-CASE-IP15") is None
    assert view.graph.related("PH-AP-15-128") == []


def test_value_helpers():
    assert numeric_value("512GB") == 512 and numeric_value("1TB") == 1024
    assert numeric_value(True) is None and numeric_value("白色") is None
    assert format_value(True) == "支持" and format_value(["白", "黑"]) == "白、黑"
    assert format_value(5000, "mAh") == "5000mAh" and format_value(6.0, "英寸") == "6英寸"


def test_graph_lists_every_catalog_tag_once(mini_view):
    assert mini_view.graph.tags == ["拍照", "运动"]
