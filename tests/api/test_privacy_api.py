"""A shopper's PIPL requests over the API (web/routes/privacy.py): the shopper asks for their
own data or its erasure by their signed identity, an admin asks on their behalf; nobody else
can, and every request is in the audit log under a pseudonym."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from knowledge_graph.orders import OrderStore
from knowledge_graph.privacy import pseudonym
from knowledge_graph.tables import AuditEntry
from tests.api.test_catalog_files_api import PASSWORD, bearer
from tests.unit.test_privacy import OTHER, PHONE, SHOPPER, database_bytes
from tests.unit.test_privacy import services as services  # noqa: F401 (the fixture)
from web import identity
from web.accounts import create_account
from web.app import create_app


@pytest.fixture()
def app(services):  # noqa: F811
    create_account(services.store, "boss", PASSWORD, "admin")
    create_account(services.store, "staff1", PASSWORD, "staff")
    return create_app(services)


def as_shopper(app, services, sender: str) -> TestClient:  # noqa: F811
    token = identity.mint_shopper_token(services.settings.shopper_key, sender)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def privacy_log(services) -> list[tuple[str, str, str]]:  # noqa: F811
    with services.store.session() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("privacy_%")).order_by(AuditEntry.id)
        )
        return [(e.actor, e.action, e.target) for e in rows]


def test_the_shopper_downloads_their_own_data_and_nobody_elses(app, services):  # noqa: F811
    response = as_shopper(app, services, SHOPPER).get("/api/widget/my-data")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    document = response.json()
    assert document["user_id"] == SHOPPER
    assert [o["order_id"] for o in document["catalog"]["orders"]] == ["DG20261201000001"]
    said = [e["text"] for e in document["conversation"] if e["event"] == "user"]
    assert said == [f"我的手机号是{PHONE}"]  # their own words, unmasked: it is their data
    assert OTHER not in json.dumps(document, ensure_ascii=False)
    assert TestClient(app).get("/api/widget/my-data").status_code == 401
    assert privacy_log(services) == [("shopper", "privacy_export", pseudonym(SHOPPER))]


def test_the_shopper_erases_their_data_after_confirming(app, services):  # noqa: F811
    shopper = as_shopper(app, services, SHOPPER)
    unconfirmed = shopper.post("/api/widget/my-data/erase", json={})
    assert unconfirmed.status_code == 422
    assert unconfirmed.json()["error"]["code"] == "confirmation_required"
    assert SHOPPER.encode() in database_bytes(services)

    erased = shopper.post("/api/widget/my-data/erase", json={"confirm": True})
    assert erased.status_code == 200, erased.text
    assert erased.json()["removed"]["catalog.events"] == 2
    assert erased.json()["removed"]["tracker.events"] > 0
    assert identity.COOKIE in erased.headers.get("set-cookie", "")  # the identity is dropped
    everything = database_bytes(services)
    assert SHOPPER.encode() not in everything and PHONE.encode() not in everything
    assert OrderStore(services.store).get("DG20261201000002")["user_id"] == OTHER
    assert privacy_log(services) == [("shopper", "privacy_erase", pseudonym(SHOPPER))]


def test_an_admin_asks_on_the_shoppers_behalf_staff_cannot(app, services):  # noqa: F811
    staff = bearer(app, "staff1")
    assert staff.get(f"/api/privacy/shoppers/{SHOPPER}").status_code == 403
    assert (
        staff.post(f"/api/privacy/shoppers/{SHOPPER}/erase", json={"confirm": True}).status_code
        == 403
    )
    assert (
        as_shopper(app, services, OTHER).get(f"/api/privacy/shoppers/{SHOPPER}").status_code == 401
    )

    admin = bearer(app, "boss")
    exported = admin.get(f"/api/privacy/shoppers/{SHOPPER}")
    assert exported.status_code == 200 and exported.json()["user_id"] == SHOPPER
    erased = admin.post(f"/api/privacy/shoppers/{SHOPPER}/erase", json={"confirm": True})
    assert erased.status_code == 200 and erased.json()["removed"]["catalog.events"] == 2
    assert SHOPPER.encode() not in database_bytes(services)
    assert privacy_log(services) == [
        ("boss", "privacy_export", pseudonym(SHOPPER)),
        ("boss", "privacy_erase", pseudonym(SHOPPER)),
    ]
