"""FastAPI dependencies: the services of this process (``daogou.container.Services``), reached
by handlers through the ``Annotated`` aliases below, never through ``request.app.state``."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from cn_text.sensitive import SensitiveWords
from daogou.container import Services
from daogou.settings import Settings
from knowledge_graph.service import CatalogService
from knowledge_graph.store import CatalogStore
from recommender.events import EventStore
from recommender.recommendations import RecommendationService
from search.hybrid import ProductSearch
from web.auth import Principal, authenticate
from web.errors import ApiError
from web.ratelimit import RateLimiter
from web.review.annotations import DomainNames
from web.review.tracker import ConversationIndex

BOT_DOMAIN = Path(__file__).resolve().parents[1] / "bot" / "domain"
BOT_NLU = Path(__file__).resolve().parents[1] / "bot" / "data" / "nlu"
SENSITIVE_WORDS = (
    Path(__file__).resolve().parents[1] / "data" / "moderation" / "sensitive_words.txt"
)


class ShopperData(Protocol):
    """daogou/privacy.py's export and erasure for one shopper (``actor``: who asked)."""

    def export(self, user_id: str, actor: str) -> dict[str, Any]: ...

    def erase(self, user_id: str, actor: str) -> dict[str, int]: ...


@dataclass
class WebState:
    """What the web app keeps beside the services: readiness and per-process limits."""

    services: Services
    privacy: ShopperData | None = None  # web/app.py hands in daogou/privacy.py
    event_limiter: RateLimiter = field(
        default_factory=lambda: RateLimiter(rate_per_second=20, burst=60)
    )
    ready: threading.Event = field(default_factory=threading.Event)
    warm_up_error: Exception | None = None
    # The staff console's conversation index (web/review), opened on first use.
    review_index: Callable[[], ConversationIndex] | None = None
    # The bot's intents and entities (annotations are checked against them) and the NLU file
    # that exported annotations become (bot/data/nlu/ in a checkout; tests pass their own).
    domain_names: Callable[[], DomainNames] = lambda: DomainNames.cached(BOT_DOMAIN)
    annotations_file: Path = BOT_NLU / "console_annotations.yml"
    # The shop's sensitive words (data/moderation/): refused in what staff and merchants write
    # for shoppers. Read again when the file changes, so an edit needs no restart.
    sensitive_words_file: Path = SENSITIVE_WORDS
    _words: tuple[float, SensitiveWords] | None = None

    def sensitive_words(self) -> SensitiveWords:
        try:
            mtime = self.sensitive_words_file.stat().st_mtime
        except OSError:
            return SensitiveWords([])
        if self._words is None or self._words[0] != mtime:
            self._words = (mtime, SensitiveWords.load(self.sensitive_words_file))
        return self._words[1]


def get_web_state(request: Request) -> WebState:
    return request.app.state.web


def get_review_index(request: Request) -> ConversationIndex:
    factory = request.app.state.web.review_index
    if factory is None:
        raise ApiError(503, "review_unavailable", "对话记录暂时无法读取")
    return factory()


def get_services(request: Request) -> Services:
    return request.app.state.web.services


def get_store(services: Annotated[Services, Depends(get_services)]) -> CatalogStore:
    return services.store


def get_catalog(services: Annotated[Services, Depends(get_services)]) -> CatalogService:
    return services.catalog


def get_settings(services: Annotated[Services, Depends(get_services)]) -> Settings:
    return services.settings


def get_events(services: Annotated[Services, Depends(get_services)]) -> EventStore:
    return services.events


def get_search(services: Annotated[Services, Depends(get_services)]) -> ProductSearch:
    return services.search()


def get_recommendations(
    services: Annotated[Services, Depends(get_services)],
) -> RecommendationService:
    return services.recommendations()


WebStateDep = Annotated[WebState, Depends(get_web_state)]
ServicesDep = Annotated[Services, Depends(get_services)]
ReviewIndexDep = Annotated[ConversationIndex, Depends(get_review_index)]
StoreDep = Annotated[CatalogStore, Depends(get_store)]
CatalogDep = Annotated[CatalogService, Depends(get_catalog)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EventsDep = Annotated[EventStore, Depends(get_events)]
SearchDep = Annotated[ProductSearch, Depends(get_search)]
RecommendationsDep = Annotated[RecommendationService, Depends(get_recommendations)]


# -- the signed-in console user and the one role check ----------------------------------------

SESSION_COOKIE = "daogou_session"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_token(request: Request) -> tuple[str | None, bool]:
    """The request's session token and whether it came as a Bearer header (a script)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), True
    return request.cookies.get(SESSION_COOKIE), False


def optional_principal(request: Request, store: StoreDep) -> Principal | None:
    token, _ = session_token(request)
    return authenticate(store, token) if token else None


def _same_origin(request: Request, origin: str) -> bool:
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin == own


def current_principal(
    request: Request, principal: Annotated[Principal | None, Depends(optional_principal)]
) -> Principal:
    """The signed-in user; a state-changing request made with the session cookie must also
    carry the CSRF token and, when the browser names it, come from our own origin."""
    if principal is None:
        raise ApiError(401, "unauthorized", "请先登录")
    _, bearer = session_token(request)
    if not bearer and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not secrets.compare_digest(sent, principal.csrf_token):
            raise ApiError(403, "csrf_failed", "页面已过期，请刷新后重试")
        origin = request.headers.get("origin")
        if origin and not _same_origin(request, origin):
            raise ApiError(403, "bad_origin", "请求来源不被允许")
    return principal


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """The one role check of every console page and API route: admin may do everything."""
    allowed = frozenset(roles) | {"admin"}

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise ApiError(403, "forbidden", "您的账号没有权限进行此操作")
        return principal

    return check


PrincipalDep = Annotated[Principal, Depends(current_principal)]
MerchantDep = Annotated[Principal, Depends(require_roles("merchant"))]
StaffDep = Annotated[Principal, Depends(require_roles("staff"))]
AdminDep = Annotated[Principal, Depends(require_roles("admin"))]


# -- console pages: the same role check, answered as pages --------------------------------------
class LoginRequired(Exception):
    """A console page opened without a session: the app redirects to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(Exception):
    """A console page the signed-in user's role may not open: answered as a 403 page."""


def require_page_roles(*roles: str) -> Callable[..., Principal]:
    """`require_roles` for pages: no session → the login page, wrong role → a 403 page."""
    check = require_roles(*roles)

    def page(
        request: Request, principal: Annotated[Principal | None, Depends(optional_principal)]
    ) -> Principal:
        if principal is None:
            raise LoginRequired(request.url.path)
        try:
            return check(current_principal(request, principal))
        except ApiError:
            raise PageForbidden() from None

    return page


StaffPageDep = Annotated[Principal, Depends(require_page_roles("staff"))]
MerchantPageDep = Annotated[Principal, Depends(require_page_roles("merchant"))]
AdminPageDep = Annotated[Principal, Depends(require_page_roles("admin"))]
AnyPageDep = Annotated[Principal, Depends(require_page_roles("staff", "merchant"))]


def refuse_sensitive(web: WebState, *texts: str | None) -> None:
    """422 naming the words when a text written for shoppers carries one of the shop's
    sensitive words."""
    words = web.sensitive_words()
    found = [hit.text for text in texts if text for hit in words.find(text)]
    if found:
        raise ApiError(
            422, "sensitive_words", f"包含不允许的词：「{'」「'.join(dict.fromkeys(found))}」"
        )
