"""Leading the shopper on from where the conversation stands: one sentence back to what they
were choosing, the likeliest next steps as quick replies, budgets to pick for a category.
Shared by the fallback, small talk, the needs dialogue, follow-ups and after-sales; no rasa_sdk.
"""

from __future__ import annotations

from actions import state
from actions.turn import Turn
from knowledge_graph import qa
from knowledge_graph.service import CatalogView


def where_we_are(view: CatalogView, tracker: Turn) -> str | None:
    """One sentence that takes the shopper back to what they were choosing or asking about."""
    last = state.last_filters(tracker)
    if last is not None and (last.kind or last.category):
        noun = last.kind or last.category
        if last.min_price is None and last.max_price is None:
            return f"咱们接着挑{noun}吧：说说预算或用途，我帮您缩小范围～"
        return f"咱们接着挑{noun}吧：看中哪一款可以接着问，也可以换个预算或品牌～"
    product = view.graph.products.get(state.focus(tracker) or "")
    if product is not None:
        name = product.model or product.title
        return f"关于{name}，价格、参数、库存和配件都可以接着问我～"
    return None


def next_steps(view: CatalogView, tracker: Turn) -> list[tuple[str, str]]:
    """What a shopper most often does next from here: over a list, ask about one, the cheapest
    or compare; about one product, see alternatives, its accessories or its stock."""
    shown = [s for s in state.shown(tracker) if s in view.graph.products]
    if len(shown) >= 2:
        return [(t, t) for t in ("第一个怎么样", "哪个便宜", "对比一下前两个")]
    focus = state.focus(tracker)
    if focus in view.graph.products:
        product = view.graph.products[focus]
        name = product.model or product.title
        third = (
            "推荐个配件" if qa.related_in_category(view, [focus], "手机配件") else "有没有便宜点的"
        )
        return [
            (f"{name}还有货吗", f"{name}还有货吗"),
            ("有没有类似的", "有没有类似的"),
            (third, third),
        ]
    return []


def budget_buttons(view: CatalogView, category: str) -> list[tuple[str, str]]:
    """Three budget quick replies at the category's own price terciles (耳机 ≠ 笔记本电脑)."""
    prices = sorted(p.price for p in view.graph.filter(category=category, in_stock=True))
    if len(prices) < 3:
        return []
    buttons = []
    for share, words in ((1 / 3, "以内"), (2 / 3, "左右")):
        bound = _round_price(prices[int(len(prices) * share)])
        buttons.append((f"{bound}元{words}", f"{bound}{words}的{category}"))
    top = _round_price(prices[int(len(prices) * 5 / 6)])
    buttons.append((f"{top}元以上", f"{top}以上的{category}"))
    return buttons


def _round_price(price: float) -> int:
    step = 100 if price < 2000 else 500
    return max(step, int(round(price / step)) * step)
