"""POST /api/chat: the storefront's messages forwarded to Rasa's REST channel (same origin).

The conversation is the caller's own (web/identity.py): the shop's Bearer token, else the
`daogou_shopper` cookie, else a new identity issued with this answer. A `sender` in the body
is ignored; Rasa gets a token minted for the shopper and takes the sender from it.

Rasa's channel limits each shopper and each client address (bot/channels/guard.py). Every
message from here comes from this process's address, so the caller's address goes along as
X-Forwarded-For, believed because of the proxy token (the Rasa token, X-Daogou-Proxy); it is
uvicorn's client address, which reads X-Forwarded-For from 127.0.0.1 only (FORWARDED_ALLOW_IPS).
Over a limit, the channel's 429 comes back as it is: its list with one polite text, and
Retry-After.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response

from web.deps import SettingsDep
from web.errors import ApiError
from web.identity import mint_shopper_token
from web.routes.widget import ShopperDep
from web.schemas import ChatIn

router = APIRouter(prefix="/api", tags=["chat"])

PROXY_HEADER = "X-Daogou-Proxy"  # bot/channels/guard.py


@router.post("/chat")
async def chat(
    body: ChatIn, shopper: ShopperDep, settings: SettingsDep, request: Request, response: Response
) -> list[dict]:
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    token = mint_shopper_token(settings.shopper_key, shopper.sender_id)
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Forwarded-For": request.client.host if request.client else "unknown",
        PROXY_HEADER: settings.rasa_token,
    }
    try:
        async with httpx.AsyncClient(timeout=30.0) as client:
            payload: dict = {"message": body.message}
            if body.metadata is not None:
                payload["metadata"] = body.metadata.model_dump(exclude_none=True)
            answer = await client.post(url, json=payload, headers=headers)
    except httpx.HTTPError:
        raise ApiError(503, "assistant_unavailable", "导购助手暂时无法连接，请稍后再试") from None
    if answer.status_code == 429:  # the channel's own polite answer (module docstring)
        response.status_code = 429
        response.headers["Retry-After"] = answer.headers.get("Retry-After", "1")
    elif answer.status_code != 200:
        raise ApiError(502, "assistant_error", "导购助手暂时出了点问题，请稍后再试")
    return answer.json()
