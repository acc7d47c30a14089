"""The shop's FAQ answers and policy numbers (「店铺问答」): the console page and its JSON API.

Staff write what shoppers read, so staff and admins edit the answers (merchants: 403). The
policy numbers (return days, warranty, free-shipping threshold) are commitments with legal and
financial weight that the shop's management decides, not customer service: staff read them
(the preview fills them in) and only admins change them. Every text goes through the shop's
sensitive words, every change is audited and names the revision it started from (409 when
someone else saved meanwhile); the bot says the new text within a second
(knowledge_graph/shop_answers.py).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from knowledge_graph.policy import POLICY_FIELDS
from knowledge_graph.shop_answers import (
    POLICY_ACTION,
    RESET_ACTION,
    Answer,
    InvalidEdit,
    PolicyRecord,
    ShopAnswers,
)
from knowledge_graph.store import Conflict, NotFound
from web.deps import AdminDep, ServicesDep, StaffDep, StaffPageDep, WebStateDep, refuse_sensitive
from web.errors import ApiError
from web.routes.console import page_context, render
from web.routes.staff_pages import shop_time
from web.schemas import (
    PolicyFieldOut,
    ShopAnswerIn,
    ShopAnswerList,
    ShopAnswerOut,
    ShopPolicyIn,
    ShopPolicyOut,
)

router = APIRouter(tags=["shop answers"])

Topic = Annotated[str, Path(max_length=64, pattern=r"^faq/[a-z_]{1,50}$")]
HISTORY_SHOWN = 20
# Topics the bot fits to the product asked about (actions/policy_answers.py), from the policy
# numbers: their text here is what it says when no product is in question.
PRODUCT_SPECIFIC = frozenset(
    {"faq/return_policy", "faq/warranty", "faq/defect", "faq/bargain", "faq/air_travel"}
)
CONFLICT_MESSAGE = "这条回答刚被别人修改过，请刷新后在最新版本上修改"


def _answer_out(answer: Answer) -> ShopAnswerOut:
    return ShopAnswerOut(
        topic=answer.topic, name=answer.name, variants=list(answer.variants),
        defaults=list(answer.defaults), edited=answer.edited, revision=answer.revision,
        updated_by=answer.updated_by, updated_at=answer.updated_at,
    )  # fmt: skip


def _policy_out(record: PolicyRecord) -> ShopPolicyOut:
    fields = [
        PolicyFieldOut(
            field=name,
            label=spec.label,
            unit=spec.unit,
            min=spec.low,
            max=spec.high,
            placeholder=f"{{{spec.placeholder}}}",
        )  # fmt: skip
        for name, spec in POLICY_FIELDS.items()
    ]
    return ShopPolicyOut(
        **record.terms.values(), revision=record.revision, updated_by=record.updated_by,
        updated_at=record.updated_at, fields=fields,
    )  # fmt: skip


def _answers(services: ServicesDep) -> ShopAnswers:
    return services.answers


# -- the API ------------------------------------------------------------------------------------
@router.get("/api/shop-answers", response_model=ShopAnswerList)
def list_answers(_: StaffDep, services: ServicesDep) -> ShopAnswerList:
    """Every FAQ topic of the bot, in the domain's order, with what the bot says now."""
    items = [_answer_out(a) for a in _answers(services).list()]
    return ShopAnswerList(items=items, total=len(items))


@router.get("/api/shop-answers/{topic:path}", response_model=ShopAnswerOut)
def get_answer(topic: Topic, _: StaffDep, services: ServicesDep) -> ShopAnswerOut:
    try:
        return _answer_out(_answers(services).get(topic))
    except NotFound:
        raise ApiError(404, "not_found", f"没有这个问答主题：{topic}") from None


@router.put("/api/shop-answers/{topic:path}", response_model=ShopAnswerOut)
def update_answer(
    topic: Topic, body: ShopAnswerIn, principal: StaffDep, services: ServicesDep, web: WebStateDep
) -> ShopAnswerOut:
    """Replaces the topic's texts; the bot says one of them from its next turn on."""
    refuse_sensitive(web, *body.variants)
    try:
        answer = _answers(services).update(topic, body.variants, body.revision, principal.username)
    except NotFound:
        raise ApiError(404, "not_found", f"没有这个问答主题：{topic}") from None
    except InvalidEdit as refused:
        raise ApiError(422, "invalid_answer", str(refused)) from None
    except Conflict:
        raise ApiError(409, "edit_conflict", CONFLICT_MESSAGE) from None
    return _answer_out(answer)


@router.delete("/api/shop-answers/{topic:path}", response_model=ShopAnswerOut)
def reset_answer(
    topic: Topic,
    principal: StaffDep,
    services: ServicesDep,
    revision: Annotated[int, Query(ge=0)],
) -> ShopAnswerOut:
    """Back to the bot's trained text (`revision` as in PUT)."""
    try:
        answer = _answers(services).reset(topic, revision, principal.username)
    except NotFound:
        raise ApiError(404, "not_found", f"没有这个问答主题：{topic}") from None
    except Conflict:
        raise ApiError(409, "edit_conflict", CONFLICT_MESSAGE) from None
    return _answer_out(answer)


@router.get("/api/shop-policy", response_model=ShopPolicyOut)
def get_policy(_: StaffDep, services: ServicesDep) -> ShopPolicyOut:
    return _policy_out(_answers(services).policy())


@router.put("/api/shop-policy", response_model=ShopPolicyOut)
def update_policy(body: ShopPolicyIn, principal: AdminDep, services: ServicesDep) -> ShopPolicyOut:
    """Changes the numbers sent (the others stay as they are); admins only."""
    answers = _answers(services)
    changes = body.model_dump(exclude_none=True, exclude={"revision"})
    terms = dataclasses.replace(answers.policy().terms, **changes)
    try:
        record = answers.update_policy(terms, body.revision, principal.username)
    except InvalidEdit as refused:
        raise ApiError(422, "invalid_policy", str(refused)) from None
    except Conflict:
        raise ApiError(
            409, "edit_conflict", "店铺政策刚被别人修改过，请刷新后在最新版本上修改"
        ) from None
    return _policy_out(record)


# -- the page -----------------------------------------------------------------------------------
def _changed_what(action: str, before: dict | None, after: dict | None) -> str:
    """「无理由退货天数 7 → 15」 for the policy; the topic's variants count for an answer."""
    if action == POLICY_ACTION:
        old, new = (before or {}).get("terms") or {}, (after or {}).get("terms") or {}
        parts = [
            f"{spec.label} {old.get(name)} → {new.get(name)}"
            for name, spec in POLICY_FIELDS.items()
            if old.get(name) != new.get(name)
        ]
        return "；".join(parts) or "没有数字变化"
    if action == RESET_ACTION:
        return "恢复为默认回答"
    count = len((after or {}).get("variants") or [])
    return f"保存了 {count} 种说法"


@router.get("/console/answers", response_class=HTMLResponse, include_in_schema=False)
def answers_page(request: Request, principal: StaffPageDep, services: ServicesDep) -> Response:
    answers = _answers(services)
    items = [_answer_out(a) for a in answers.list()]
    policy = _policy_out(answers.policy())
    history = [
        {
            "when": shop_time(c.ts),
            "actor": c.actor,
            "name": c.name,
            "what": _changed_what(c.action, c.before, c.after),
        }  # fmt: skip
        for c in answers.history(HISTORY_SHOWN)
    ]
    context = page_context(
        request, principal, "/console/answers",
        items=items, policy=policy, history=history, shop_time=shop_time,
        may_edit_policy=principal.role == "admin", product_specific=PRODUCT_SPECIFIC,
    )  # fmt: skip
    return render("console/staff/answers.html", context)
