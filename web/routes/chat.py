"""POST /api/chat: the storefront's messages forwarded to Rasa's REST channel (same origin).

The conversation is the caller's own (web/identity.py): the shop's Bearer token, else the
`daogou_shopper` cookie, else a new identity issued with this answer. A `sender` in the body
is ignored; Rasa gets a token minted for the shopper and takes the sender from it.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from web.deps import SettingsDep
from web.errors import ApiError
from web.identity import mint_shopper_token
from web.routes.widget import ShopperDep
from web.schemas import ChatIn

router = APIRouter(prefix="/api", tags=["chat"])


@router.post("/chat")
async def chat(body: ChatIn, shopper: ShopperDep, settings: SettingsDep) -> list[dict]:
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    token = mint_shopper_token(settings.shopper_key, shopper.sender_id)
    try:
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(
                url, json={"message": body.message}, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError:
        raise ApiError(503, "assistant_unavailable", "导购助手暂时无法连接，请稍后再试") from None
    if response.status_code != 200:
        raise ApiError(502, "assistant_error", "导购助手暂时出了点问题，请稍后再试")
    return response.json()
