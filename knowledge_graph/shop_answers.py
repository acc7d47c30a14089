"""The shop's own FAQ answers and policy numbers: edited in the console, said by the bot at once.

The answers were the bot's domain responses (bot/domain/faq.yml, ``utter_faq/<topic>``), inside
the trained model: changing a sentence meant retraining. Here a shop's edit of a topic is a row
(``shop_answers``), and the numbers knowledge_graph/policy.py says in its product-specific
sentences (return days, warranty...) are one more (``shop_policy``). A topic without a row is
answered with the domain's text, which the console shows as its default (read from faq.yml
here): rows are only what the shop changed, so a later change of faq.yml by the developers still
reaches every topic the shop never touched, and there is nothing to seed or to keep in step.

Each process keeps a copy (:meth:`ShopAnswers.current`). Every change bumps one version row;
readers check it at most every `check_interval` seconds, as CatalogService does for the
catalog, so a chat turn costs no query beyond that check. Every change leaves an audit entry
(``audit_log``) in the same transaction, and names the revision it started from (409 in the API
when someone else saved meanwhile).

A shop's text may say a policy number through a placeholder (「全场实付满{包邮门槛}元包邮」),
filled in from the current policy when the bot says it, so a new number reaches those answers
too (:func:`fill`).
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from knowledge_graph.policy import DEFAULT_POLICY, ShopPolicy
from knowledge_graph.store import CatalogStore, Conflict, NotFound
from knowledge_graph.tables.staff import (
    AuditEntry,
    ShopAnswerRow,
    ShopAnswersVersion,
    ShopPolicyTerms,
)

log = logging.getLogger(__name__)

# What the console calls each topic of bot/domain/faq.yml; a topic missing here shows its key.
TOPIC_NAMES = {
    "faq/shipping": "配送与运费",
    "faq/delivery_time": "发货与到货时间",
    "faq/return_policy": "退换货政策",
    "faq/refund": "退款",
    "faq/warranty": "保修",
    "faq/payment": "支付方式",
    "faq/invoice": "发票",
    "faq/coupon": "优惠券",
    "faq/price_protection": "价格保护",
    "faq/membership": "会员与积分",
    "faq/change_address": "修改收货地址",
    "faq/cancel_order": "取消订单",
    "faq/authenticity": "正品保障",
    "faq/service_hours": "客服时间",
    "faq/gift_wrap": "礼品包装",
    "faq/defect": "质量问题",
    "faq/bargain": "议价",
    "faq/air_travel": "乘机携带",
}
ANSWER_ACTION = "answer_update"
RESET_ACTION = "answer_reset"
POLICY_ACTION = "policy_update"
POLICY_TARGET = "shop_policy"
POLICY_NAME = "店铺政策"
MAX_VARIANTS = 5  # Rasa's domain has one or two per topic; more is hard to keep consistent
MAX_CHARS = 1000
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")


class InvalidEdit(ValueError):
    """An answer or a policy number the shop may not save; the message is for the console."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def topic_name(topic: str) -> str:
    return TOPIC_NAMES.get(topic, topic)


def domain_answers(path: Path) -> dict[str, tuple[str, ...]]:
    """{"faq/shipping": (texts...)}: the FAQ responses of a Rasa domain file, in its order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    answers = {}
    for name, variants in (data.get("responses") or {}).items():
        if not name.startswith("utter_faq/"):
            continue
        texts = tuple(v["text"] for v in variants or () if isinstance(v, dict) and v.get("text"))
        if texts:
            answers[name.removeprefix("utter_")] = texts
    return answers


def fill(text: str, policy: ShopPolicy) -> str:
    """The text with its placeholders (「{包邮门槛}」) replaced by the policy's numbers."""
    values = policy.placeholder_values()
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def clean_variants(variants: Iterable[str]) -> list[str]:
    """The texts as they are stored: trimmed, blank and repeated ones left out; InvalidEdit for
    none at all, too many, too long, or a placeholder the policy does not have."""
    texts = list(dict.fromkeys(t.strip() for t in variants if t and t.strip()))
    if not texts:
        raise InvalidEdit("variants", "请至少填写一条回答")
    if len(texts) > MAX_VARIANTS:
        raise InvalidEdit("variants", f"每个问题最多 {MAX_VARIANTS} 种说法")
    if any(len(t) > MAX_CHARS for t in texts):
        raise InvalidEdit("variants", f"每条回答最多 {MAX_CHARS} 个字")
    known = set(DEFAULT_POLICY.placeholder_values())
    unknown = [m for t in texts for m in _PLACEHOLDER.findall(t) if m not in known]
    if unknown:
        allowed = "、".join(f"{{{name}}}" for name in known)
        raise InvalidEdit("variants", f"没有这个占位符：{{{unknown[0]}}}（可以用的有：{allowed}）")
    return texts


@dataclass(frozen=True)
class Answer:
    """One topic as the console shows it; not `edited` (never, or reset): the bot says
    `defaults`. `revision` 0: never saved."""

    topic: str
    name: str
    variants: tuple[str, ...]
    defaults: tuple[str, ...]
    edited: bool
    revision: int
    updated_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class PolicyRecord:
    """The policy numbers with their revision (0: never edited, the defaults)."""

    terms: ShopPolicy
    revision: int
    updated_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class Change:
    """One audited change of an answer or of the policy (the console's 「最近修改」)."""

    id: int
    actor: str
    action: str
    target: str
    name: str
    ts: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class ShopTexts:
    """One process's copy of what the bot says: the edited topics' texts and the policy."""

    version: int
    answers: Mapping[str, tuple[str, ...]]
    policy: ShopPolicy

    def answer(
        self, topic: str, choose: Callable[[Sequence[str]], str] = random.choice
    ) -> str | None:
        """A variant picked at random (as Rasa picks a response's), placeholders filled in;
        None when the shop has no text of its own for it (the domain response answers)."""
        variants = self.answers.get(topic)
        return fill(choose(variants), self.policy) if variants else None


class ShopAnswers:
    """The answers and the policy in the catalog database, and this process's copy of them."""

    def __init__(
        self, store: CatalogStore, domain_file: Path | None, check_interval: float = 1.0
    ) -> None:
        self.store = store
        self.domain_file = domain_file
        self.check_interval = check_interval
        self._texts: ShopTexts | None = None
        self._checked_at = -math.inf
        self._lock = threading.Lock()
        self._defaults: tuple[float, dict[str, tuple[str, ...]]] | None = None

    # -- the bot: a copy, reloaded when the version row moves ---------------------------------
    def current(self) -> ShopTexts:
        texts = self._texts
        if texts is not None and time.monotonic() - self._checked_at < self.check_interval:
            return texts
        with self._lock:
            if self._texts is None or time.monotonic() - self._checked_at >= self.check_interval:
                self._reload_if_changed()
            assert self._texts is not None
            return self._texts

    def refresh(self) -> ShopTexts:
        """Forces a version check now (after a write in this process)."""
        self._checked_at = -math.inf
        return self.current()

    def _reload_if_changed(self) -> None:
        try:
            if self._texts is None or self.version() != self._texts.version:
                self._texts = self._load()
        except SQLAlchemyError:
            # The bot keeps answering (with its last copy, else the trained texts) while the
            # database is away or not migrated yet; the next check tries again.
            log.exception("could not read the shop's answers")
            if self._texts is None:
                self._texts = ShopTexts(version=-1, answers={}, policy=DEFAULT_POLICY)
        self._checked_at = time.monotonic()

    def version(self) -> int:
        with self.store.session() as session:
            row = session.get(ShopAnswersVersion, 1)
            return row.version if row else 0

    def _load(self) -> ShopTexts:
        with self.store.session() as session:
            row = session.get(ShopAnswersVersion, 1)
            answers = {
                r.topic: tuple(r.variants or ()) for r in session.scalars(select(ShopAnswerRow))
            }
            policy = _policy_of(session.get(ShopPolicyTerms, 1))
            return ShopTexts(version=row.version if row else 0, answers=answers, policy=policy)

    # -- the console: topics with their defaults, edits --------------------------------------
    def defaults(self) -> dict[str, tuple[str, ...]]:
        """The domain's texts per topic (read again when faq.yml changes)."""
        if self.domain_file is None:
            return {}
        try:
            mtime = self.domain_file.stat().st_mtime
        except OSError:
            return {}
        if self._defaults is None or self._defaults[0] != mtime:
            self._defaults = (mtime, domain_answers(self.domain_file))
        return self._defaults[1]

    def list(self) -> list[Answer]:
        """Every topic of the bot's domain, in faq.yml's order."""
        defaults = self.defaults()
        with self.store.session() as session:
            rows = {r.topic: r for r in session.scalars(select(ShopAnswerRow))}
            return [_answer(topic, texts, rows.get(topic)) for topic, texts in defaults.items()]

    def get(self, topic: str) -> Answer:
        defaults = self.defaults()
        if topic not in defaults:
            raise NotFound(topic)
        with self.store.session() as session:
            return _answer(topic, defaults[topic], session.get(ShopAnswerRow, topic))

    def update(
        self, topic: str, variants: Iterable[str], expected_revision: int, actor: str
    ) -> Answer:
        """Saves the topic's texts if it is still at `expected_revision` (0: never edited);
        NotFound for a topic the bot does not have, InvalidEdit, Conflict."""
        return self._write(topic, clean_variants(variants), expected_revision, actor)

    def reset(self, topic: str, expected_revision: int, actor: str) -> Answer:
        """Back to the bot's trained text (faq.yml, also as it changes later). The row stays,
        without texts, so that revisions keep counting up and a stale editor still gets a
        Conflict."""
        return self._write(topic, [], expected_revision, actor)

    def _write(self, topic: str, texts: list[str], expected_revision: int, actor: str) -> Answer:
        defaults = self.defaults()
        if topic not in defaults:
            raise NotFound(topic)
        try:
            with self.store.session() as session:
                row = session.get(ShopAnswerRow, topic)
                stored = row.revision if row else 0
                if stored != expected_revision:
                    raise Conflict(f"{topic} is at revision {stored}, not {expected_revision}")
                # what the bot said before and says after: the trained text unless edited
                before = list(row.variants if row and row.variants else defaults[topic])
                if texts or (row is not None and row.variants):  # else a reset of nothing
                    _save_answer(session, topic, texts, expected_revision, actor)
                    action = ANSWER_ACTION if texts else RESET_ACTION
                    _audit(session, actor, action, topic, before, texts or list(defaults[topic]))
                    _bump(session)
        except IntegrityError:  # someone else saved the topic's first edit meanwhile
            raise Conflict(f"{topic} was saved by someone else") from None
        self._checked_at = -math.inf  # this process says it from the next turn
        return self.get(topic)

    def policy(self) -> PolicyRecord:
        with self.store.session() as session:
            row = session.get(ShopPolicyTerms, 1)
            if row is None:
                return PolicyRecord(DEFAULT_POLICY, 0, None, None)
            return PolicyRecord(
                _policy_of(row), row.revision, row.updated_by, _aware(row.updated_at)
            )

    def update_policy(self, terms: ShopPolicy, expected_revision: int, actor: str) -> PolicyRecord:
        """Saves the policy numbers if they are still at `expected_revision`; InvalidEdit for a
        number out of its range, Conflict."""
        problems = terms.problems()
        if problems:
            field, message = next(iter(problems.items()))
            raise InvalidEdit(field, message)
        try:
            with self.store.session() as session:
                row = session.get(ShopPolicyTerms, 1)
                stored = row.revision if row else 0
                if stored != expected_revision:
                    raise Conflict(f"the policy is at revision {stored}, not {expected_revision}")
                before = _policy_of(row).values()
                _save_policy(session, terms.values(), expected_revision, actor)
                _audit(session, actor, POLICY_ACTION, POLICY_TARGET, before, terms.values())
                _bump(session)
        except IntegrityError:
            raise Conflict("the policy was saved by someone else") from None
        self._checked_at = -math.inf
        return self.policy()

    def history(self, limit: int = 20) -> list[Change]:
        """The latest changes of answers and policy, newest first."""
        with self.store.session() as session:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_((ANSWER_ACTION, RESET_ACTION, POLICY_ACTION)))
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            )
            return [
                Change(
                    r.id,
                    r.actor,
                    r.action,
                    r.target,
                    POLICY_NAME if r.target == POLICY_TARGET else topic_name(r.target),
                    _aware(r.ts),
                    (r.detail or {}).get("before"),
                    (r.detail or {}).get("after"),
                )  # fmt: skip
                for r in rows
            ]


# -- helpers --------------------------------------------------------------------------------------
def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def _answer(topic: str, defaults: tuple[str, ...], row: ShopAnswerRow | None) -> Answer:
    if row is None:
        return Answer(topic, topic_name(topic), defaults, defaults, False, 0, None, None)
    own = tuple(row.variants or ())  # none: reset to the trained text
    return Answer(
        topic, topic_name(topic), own or defaults, defaults, bool(own), row.revision,
        row.updated_by, _aware(row.updated_at),
    )  # fmt: skip


def _policy_of(row: ShopPolicyTerms | None) -> ShopPolicy:
    """The stored numbers over the defaults (a number added to ShopPolicy later keeps its
    default until the shop sets it)."""
    if row is None:
        return DEFAULT_POLICY
    names = {f.name for f in fields(ShopPolicy)}
    return ShopPolicy(**{k: v for k, v in (row.terms or {}).items() if k in names})


def _save_answer(
    session: Session, topic: str, texts: list[str], expected_revision: int, actor: str
) -> None:
    """Insert (a first edit) or a conditional update: of two editors starting from the same
    revision, exactly one saves, on SQLite and PostgreSQL alike."""
    now = datetime.now(UTC)
    if expected_revision == 0:
        session.add(ShopAnswerRow(topic=topic, variants=texts, revision=1, updated_by=actor))
        session.flush()
        return
    saved = session.execute(
        update(ShopAnswerRow)
        .where(ShopAnswerRow.topic == topic, ShopAnswerRow.revision == expected_revision)
        .values(variants=texts, revision=expected_revision + 1, updated_by=actor, updated_at=now)
    ).rowcount
    if saved != 1:
        raise Conflict(f"{topic} was saved by someone else")


def _save_policy(
    session: Session, terms: dict[str, int], expected_revision: int, actor: str
) -> None:
    now = datetime.now(UTC)
    if expected_revision == 0:
        session.add(ShopPolicyTerms(id=1, terms=terms, revision=1, updated_by=actor))
        session.flush()
        return
    saved = session.execute(
        update(ShopPolicyTerms)
        .where(ShopPolicyTerms.id == 1, ShopPolicyTerms.revision == expected_revision)
        .values(terms=terms, revision=expected_revision + 1, updated_by=actor, updated_at=now)
    ).rowcount
    if saved != 1:
        raise Conflict("the policy was saved by someone else")


def _audit(session: Session, actor: str, action: str, target: str, before: Any, after: Any) -> None:
    name = POLICY_NAME if target == POLICY_TARGET else topic_name(target)
    key = "terms" if target == POLICY_TARGET else "variants"
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            target=target,
            detail={"before": {"title": name, key: before}, "after": {"title": name, key: after}},
        )
    )


def _bump(session: Session) -> None:
    changed = session.execute(
        update(ShopAnswersVersion)
        .where(ShopAnswersVersion.id == 1)
        .values(version=ShopAnswersVersion.version + 1)
    ).rowcount
    if not changed:
        session.add(ShopAnswersVersion(id=1, version=1))
        session.flush()
