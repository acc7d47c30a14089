"""The relations editor's API: add and remove a product's relations (the merchant's own
products only, audited, a new catalog version the chat sees), and the leaf categories with
their attribute specs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from web.accounts import create_account
from web.app import create_app

PASSWORD = "correct-horse-9"
PHONE = "PH-XM-14-256"  # merchant m001
CASE = "AC-CASE-IP15"  # merchant m001, COMPATIBLE_WITH the iPhone 15
IPHONE = "PH-AP-15-128"  # merchant m001
SHOE = "SH-NK-PEG40-42"  # merchant m002


@pytest.fixture()
def app(mini_services):
    store = mini_services.store
    create_account(store, "admin", PASSWORD, "admin")
    create_account(store, "staff1", PASSWORD, "staff")
    create_account(store, "m1", PASSWORD, "merchant", "m001")
    create_account(store, "m2", PASSWORD, "merchant", "m002")
    return create_app(mini_services)


def bearer(app, username: str) -> TestClient:
    login = TestClient(app).post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    return TestClient(app, headers={"Authorization": f"Bearer {login.json()['token']}"})


def relations(client: TestClient, sku: str) -> set[tuple[str, str, str]]:
    body = client.get(f"/api/products/{sku}").json()
    return {(r["type"], r["sku"], r["direction"]) for r in body["relations"]}


def test_add_and_remove_a_relation_audited_with_a_new_version(app, mini_services):
    m1 = bearer(app, "m1")
    version = mini_services.store.version()
    added = m1.post(f"/api/products/{CASE}/relations", json={"type": "ACCESSORY_OF", "sku": IPHONE})
    assert added.status_code == 201, added.text
    assert {"type": "ACCESSORY_OF", "sku": IPHONE, "direction": "out"} in added.json()["relations"]
    assert mini_services.store.version() == version + 1
    # the chat's graph sees it
    graph = mini_services.catalog.current().graph
    assert graph.graph.has_edge(("product", CASE), ("product", IPHONE), key="ACCESSORY_OF")

    [entry] = m1.get("/api/audit", params={"sku": CASE, "limit": 1}).json()["items"]
    assert (entry["actor"], entry["action"]) == ("m1", "relation_add")
    edge = {"type": "ACCESSORY_OF", "source": CASE, "target": IPHONE}
    assert edge not in entry["before"]["relations"] and edge in entry["after"]["relations"]

    removed = m1.delete(f"/api/products/{CASE}/relations/ACCESSORY_OF/{IPHONE}")
    assert removed.status_code == 200, removed.text
    assert ("ACCESSORY_OF", IPHONE, "out") not in relations(m1, CASE)
    assert mini_services.store.version() == version + 2
    [entry] = m1.get("/api/audit", params={"sku": CASE, "limit": 1}).json()["items"]
    assert entry["action"] == "relation_remove" and edge in entry["before"]["relations"]


def test_symmetric_relations_count_both_ways(app):
    m1 = bearer(app, "m1")
    added = m1.post(
        f"/api/products/{PHONE}/relations", json={"type": "ALTERNATIVE_TO", "sku": IPHONE}
    )
    assert added.status_code == 201
    # the same pair the other way round already exists
    again = m1.post(
        f"/api/products/{IPHONE}/relations", json={"type": "ALTERNATIVE_TO", "sku": PHONE}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "relation_exists"
    # and is removed from either side
    removed = m1.delete(f"/api/products/{IPHONE}/relations/ALTERNATIVE_TO/{PHONE}")
    assert removed.status_code == 200
    assert ("ALTERNATIVE_TO", IPHONE, "out") not in relations(m1, PHONE)


def test_duplicates_bad_types_self_and_unknown_products(app):
    m1 = bearer(app, "m1")
    existing = m1.post(
        f"/api/products/{CASE}/relations", json={"type": "COMPATIBLE_WITH", "sku": IPHONE}
    )
    assert existing.status_code == 409
    bad_type = m1.post(f"/api/products/{CASE}/relations", json={"type": "FRIEND_OF", "sku": IPHONE})
    assert bad_type.status_code == 422
    itself = m1.post(f"/api/products/{CASE}/relations", json={"type": "BUNDLE_WITH", "sku": CASE})
    assert itself.status_code == 422 and itself.json()["error"]["code"] == "invalid_relation"
    unknown = m1.post(
        f"/api/products/{CASE}/relations", json={"type": "BUNDLE_WITH", "sku": "NOPE-1"}
    )
    assert unknown.status_code == 404
    missing = m1.delete(f"/api/products/{CASE}/relations/BUNDLE_WITH/{PHONE}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "relation_not_found"


def test_only_the_owner_or_an_admin_edits_relations(app):
    m2 = bearer(app, "m2")
    foreign = m2.post(f"/api/products/{CASE}/relations", json={"type": "BUNDLE_WITH", "sku": SHOE})
    assert foreign.status_code == 403
    assert m2.delete(f"/api/products/{CASE}/relations/COMPATIBLE_WITH/{IPHONE}").status_code == 403
    # the target may be another merchant's product
    own = m2.post(f"/api/products/{SHOE}/relations", json={"type": "BUNDLE_WITH", "sku": CASE})
    assert own.status_code == 201
    staff = bearer(app, "staff1")
    assert (
        staff.post(
            f"/api/products/{SHOE}/relations", json={"type": "BUNDLE_WITH", "sku": PHONE}
        ).status_code
        == 403
    )
    admin = bearer(app, "admin")
    assert admin.delete(f"/api/products/{SHOE}/relations/BUNDLE_WITH/{CASE}").status_code == 200
    anonymous = TestClient(app).post(
        f"/api/products/{SHOE}/relations", json={"type": "BUNDLE_WITH", "sku": PHONE}
    )
    assert anonymous.status_code == 401


def test_cookie_sessions_need_the_csrf_token(app):
    client = TestClient(app)
    client.post("/api/auth/login", json={"username": "m1", "password": PASSWORD})
    body = {"type": "BUNDLE_WITH", "sku": PHONE}
    assert client.post(f"/api/products/{CASE}/relations", json=body).status_code == 403
    client.headers["X-CSRF-Token"] = client.cookies["csrf_token"]
    assert client.post(f"/api/products/{CASE}/relations", json=body).status_code == 201


def test_categories_are_the_leaves_with_their_attribute_specs(app):
    body = TestClient(app).get("/api/categories").json()
    names = [c["name"] for c in body["items"]]
    assert names == sorted(["手机", "手机配件", "跑步鞋"]) and body["total"] == 3
    phone = next(c for c in body["items"] if c["name"] == "手机")
    assert phone["parent"] == "手机数码" and "智能手机" in phone["aliases"]
    specs = {a["key"]: a for a in phone["attributes"]}
    assert specs["电池容量"]["type"] == "number" and specs["电池容量"]["unit"] == "mAh"
    assert specs["5G"]["type"] == "bool" and specs["颜色"]["type"] == "list"
    assert specs["存储容量"]["type"] == "text"
