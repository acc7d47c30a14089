"""The generic builder: catalog rows and their category's specs become product drafts.

A *draft* is a product before `data/generate_catalog.py` adds what needs the whole catalog
or seeded randomness (sku, full alias list, tags, stock, rating, description, merchant).
Nothing here is specific to a category: `categories/<table>.yml` says how its rows expand
and this module interprets the kinds of derivation `data/catalog_schema.py` defines
(templates, `choose`, `lookup`, `test`, ... and `when:` conditions).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from data.catalog_schema import (
    CatalogData,
    CatalogError,
    CategoryData,
    CategorySpec,
    Check,
    Choose,
    Condition,
    DeviceLabels,
    DisplayName,
    Divide,
    Either,
    Join,
    Lookup,
    Replace,
    Row,
    Scale,
    Test,
    template_fields,
)

Draft = dict[str, Any]


def storage_label(gigabytes: int) -> str:
    return f"{gigabytes // 1024}TB" if gigabytes >= 1024 else f"{gigabytes}GB"


def with_lists(ctx: dict[str, Any], names: list[str] | None = None) -> dict[str, Any]:
    """Adds <list>首, 末, 数 and 文本 (first four, joined by 、) for every list of texts."""
    for name in list(ctx) if names is None else names:
        value = ctx[name]
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            ctx[f"{name}首"] = value[0]
            ctx[f"{name}末"] = value[-1]
            ctx[f"{name}数"] = len(value)
            ctx[f"{name}文本"] = "、".join(value[:4])
    return ctx


@cache
def _single_field(template: str) -> str | None:
    """'x' for a template that is exactly '{x}', else None."""
    names = template_fields(template)
    return names[0] if len(names) == 1 and template == "{" + names[0] + "}" else None


def render(template: str, ctx: dict[str, Any]) -> Any:
    """A template's text, or None when a field it uses is empty; '{x}' alone gives x itself."""
    single = _single_field(template)
    if single is not None:
        value = ctx.get(single)
        return list(value) if isinstance(value, list) else value
    if any(ctx.get(name) is None for name in template_fields(template)):
        return None
    return template.format_map(ctx)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def passes(check: Check, value: Any) -> bool:
    if value is None:
        return check.present is False
    if check.present is not None and bool(value) != check.present:
        return False
    bounds = (check.min, check.max, check.below, check.multiple_of)
    if any(b is not None for b in bounds) and not _number(value):
        return False
    if check.min is not None and not value >= check.min:
        return False
    if check.max is not None and not value <= check.max:
        return False
    if check.below is not None and not value < check.below:
        return False
    if check.multiple_of is not None and value % check.multiple_of:
        return False
    container = isinstance(value, str | list | set | tuple)
    if check.has is not None and not (container and check.has in value):
        return False
    if check.has_any is not None and not (container and any(x in value for x in check.has_any)):
        return False
    if check.prefix is not None and not (isinstance(value, str) and value.startswith(check.prefix)):
        return False
    if isinstance(check.not_, list):
        return value not in check.not_
    return check.not_ is None or not _same(value, check.not_)


def holds(condition: Condition | None, ctx: dict[str, Any]) -> bool:
    """Whether every field meets its check: a value (equal), a list (one of) or a `Check`."""
    for name, check in (condition or {}).items():
        value = ctx.get(name)
        if isinstance(check, Check):
            if not passes(check, value):
                return False
        elif value is None:
            return False
        elif isinstance(check, list):
            if value not in check:
                return False
        elif not _same(value, check):
            return False
    return True


class Builder:
    """Expands the rows of a loaded catalog (`catalog_schema.load_catalog()`)."""

    def __init__(self, data: CatalogData) -> None:
        self.data = data
        self.brands = {b["name"]: b for b in data.brands}
        self.model_of = {
            r.values["key"]: r.values.get("model") for c in data.categories for r in c.rows
        }
        self.groups = {name: keys for c in data.categories for name, keys in c.groups.items()}
        self.specs = {c.info.name: c.spec for c in data.categories}

    # -- names

    def brand_title(self, brand: str) -> str:
        """How titles spell a brand: '苹果' is 'Apple'."""
        return self.brands[brand]["title_name"] or brand

    def display_name(self, brand: str, model: str) -> str:
        """'小米14' and 'Apple Watch' stay as they are, 'Mate 60 Pro' becomes '华为 Mate 60 Pro'."""
        title = self.brand_title(brand)
        if any(model.lower().startswith(name.lower()) for name in (brand, title)):
            return model
        return f"{title} {model}"

    # -- drafts

    def drafts(self, category: CategoryData) -> list[Draft]:
        """The category's drafts in table order; a row's variants stay together."""
        return [d for row in category.rows for d in self._row_drafts(category.spec, row)]

    def _row_drafts(self, spec: CategorySpec, row: Row) -> list[Draft]:
        try:
            base = {**row.values, "brand_title": self.brand_title(row.values["brand"])}
            drafts = []
            for variant in self._variants(spec, base):
                ctx = with_lists({**base, **variant})
                for name, field_spec in spec.fields.items():
                    ctx[name] = self.value(field_spec, ctx)
                    with_lists(ctx, [name])
                drafts.append(self._draft(spec, ctx))
            return drafts
        except (CatalogError, KeyError, TypeError, ValueError) as error:
            raise CatalogError(f"{row.where()}: {error}") from error

    def _variants(self, spec: CategorySpec, base: dict[str, Any]) -> list[dict[str, Any]]:
        variants = spec.variants
        if variants is None:
            return [{}]
        if variants.configs is not None:
            configs = base[variants.configs]
            storages = [storage for _, storage, _ in configs]
            return [
                {
                    "ram": ram,
                    "storage_gb": storage,
                    "storage": storage_label(storage),
                    "price": price,
                    "storage_repeats": storages.count(storage) > 1,
                }
                for ram, storage, price in configs
            ]
        if not holds(variants.when, base):
            return [{}]
        return [
            {name: self.value(value, base) for name, value in override.items()}
            for override in variants.into or []
        ]

    def _draft(self, spec: CategorySpec, ctx: dict[str, Any]) -> Draft:
        def prop(name: str) -> Any:
            given = getattr(spec, name)
            return ctx.get(name) if given is None else self.value(given, ctx)

        return {
            "key": ctx["key"],
            "variant": prop("variant"),
            "brand": ctx["brand"],
            "title": prop("title"),
            "series": prop("series"),
            "model": prop("model"),
            "price": float(ctx["price"]),
            "attributes": self._attributes(spec, ctx),
            "tags": list(ctx["tags"]),
            "aliases": list(ctx["aliases"]),
            "compatible_with": list(prop("compatible_with") or []),
            "accessory_of": list(prop("accessory_of") or []),
        }

    def _attributes(self, spec: CategorySpec, ctx: dict[str, Any]) -> dict[str, Any]:
        """Attributes in schema order (or `attribute_order`); empty ones are left out."""
        values: dict[str, Any] = {}
        for name in spec.attribute_order or spec.attributes:
            attribute = spec.attributes.get(name)
            if attribute is None:  # an attribute_pairs column
                values.update(ctx.get(name) or {})
            elif attribute.value is None:
                values[name] = ctx.get(name)
            else:
                values[name] = self.value(attribute.value, ctx)
        return {
            k: list(v) if isinstance(v, list) else v for k, v in values.items() if v is not None
        }

    # -- after the drafts

    def product_context(self, draft: Draft, attributes: dict[str, Any], **given: Any) -> dict:
        """What derived_tags and substitute_group read: attributes and PRODUCT_FIELDS."""
        return {
            **attributes,
            "brand": draft["brand"],
            "model": draft["model"],
            "price": draft["price"],
            "tags": draft["tags"],
            "compatible_with": draft["compatible_with"],
            **given,
        }

    def derived_tags(self, category: str, draft: Draft, entry_price: float) -> list[str]:
        """Tags that follow from the specifications; prices are the model line's entry price."""
        ctx = self.product_context(draft, draft["attributes"], price=entry_price)
        return [rule.tag for rule in self.specs[category].derived_tags if holds(rule.when, ctx)]

    def substitute_group(self, product: dict[str, Any], draft: Draft) -> tuple[Any, ...]:
        """Products compete as alternatives only within one category and group."""
        ctx = self.product_context(draft, product["attributes"], tags=product["tags"])
        values = [
            self.value(spec, ctx) for spec in self.specs[product["category"]].substitute_group
        ]
        return (product["category"], *(tuple(v) if isinstance(v, list) else v for v in values))

    def description_fields(self, category: str, ctx: dict[str, Any]) -> dict[str, Any]:
        fields = {}
        for name, spec in self.specs[category].description.fields.items():
            fields[name] = ctx[name] = self.value(spec, ctx)
        return fields

    # -- one value

    def value(self, spec: Any, ctx: dict[str, Any]) -> Any:
        """Evaluates a value spec (see data/catalog_schema.py) over the fields in `ctx`."""
        if spec is None or isinstance(spec, bool | int | float):
            return spec
        if isinstance(spec, str):
            return render(spec, ctx)
        if isinstance(spec, list):
            return list(spec)
        if isinstance(spec, Choose):
            case = next((c for c in spec.choose if holds(c.when, ctx)), None)
            return None if case is None else self.value(case.value, ctx)
        if isinstance(spec, Lookup):
            key = ctx.get(spec.lookup)
            if key in spec.table:
                return self.value(spec.table[key], ctx)
            if "default" not in spec.model_fields_set:
                raise CatalogError(f"{spec.lookup} {key!r} is not in its lookup table")
            return self.value(spec.default, ctx)
        if isinstance(spec, Test):
            return holds(spec.test, ctx)
        if isinstance(spec, Replace):
            text = ctx[spec.replace]
            for old, new in spec.table.items():
                text = text.replace(old, new)
            return text
        if isinstance(spec, Join):
            items = ctx.get(spec.join) or []
            more = spec.more if len(items) > spec.first else ""
            return spec.sep.join(items[: spec.first]) + more
        if isinstance(spec, Divide):
            number = ctx[spec.divide]
            return number // spec.by if spec.round == "down" else round(number / spec.by)
        if isinstance(spec, Scale):
            return round(ctx[spec.scale] * spec.by)
        if isinstance(spec, DisplayName):
            return self.display_name(ctx["brand"], ctx[spec.display_name])
        if isinstance(spec, DeviceLabels):
            return self._device_labels(spec, ctx.get(spec.device_labels) or [])
        if isinstance(spec, Either):
            return next((v for s in spec.either if (v := self.value(s, ctx)) is not None), None)
        raise AssertionError(spec)

    def _device_labels(self, spec: DeviceLabels, keys: list[str]) -> list[str]:
        labels = []
        for family in spec.families:
            members = self.groups[family.group]
            if set(members) <= set(keys):
                labels.append(family.label)
                keys = [k for k in keys if k not in members]
                break
        for key in keys:
            if not self.model_of.get(key):
                raise CatalogError(f"{key} has no model name to show in 适配机型")
            labels.append(self.model_of[key])
        return labels
