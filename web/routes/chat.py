"""POST /api/chat: the storefront's messages forwarded to Rasa's REST channel (same origin)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from web.deps import SettingsDep
from web.errors import ApiError
from web.schemas import ChatIn

router = APIRouter(prefix="/api", tags=["chat"])


@router.post("/chat")
async def chat(body: ChatIn, settings: SettingsDep) -> list[dict]:
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    try:
        async with httpx.AsyncClient(timeout=30.0) as client:
            response = await client.post(url, json={"sender": body.sender, "message": body.message})
    except httpx.HTTPError:
        raise ApiError(503, "assistant_unavailable", "导购助手暂时无法连接，请稍后再试") from None
    if response.status_code != 200:
        raise ApiError(502, "assistant_error", "导购助手暂时出了点问题，请稍后再试")
    return response.json()
