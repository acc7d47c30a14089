"""What the product skills say about products, as text: which products a message is about,
one fact for a variant or a whole model, sizes and colours, a summary, a comparison and its
verdict. Plain functions over the catalog view and the turn; no rasa_sdk, nothing sent.
"""

from __future__ import annotations

import re
from dataclasses import replace

from actions import state
from actions.formatting import yuan
from actions.turn import Turn
from knowledge_graph import context, qa
from knowledge_graph.graph import Comparison, format_value
from knowledge_graph.product import Product
from knowledge_graph.service import CatalogView
from search import query

SUMMARY_KEYS = 4  # attributes listed when the shopper names a product without a question


def targets(view: CatalogView, tracker: Turn) -> list[list[str]]:
    """Products the message is about, each as the SKUs of one model that fit what was written
    (one SKU when a variant was named): named ones, then 「第二个」「这款」, then the focus."""
    text = state.text_of(tracker)
    groups: list[list[str]] = []
    for ref in qa.product_refs(view, text, state.entity_values(tracker, "product")):
        groups += by_model(view, ref.skus)
    referenced = qa.resolve_references(
        text, state.shown(tracker), state.focus(tracker), state.previous_focus(tracker)
    )
    groups += [
        [sku]
        for sku in referenced
        if sku in view.graph.products and not any(sku in g for g in groups)
    ]
    if not groups and state.focus(tracker) in view.graph.products:
        groups = [[state.focus(tracker)]]
    if len(groups) == 1 and len(groups[0]) == 1:
        groups = [sibling_named(view, groups[0][0], text)]
    return groups


def sibling_named(view: CatalogView, sku: str, text: str) -> list[str]:
    """「1T的多少」「256的有货吗」 about the phone in focus: the variant those words name."""
    siblings = view.graph.variants(sku)
    if len(siblings) < 2:
        return [sku]
    best = view.linker.resolver.best(siblings, "", text, expand=False)
    return list(best) if len(best) == 1 else [sku]


def by_model(view: CatalogView, skus: tuple[str, ...] | list[str]) -> list[list[str]]:
    """SKUs split by the model they belong to (two fitting cases are two products)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for sku in skus:
        product = view.graph.products.get(sku)
        if product is not None:
            key = (product.brand, product.model or sku)
            groups.setdefault(key, []).append(sku)
    return list(groups.values())


def variant_label(view: CatalogView, sku: str) -> str:
    return view.linker.resolver.variant_words(sku) or view.graph.products[sku].title


def describe_field(view: CatalogView, product: Product, variants: list[Product], field: str) -> str:
    """One fact, for the variant named (one SKU) or for the whole model (several), saying so."""
    name = product.title if len(variants) <= 1 else product.model or product.title
    if field == "price":
        prices = sorted({v.price for v in variants})
        if len(prices) > 1:
            return f"{name} 售价 {yuan(prices[0])} 起，最高配 {yuan(prices[-1])}"
        return f"{name} 售价 {yuan(product.price)}"
    if field == "stock":
        return stock_text(view, name, variants)
    if field == "rating":
        return f"{name} 的评分是 {product.rating} 分（满分 5 分）"
    key = view.graph.attribute_key(product.category, field)
    value = product.attributes.get(key) if key else None
    if value is None:
        known = "、".join(list(product.attributes)[:6])
        return f"{name} 没有「{key or field}」这项参数，可以问我它的{known}"
    spec = view.graph.attribute_spec(product.category, key)
    shown_value = format_value(value, spec.unit if spec else None)
    if len(variants) > 1 and len({str(v.attributes.get(key)) for v in variants}) > 1:
        per_variant = "，".join(
            f"{variant_label(view, v.sku)} {format_value(v.attributes.get(key), spec.unit if spec else None)}"
            for v in variants
        )
        return f"{name} 的{key}：{per_variant}"
    return f"{name} 的{key}是 {shown_value}"


def stock_text(view: CatalogView, name: str, variants: list[Product]) -> str:
    if len(variants) == 1:
        stock = variants[0].stock
        if stock <= 0:
            return f"{name} 暂时缺货，到货后可以第一时间通知您"
        return f"{name} 有货，库存 {stock} 件"
    parts = [
        f"{variant_label(view, v.sku)} " + (f"有货 {v.stock} 件" if v.stock > 0 else "暂时缺货")
        for v in sorted(variants, key=lambda v: v.price)
    ]
    return f"{name} 各版本：{'，'.join(parts)}"


def size_answer(product: Product, size: str) -> str:
    sizes = product.attributes.get("尺码")
    if not sizes:
        return f"{product.title} 不分尺码"
    listed = "、".join(str(s) for s in sizes)
    if qa.has_size(sizes, size):
        stock = "有货" if product.stock > 0 else "不过暂时缺货"
        return f"{product.title} 有 {size} 码，{stock}（在售尺码：{listed}）"
    return f"抱歉，{product.title} 没有 {size} 码，在售尺码：{listed}"


def colour_answer(product: Product, colour: str) -> str:
    colours = product.attributes.get("颜色")
    if not colours:
        return f"{product.title} 没有可选颜色"
    listed = "、".join(str(c) for c in (colours if isinstance(colours, list) else [colours]))
    fitting = qa.colours_matching(colours, colour)
    if fitting:
        return f"有的，{product.title} 有{'、'.join(fitting)}（全部颜色：{listed}）"
    return f"抱歉，{product.title} 没有{colour}，现有颜色：{listed}"


def variant_buttons(view: CatalogView, skus: list[str]) -> list[tuple[str, str]]:
    """When the shopper named a model with several variants, its variants as quick replies."""
    if len(skus) < 2:
        return []
    product = view.graph.products[skus[0]]
    name = product.model or product.title
    return [
        (variant_label(view, s), f"{name} {variant_label(view, s)} 多少钱")
        for s in sorted(skus, key=lambda s: view.graph.products[s].price)[:4]
    ]


def summary(view: CatalogView, product: Product) -> str:
    parts = []
    for key, value in list(product.attributes.items())[:SUMMARY_KEYS]:
        spec = view.graph.attribute_spec(product.category, key)
        parts.append(f"{key} {format_value(value, spec.unit if spec else None)}")
    return f"{product.title} 售价 {yuan(product.price)}，{'，'.join(parts)}。"


def only_model_named(view: CatalogView, tracker: Turn) -> list[list[str]]:
    """「小米充电宝多少钱」: a brand and a product kind that only one model has name that model."""
    text = state.text_of(tracker)
    filters = query.filters_from(view, text, state.entities(tracker))
    if not (filters.brands and filters.category):
        return []
    kinds = [
        p
        for p in qa.filter_products(view, replace(filters, min_price=None, max_price=None))
        if (qa.kind_of(p) or "\0") in text
    ]
    models = by_model(view, [p.sku for p in kinds])
    return models if len(models) == 1 else []


def swapped_target(view: CatalogView, tracker: Turn) -> list[list[str]] | None:
    """「那13呢」 after the iPhone 15: the iPhone 13's SKUs; [] when the shop has no such model;
    None when the message is not that kind of follow-up."""
    focus = state.focus(tracker)
    name = context.swapped_model_name(
        state.text_of(tracker), view.graph.products.get(focus) if focus else None
    )
    if name is None:
        return None
    refs = qa.product_refs(view, name)
    wanted = re.sub(r"\s+", "", name).lower()
    for ref in refs:
        model = (view.graph.products[ref.sku].model or "").replace(" ", "").lower()
        if model == wanted or model.endswith(wanted):
            return by_model(view, ref.skus)
    return []


def compare_text(
    view: CatalogView,
    a: Product,
    b: Product,
    comparison: Comparison,
    asked: list[str],
    differences: bool = False,
) -> str:
    name_a, name_b = a.model or a.title, b.model or b.title
    rows = {r.key: r for r in comparison.rows}
    asked_rows = [
        rows["价格" if f == "price" else f]
        for f in asked
        if ("价格" if f == "price" else f) in rows
    ]
    if not asked_rows and differences:
        # 「K70和K70 Pro有啥区别」: every spec in which they differ, not only the ranked ones
        asked_rows = [
            r
            for r in comparison.rows
            if r.value_a != r.value_b and r.key not in ("颜色", "价格", "评分")
        ][:6]
    lines = []
    for row in asked_rows or [r for r in comparison.rows if r.better in ("a", "b")][:5]:
        spec = view.graph.attribute_spec(a.category, row.key)
        unit = spec.unit if spec else ("元" if row.key == "价格" else None)
        lines.append(
            f"{row.key}：{name_a} {format_value(row.value_a, unit) if row.value_a is not None else '无'}，"
            f"{name_b} {format_value(row.value_b, unit) if row.value_b is not None else '无'}"
        )
    if not any(line.startswith("价格：") for line in lines):
        lines.append(f"价格：{name_a} {yuan(a.price)}，{name_b} {yuan(b.price)}")
    if a.price != b.price:
        dearer = name_a if a.price > b.price else name_b
        lines.append(f"差价：{yuan(abs(a.price - b.price))}（{dearer} 贵）")
    verdict = _verdict(name_a, name_b, asked_rows, comparison)
    return "\n".join([f"{name_a} 和 {name_b} 对比：", *lines, verdict])


def use_verdict(
    a: Product,
    b: Product,
    comparison: Comparison,
    use: str | None,
    keys: list[str],
    skin: str | None,
) -> str | None:
    """One line for the use asked: the skin type it is made for, or the points it leads on."""
    name_a, name_b = a.model or a.title, b.model or b.title
    if skin:
        fit_a, fit_b = context.skin_fit(a, skin), context.skin_fit(b, skin)
        if fit_a == fit_b:
            return (
                f"结论：两款对{skin}都{'合适' if fit_a else '没有特别说明'}，可以按功效和预算选。"
            )
        better, worse = (name_a, name_b) if fit_a > fit_b else (name_b, name_a)
        return f"结论：{skin}更推荐 {better}，{worse} 没有标注适合{skin}。"
    if not use:
        return None
    rows = [r for r in comparison.rows if r.key in keys and r.better in ("a", "b")]
    a_leads = [r.key for r in rows if r.better == "a"]
    b_leads = [r.key for r in rows if r.better == "b"]
    if len(a_leads) == len(b_leads):
        return f"结论：{use}方面两款各有所长，差别不大。"
    better, leads = (name_a, a_leads) if len(a_leads) > len(b_leads) else (name_b, b_leads)
    return f"结论：{use}方面 {better} 更好（{'、'.join(leads)}领先）。"


def _verdict(name_a: str, name_b: str, asked_rows: list, comparison: Comparison) -> str:
    if asked_rows:
        row = asked_rows[0]
        if row.better == "a":
            return f"结论：{row.key}方面 {name_a} 更好。"
        if row.better == "b":
            return f"结论：{row.key}方面 {name_b} 更好。"
        if row.better == "same":
            return f"结论：两款的{row.key}一样。"
        return f"结论：{row.key}没有绝对的好坏，看您的喜好。"
    a_wins, b_wins = comparison.wins()
    if a_wins == b_wins:
        return "结论：两款各有所长，看您更看重哪一点。"
    better, worse = (name_a, name_b) if a_wins > b_wins else (name_b, name_a)
    return (
        f"结论：综合参数 {better} 占优（{max(a_wins, b_wins)} 项领先），{worse} 在其他方面有优势。"
    )
