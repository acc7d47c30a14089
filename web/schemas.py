"""Pydantic models for API requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from web.review.analytics import Dashboard
from web.review.tracker import ConversationSummary
from web.review.transcript import Transcript


class ProductOut(BaseModel):
    sku: str
    title: str
    brand: str
    category: str
    price: float
    attributes: dict[str, Any]
    tags: list[str]
    description: str
    stock: int
    rating: float
    merchant_id: str
    image: str | None = None
    series: str | None = None
    model: str | None = None
    aliases: list[str] = Field(default_factory=list)
    revision: int = 1


class RelationOut(BaseModel):
    type: str
    sku: str
    direction: str


class ProductDetailOut(ProductOut):
    relations: list[RelationOut] = Field(default_factory=list)


class ProductList(BaseModel):
    items: list[ProductOut]
    total: int


class ChatMetadata(BaseModel):
    product_sku: str | None = Field(default=None, min_length=1, max_length=64)  # the page's


class ChatIn(BaseModel):
    # Ignored: the conversation is the caller's signed identity (web/identity.py).
    sender: str | None = Field(default=None, max_length=128)
    message: str = Field(max_length=20000)
    metadata: ChatMetadata | None = None  # on a product page: 「这款」 is that product


class Health(BaseModel):
    status: str
    components: dict[str, str]


class ScoredProduct(ProductOut):
    score: float


class RecommendedProduct(ScoredProduct):
    reason: str


class SearchList(BaseModel):
    items: list[ScoredProduct]
    total: int
    understood: dict[str, Any] = Field(default_factory=dict)
    # Set when nothing met every constraint: the one dropped ("price", "brand", "colour" or
    # "category") to show the nearest products instead.
    relaxed: str | None = None


class RecommendationList(BaseModel):
    items: list[RecommendedProduct]
    total: int


class EventIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    type: Literal["impression", "view", "click", "add_to_cart", "purchase"]
    source: Literal["chat", "widget", "storefront"] = "storefront"


# -- console accounts ----------------------------------------------------------------------
Role = Literal["staff", "merchant", "admin"]


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    token: str
    role: Role
    merchant_id: str | None


class MeOut(BaseModel):
    username: str
    role: Role
    merchant_id: str | None


class PasswordChangeIn(BaseModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class PasswordResetIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    new_password: str = Field(min_length=8, max_length=256)


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Role
    merchant_id: str | None = Field(default=None, max_length=32)


class AccountOut(BaseModel):
    id: int
    username: str
    role: Role
    merchant_id: str | None
    disabled: bool
    created_at: datetime


class AccountList(BaseModel):
    items: list[AccountOut]
    total: int


class AccountPatch(BaseModel):
    disabled: bool


class ResetCodeOut(BaseModel):
    code: str
    expires_in_hours: int


# -- catalog edits -------------------------------------------------------------------------
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ProductFields(BaseModel):
    """What a merchant may set; `None` in a PATCH means "leave as it is"."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    brand: str | None = Field(default=None, min_length=1, max_length=64)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    price: float | None = Field(default=None, ge=0, le=10_000_000)
    attributes: dict[str, Any] | None = None
    tags: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, max_length=30
    )
    description: str | None = Field(default=None, max_length=5000)
    stock: int | None = Field(default=None, ge=0, le=10_000_000)
    rating: float | None = Field(default=None, ge=0, le=5)
    image: str | None = Field(default=None, max_length=500)
    series: str | None = Field(default=None, max_length=120)
    model: str | None = Field(default=None, max_length=120)
    aliases: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=30
    )


class ProductCreate(ProductFields):
    sku: str = Field(pattern=SKU_PATTERN)
    title: str = Field(min_length=1, max_length=300)
    brand: str = Field(min_length=1, max_length=64)
    category: str = Field(min_length=1, max_length=64)
    price: float = Field(ge=0, le=10_000_000)
    # Admins name the merchant; a merchant's own id is always used for their products.
    merchant_id: str | None = Field(default=None, max_length=32)


class ProductPatch(ProductFields):
    # The revision the edit started from: a stale one is refused (409), nothing is lost.
    revision: int | None = Field(default=None, ge=1)


class AuditOut(BaseModel):
    id: int
    actor: str
    action: str
    target: str
    merchant_id: str | None
    ts: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditList(BaseModel):
    items: list[AuditOut]
    total: int


# -- staff review of conversations -----------------------------------------------------------
class ReviewOut(BaseModel):
    tags: list[str] = Field(default_factory=list)
    note: str = ""
    reviewed: bool = False
    updated_by: str = ""
    updated_at: datetime | None = None


class ReviewPatch(BaseModel):
    tags: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, max_length=20
    )
    note: str | None = Field(default=None, max_length=5000)
    reviewed: bool | None = None


class ConversationOut(BaseModel):
    summary: ConversationSummary
    review: ReviewOut


class ConversationList(BaseModel):
    items: list[ConversationOut]
    total: int


class ConversationDetail(BaseModel):
    summary: ConversationSummary
    review: ReviewOut
    transcript: Transcript


class DashboardOut(BaseModel):
    dashboard: Dashboard
    # The funnel's rates, computed here so the page needs no arithmetic.
    click_rates: dict[str, float | None]
    cart_rates: dict[str, float | None]


class EntityIn(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=1)
    entity: str = Field(min_length=1, max_length=64)
    value: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=32)


class AnnotationIn(BaseModel):
    event_id: int
    intent: str = Field(min_length=1, max_length=128)
    entities: list[EntityIn] = Field(default_factory=list, max_length=20)


class AnnotationOut(BaseModel):
    id: int
    sender_id: str
    event_id: int | None
    text: str
    predicted_intent: str | None
    intent: str
    entities: list[dict[str, Any]]
    status: str
    created_by: str
    created_at: datetime
    exported_at: datetime | None


class AnnotationList(BaseModel):
    items: list[AnnotationOut]
    total: int


class AnnotationPatch(BaseModel):
    status: Literal["open", "discarded"]


class AnnotationExportOut(BaseModel):
    path: str
    examples: int


# -- handoff to a person (web/routes/handoff.py) ------------------------------------------------


class HandoffOut(BaseModel):
    id: int
    sender_id: str
    status: Literal["waiting", "active", "expired", "left_message", "closed"]
    requested_at: datetime
    waiting_seconds: float  # since the request (until taken or ended)
    position: int | None = None  # 1 = next to be taken; waiting requests only
    taken_by: str | None = None
    taken_at: datetime | None = None
    closed_at: datetime | None = None
    expired_reason: str | None = None
    request_text: str = ""  # masked
    last_shopper_message: str | None = None  # masked (cn_text.pii.mask_pii)
    last_shopper_at: datetime | None = None
    left_message: str | None = None  # masked; the shop's webhook gets it whole
    left_at: datetime | None = None
    rating: int | None = None
    conversation: str  # the transcript: GET /api/conversations/{sender_id}


class HandoffList(BaseModel):
    items: list[HandoffOut]
    total: int


class HandoffMessageIn(BaseModel):
    """One staff message: text, or a product card by SKU."""

    text: str | None = Field(default=None, min_length=1, max_length=2000)
    sku: str | None = Field(default=None, min_length=1, max_length=64)


class HandoffMessageOut(BaseModel):
    handoff_id: int
    sender_id: str
    message: dict[str, Any]  # as the shopper's widget got it: {"text"} or {"custom": cards}


class HandoffRatingIn(BaseModel):
    rating: int = Field(ge=1, le=5)


class CannedReplyIn(BaseModel):
    title: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=2000)


class CannedReplyOut(BaseModel):
    id: int
    title: str
    text: str
    created_by: str
    created_at: datetime


class CannedReplyList(BaseModel):
    items: list[CannedReplyOut]
    total: int


# -- the merchant console: relations and the categories' attribute specs ----------------------
RelationType = Literal[
    "ACCESSORY_OF", "COMPATIBLE_WITH", "SAME_SERIES", "ALTERNATIVE_TO", "BUNDLE_WITH"
]


class RelationIn(BaseModel):
    type: RelationType
    sku: str = Field(min_length=1, max_length=64)  # the other product


class AttributeSpecOut(BaseModel):
    key: str
    type: str  # number, text, bool, list
    unit: str | None = None
    aliases: list[str] = Field(default_factory=list)


class CategoryOut(BaseModel):
    name: str
    parent: str | None = None
    aliases: list[str] = Field(default_factory=list)
    attributes: list[AttributeSpecOut] = Field(default_factory=list)


class CategoryList(BaseModel):
    items: list[CategoryOut]
    total: int


# -- the shopper's consent to personal recommendations (web/routes/widget.py) -----------------


class ConsentIn(BaseModel):
    granted: bool = Field(strict=True)  # true: 同意; false: 暂不 (or withdrawn later)


class ConsentOut(BaseModel):
    # None: not answered yet, which counts as no (only non-personal suggestions)
    granted: bool | None = None
    decided_at: datetime | None = None


# -- the shop's FAQ answers and policy numbers (web/routes/answers.py) -------------------------
class ShopAnswerOut(BaseModel):
    topic: str  # faq/shipping
    name: str  # 配送与运费
    variants: list[str]  # what the bot says now (one picked at random)
    defaults: list[str]  # the bot's trained text (bot/domain/faq.yml)
    edited: bool  # false: the bot says `defaults`
    revision: int  # 0 until the first edit; send it back with PUT
    updated_by: str | None = None
    updated_at: datetime | None = None


class ShopAnswerList(BaseModel):
    items: list[ShopAnswerOut]
    total: int


class ShopAnswerIn(BaseModel):
    variants: list[Annotated[str, Field(max_length=1000)]] = Field(min_length=1, max_length=5)
    revision: int = Field(ge=0)  # the revision the edit started from (0: never edited)


class PolicyFieldOut(BaseModel):
    """One policy number as the console shows it."""

    field: str
    label: str
    unit: str
    min: int
    max: int
    placeholder: str  # 「{无理由退货天数}」 in a shop's answer says the number


class ShopPolicyOut(BaseModel):
    return_days: int
    exchange_days: int
    digital_warranty_months: int
    appliance_warranty_months: int
    free_shipping_threshold: int
    remote_free_shipping_threshold: int
    shipping_fee: int
    revision: int  # 0 until the first edit
    updated_by: str | None = None
    updated_at: datetime | None = None
    fields: list[PolicyFieldOut] = Field(default_factory=list)


class ShopPolicyIn(BaseModel):
    """The numbers to change (the others stay) and the revision the edit started from."""

    return_days: int | None = Field(default=None, strict=True)
    exchange_days: int | None = Field(default=None, strict=True)
    digital_warranty_months: int | None = Field(default=None, strict=True)
    appliance_warranty_months: int | None = Field(default=None, strict=True)
    free_shipping_threshold: int | None = Field(default=None, strict=True)
    remote_free_shipping_threshold: int | None = Field(default=None, strict=True)
    shipping_fee: int | None = Field(default=None, strict=True)
    revision: int = Field(ge=0)
