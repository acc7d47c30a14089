"""The consoles' shared pages: login, the landing page by role, password change. The staff
console (conversations, annotations, dashboard, handoff queue) and the merchant editor
(products, import, audit) build on `templates/console/base.html` and `static/console/`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from knowledge_graph.handoff import WAITING, HandoffQueue
from web.auth import Principal
from web.deps import AnyPageDep, LoginRequired, PageForbidden, get_services, optional_principal

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

ROLE_NAMES = {"staff": "客服", "merchant": "商家", "admin": "管理员"}
# Where each role lands after login, and the navigation it sees (path, label, roles).
HOME = {
    "staff": "/console/conversations",
    "merchant": "/console/products",
    "admin": "/console/conversations",
}
NAVIGATION = (
    ("/console/handoffs", "人工接待", {"staff", "admin"}),
    ("/console/conversations", "对话记录", {"staff", "admin"}),
    ("/console/annotations", "标注", {"staff", "admin"}),
    ("/console/dashboard", "数据看板", {"staff", "admin"}),
    ("/console/answers", "店铺问答", {"staff", "admin"}),
    ("/console/products", "商品", {"merchant", "admin"}),
    ("/console/import", "批量导入", {"merchant", "admin"}),
    ("/console/audit", "修改记录", {"merchant", "admin"}),
    ("/console/accounts", "账号管理", {"admin"}),
)


def page_context(request: Request, principal: Principal, active: str, **values: object) -> dict:
    """What every console page's base template needs."""
    nav = [(path, label) for path, label, roles in NAVIGATION if principal.role in roles]
    waiting = _waiting_handoffs(request) if "/console/handoffs" in dict(nav) else None
    return {
        "request": request,
        "me": principal,
        "role_name": ROLE_NAMES.get(principal.role, principal.role),
        "nav": nav,
        "waiting_handoffs": waiting,  # None: the role has no handoff queue
        "active": active,
        **values,
    }


def _waiting_handoffs(request: Request) -> int:
    """Requests waiting for a person: the badge of 「人工接待」 (static/console/handoffs.js keeps
    it live)."""
    store = get_services(request).store
    return HandoffQueue(store).list((WAITING,), limit=0)[1]


def render(name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(
        context["request"], name, context, status_code=status_code
    )
    # Console pages show shoppers' conversations and merchants' data: never cached.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("", response_class=HTMLResponse)
def console_home(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Response:
    if principal is None:
        return RedirectResponse("/console/login", status_code=303)
    return RedirectResponse(HOME.get(principal.role, "/console/login"), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    # Only our own console paths: a login link cannot send the user to another site.
    safe_next = next if next.startswith("/console/") and "//" not in next else ""
    return render("console/login.html", {"request": request, "next": safe_next})


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, principal: AnyPageDep) -> HTMLResponse:
    return render("console/password.html", page_context(request, principal, "/console/password"))


def install_page_handlers(app: FastAPI) -> None:
    """A console page without a session goes to the login page (and back after it); a page the
    role may not open is a 403 page, not JSON."""

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/console/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, _: PageForbidden) -> Response:
        return render("console/forbidden.html", {"request": request}, status_code=403)
