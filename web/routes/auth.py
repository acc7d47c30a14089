"""Console login and accounts: /api/auth/* for everyone signed in, /api/accounts for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from web import accounts, auth
from web.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminDep,
    PrincipalDep,
    StoreDep,
    session_token,
)
from web.errors import ApiError, error_body
from web.schemas import (
    AccountIn,
    AccountList,
    AccountOut,
    AccountPatch,
    LoginIn,
    LoginOut,
    MeOut,
    PasswordChangeIn,
    PasswordResetIn,
    ResetCodeOut,
)

router = APIRouter(prefix="/api", tags=["auth"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _set_cookies(response: Response, request: Request, ticket: auth.Ticket) -> None:
    secure = request.url.scheme == "https"
    max_age = int(auth.SESSION_LIFETIME.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, ticket.token, max_age=max_age, httponly=True, samesite="lax",
        secure=secure, path="/",
    )  # fmt: skip
    # Read by the console's script and sent back as X-CSRF-Token: a page of another site
    # can neither read it nor set the header.
    response.set_cookie(
        CSRF_COOKIE, ticket.principal.csrf_token, max_age=max_age, httponly=False,
        samesite="lax", secure=secure, path="/",
    )  # fmt: skip


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, store: StoreDep) -> LoginOut:
    old_token, _ = session_token(request)
    try:
        ticket = auth.login(store, body.username, body.password, _client(request), old_token)
    except auth.LoginThrottled as throttled:
        raise ApiError(
            429, "too_many_attempts", f"登录失败次数过多，请 {throttled.retry_after} 秒后再试"
        ) from None
    except auth.LoginRefused:
        raise ApiError(401, "login_failed", "用户名或密码错误") from None
    _set_cookies(response, request, ticket)
    principal = ticket.principal
    return LoginOut(token=ticket.token, role=principal.role, merchant_id=principal.merchant_id)


@router.post("/auth/logout")
def logout(principal: PrincipalDep, store: StoreDep) -> JSONResponse:
    auth.logout(store, principal)
    response = JSONResponse({"status": "logged_out"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/auth/me", response_model=MeOut)
def me(principal: PrincipalDep) -> MeOut:
    return MeOut(
        username=principal.username, role=principal.role, merchant_id=principal.merchant_id
    )


@router.post("/auth/password")
def change_password(
    body: PasswordChangeIn, principal: PrincipalDep, store: StoreDep
) -> dict[str, str]:
    """Changes the signed-in user's password; their other sessions end."""
    try:
        accounts.change_password(store, principal.account_id, body.old_password, body.new_password)
    except accounts.AccountError:
        raise ApiError(400, "wrong_password", "当前密码不正确") from None
    auth.revoke_all(store, principal.account_id, keep=principal.token_hash)
    return {"status": "changed"}


@router.post("/auth/reset")
def reset_password(body: PasswordResetIn, request: Request, store: StoreDep) -> JSONResponse:
    """Trades an admin's one-time code for a new password (throttled like a login)."""
    try:
        auth.check_throttle(store, body.username, _client(request))
        account_id = accounts.reset_password(store, body.username, body.code, body.new_password)
    except auth.LoginThrottled as throttled:
        raise ApiError(
            429, "too_many_attempts", f"尝试次数过多，请 {throttled.retry_after} 秒后再试"
        ) from None
    except accounts.AccountError:
        auth.record_failure(store, body.username, _client(request))
        return JSONResponse(error_body("reset_failed", "重置码不正确或已过期"), status_code=400)
    auth.revoke_all(store, account_id)
    return JSONResponse({"status": "changed"})


# -- accounts (admin) ------------------------------------------------------------------------
def _out(view: accounts.AccountView) -> AccountOut:
    return AccountOut(**view.__dict__)


@router.get("/accounts", response_model=AccountList)
def list_accounts(_: AdminDep, store: StoreDep) -> AccountList:
    items = [_out(a) for a in accounts.list_accounts(store)]
    return AccountList(items=items, total=len(items))


@router.post("/accounts", response_model=AccountOut, status_code=201)
def create_account(body: AccountIn, _: AdminDep, store: StoreDep) -> AccountOut:
    try:
        accounts.create_account(store, body.username, body.password, body.role, body.merchant_id)
    except accounts.AccountError as error:
        raise ApiError(400, "invalid_account", str(error)) from None
    created = accounts.find_account(store, body.username)
    assert created is not None
    return _out(created)


@router.patch("/accounts/{account_id}", response_model=AccountOut)
def patch_account(
    account_id: int, body: AccountPatch, admin: AdminDep, store: StoreDep
) -> AccountOut:
    if account_id == admin.account_id and body.disabled:
        raise ApiError(400, "invalid_account", "不能停用自己正在使用的账号")
    try:
        view = accounts.set_disabled(store, account_id, body.disabled)
    except accounts.AccountError:
        raise ApiError(404, "account_not_found", f"没有账号 {account_id}") from None
    if body.disabled:
        auth.revoke_all(store, account_id)
    return _out(view)


@router.post("/accounts/{account_id}/reset-code", response_model=ResetCodeOut)
def reset_code(
    account_id: int,
    _: AdminDep,
    store: StoreDep,
    hours: Annotated[int, Query(ge=1, le=72)] = 24,
) -> ResetCodeOut:
    """A one-time code the admin passes to the user; shown once, stored only as a hash."""
    try:
        code = accounts.issue_reset_code(store, account_id, hours)
    except accounts.AccountError:
        raise ApiError(404, "account_not_found", f"没有账号 {account_id}") from None
    return ResetCodeOut(code=code, expires_in_hours=hours)
