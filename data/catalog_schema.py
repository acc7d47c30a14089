"""The one schema of the seed catalog's data files, and the loader that enforces it.

`data/catalog/` holds the catalog as data (its README says how to edit it):

    taxonomy.yml            merchants, categories, the controlled tag list
    brands.csv              brands, their sku codes and the names shoppers type
    people.yml              shopper segments, cities, nicknames, carriers
    relations.csv           hand-picked alternatives and bundles between model lines
    categories/<table>.yml  a category's attributes and how its rows become products
    categories/<table>.csv  the category's rows, one per model line

`load_catalog()` reads all of them, checks each against the models below and the rules
that span files (known brands, tags, model keys and template fields), and returns a
`CatalogData`. Any problem raises `CatalogError` naming the file and the row or key.

Value specs (`Spec`) are the declarative derivations the generic builder
(`data/catalog_builder.py`) interprets: a string is a template over named fields
("{name} {memory}"; exactly "{x}" keeps x's type), other scalars and lists are literals,
and a mapping is one of the operations below (`choose`, `lookup`, `test`, ...).
Conditions (`when:`) map field names to a value (equal), a list (one of) or a `Check`.
"""

from __future__ import annotations

import csv
import re
import string
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    model_validator,
)

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(ValueError):
    """A data file breaks the schema; the message names the file and the row or key."""


# -- value specs and conditions ---------------------------------------------------------

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
Number = StrictInt | StrictFloat


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Check(Strict):
    """Tests on one field's value; all given ones must hold.

    An empty value fails every test except `present: false`.
    """

    min: Number | None = None  # value >= min
    max: Number | None = None  # value <= max
    below: Number | None = None  # value < below
    multiple_of: StrictInt | None = None
    has: Scalar | None = None  # a list (or text) containing it
    has_any: list[Scalar] | None = None
    prefix: StrictStr | None = None
    not_: Scalar | list[Scalar] | None = Field(None, alias="not")  # not equal / not one of
    present: StrictBool | None = None  # has a value (not empty, zero or false)


FieldCheck = Annotated[Scalar | list[Scalar] | Check, Field(union_mode="left_to_right")]
Condition = dict[StrictStr, FieldCheck]


class Case(Strict):
    when: Condition | None = None
    value: Spec


class Choose(Strict):
    """The value of the first case whose `when` holds (a case without `when` always does)."""

    choose: list[Case]


class Lookup(Strict):
    """`table[value of the field]`, else `default`; without a default a miss is an error."""

    lookup: StrictStr
    table: dict[StrictStr, Spec]
    default: Spec = None


class Test(Strict):
    """True or false: whether the condition holds."""

    test: Condition


class Replace(Strict):
    """The field's text with each `table` key replaced by its value, in order."""

    replace: StrictStr
    table: dict[StrictStr, StrictStr]


class Join(Strict):
    """The first items of a list field joined by `sep`, plus `more` when some are left out."""

    join: StrictStr
    first: StrictInt
    sep: StrictStr = "、"
    more: StrictStr = ""


class Divide(Strict):
    """A number field divided by `by`, rounded to the nearest integer or down."""

    divide: StrictStr
    by: Number
    round: Literal["nearest", "down"] = "nearest"


class Scale(Strict):
    """A number field multiplied by `by`, rounded to an integer."""

    scale: StrictStr
    by: Number


class DisplayName(Strict):
    """How titles name a model: '小米14' stays, 'Mate 60 Pro' becomes '华为 Mate 60 Pro'."""

    display_name: StrictStr


class Family(Strict):
    group: StrictStr
    label: StrictStr


class DeviceLabels(Strict):
    """Model names of the keys in a field; a whole `families` group collapses to its label."""

    device_labels: StrictStr
    families: list[Family] = []


class Either(Strict):
    """The first of the specs that gives a value."""

    either: list[Spec]


OPERATIONS: dict[str, type[Strict]] = {
    "choose": Choose,
    "lookup": Lookup,
    "test": Test,
    "replace": Replace,
    "join": Join,
    "divide": Divide,
    "scale": Scale,
    "display_name": DisplayName,
    "device_labels": DeviceLabels,
    "either": Either,
}
FIELD_OPERANDS = ("lookup", "replace", "join", "divide", "scale", "display_name", "device_labels")


def _spec_kind(value: Any) -> str:
    if isinstance(value, Strict):
        return next(name for name, kind in OPERATIONS.items() if isinstance(value, kind))
    if isinstance(value, dict):
        names = [name for name in OPERATIONS if name in value]
        return names[0] if len(names) == 1 else "a mapping with one of " + ", ".join(OPERATIONS)
    return "template" if isinstance(value, str) else "literal"


Literal_ = StrictBool | StrictInt | StrictFloat | list[Scalar] | None
Spec = Annotated[
    Annotated[Choose, Tag("choose")]
    | Annotated[Lookup, Tag("lookup")]
    | Annotated[Test, Tag("test")]
    | Annotated[Replace, Tag("replace")]
    | Annotated[Join, Tag("join")]
    | Annotated[Divide, Tag("divide")]
    | Annotated[Scale, Tag("scale")]
    | Annotated[DisplayName, Tag("display_name")]
    | Annotated[DeviceLabels, Tag("device_labels")]
    | Annotated[Either, Tag("either")]
    | Annotated[StrictStr, Tag("template")]
    | Annotated[Literal_, Tag("literal")],
    Discriminator(_spec_kind),
]
for _model in (Case, Lookup, Either):
    _model.model_rebuild()


# -- the files --------------------------------------------------------------------------


class Merchant(Strict):
    id: StrictStr
    name: StrictStr


class Category(Strict):
    name: StrictStr
    parent: StrictStr
    merchant: StrictStr
    table: StrictStr = Field(pattern=r"^[a-z_]+$")
    aliases: list[StrictStr]


class Taxonomy(Strict):
    merchants: list[Merchant]
    categories: list[Category]
    tags: list[StrictStr]


class Segment(Strict):
    share: Number
    price_bias: Number
    sessions: Number
    tags: list[StrictStr]
    weights: dict[StrictStr, Number]
    nicknames: list[StrictStr]


class WholeNickname(Strict):
    endings: list[StrictStr]
    beginnings: list[StrictStr]


class Carrier(Strict):
    name: StrictStr
    prefix: StrictStr
    digits: StrictInt
    weight: Number


class People(Strict):
    segments: dict[StrictStr, Segment]
    nickname_cores: list[StrictStr]
    whole_nickname: WholeNickname
    cities: dict[StrictStr, Number]
    carriers: list[Carrier]
    brand_pull: dict[StrictStr, Number]
    event_sources: dict[StrictStr, Number]


class Attribute(Strict):
    """One attribute: its schema (type, unit, which direction is better, how shoppers ask
    for it) and its `value` spec; without one it is the column of the same name."""

    type: Literal["number", "text", "list", "bool"]
    unit: StrictStr | None = None
    better: Literal["higher", "lower"] | None = None
    aliases: list[StrictStr]
    value: Spec = None


class Variants(Strict):
    """How one row becomes several products.

    `configs: <column>`: one product per 'RAM+storage:price' entry, with the fields
    ram, storage ('512GB', '1TB'), storage_gb, price and storage_repeats (another entry
    has the same storage). `when` + `into`: rows matching `when` become one product per
    entry of `into`, whose specs override the row's columns (`variant` names the sku suffix).
    """

    configs: StrictStr | None = None
    when: Condition | None = None
    into: list[dict[StrictStr, Spec]] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Variants:
        if (self.configs is None) == (self.when is None and self.into is None):
            raise ValueError("give either `configs` or both `when` and `into`")
        if self.configs is None and (self.when is None or not self.into):
            raise ValueError("`when` and `into` go together")
        return self


class DeviceGroup(Strict):
    category: StrictStr | None = None
    brands: list[StrictStr] | None = None
    models: list[StrictStr] | None = None
    except_: list[StrictStr] = Field([], alias="except")

    @model_validator(mode="after")
    def _one_source(self) -> DeviceGroup:
        if (self.category is None) == (self.models is None):
            raise ValueError("give either `category` or `models`")
        if self.brands is not None and self.category is None:
            raise ValueError("`brands` narrows a `category`")
        return self


class DerivedTag(Strict):
    tag: StrictStr
    when: Condition | None = None


class Feature(Strict):
    when: Condition
    say: list[StrictStr]


class Description(Strict):
    """2-4 sentences: an opener, one or two features that hold, a closer for one of the
    product's tags ('_' for any product). Templates that miss a field are skipped."""

    fields: dict[StrictStr, Spec] = {}
    openers: list[StrictStr]
    features: list[Feature]
    closers: dict[StrictStr, list[StrictStr]]

    @model_validator(mode="after")
    def _default_closer(self) -> Description:
        if "_" not in self.closers:
            raise ValueError("closers need a '_' entry for products without a matching tag")
        return self


ColumnType = Literal["text", "number", "bool", "list", "configs", "models", "attribute_pairs"]


class CategorySpec(Strict):
    """categories/<table>.yml: a category's attributes and how its rows become products.

    A product's title, series, model and variant come from the spec of that name, else
    from the column of that name; compatible_with and accessory_of (model keys) default
    to none. Specs are evaluated over the row's columns, the variant's fields, `fields`
    (in order), `brand_title` and, for every list, <name>首/末/数/文本.
    """

    sku_prefix: StrictStr = Field(pattern=r"^[A-Z]{2,4}$")
    columns: dict[StrictStr, ColumnType] = {}
    variants: Variants | None = None
    device_groups: dict[StrictStr, DeviceGroup] = {}
    fields: dict[StrictStr, Spec] = {}
    title: Spec = None
    series: Spec = None
    model: Spec = None
    variant: Spec = None
    compatible_with: Spec = None
    accessory_of: Spec = None
    attributes: dict[StrictStr, Attribute]
    # The order products list their attributes in, when it is not the schema's; an
    # attribute_pairs column stands for its pairs.
    attribute_order: list[StrictStr] | None = None
    derived_tags: list[DerivedTag] = []  # `price` is the model line's entry price
    substitute_group: list[Spec] = []  # alternatives are proposed within one group
    routine_order: list[StrictStr] | None = None  # 品类 values in routine (bundle) order
    description: Description


PRODUCT_SPECS = ("title", "series", "model", "variant", "compatible_with", "accessory_of")
# Columns every category may have, and their types.
STANDARD_COLUMNS = {
    "key": "key",
    "brand": "brand",
    "model": "text",
    "series": "text",
    "name": "text",
    "title": "text",
    "price": "price",
    "tags": "tags",
    "aliases": "list",
}
CONFIG_FIELDS = ("ram", "storage", "storage_gb", "price", "storage_repeats")
# What derived_tags and substitute_group see besides the attributes.
PRODUCT_FIELDS = ("brand", "model", "price", "tags", "compatible_with")
# What descriptions see besides the attributes.
DESCRIPTION_FIELDS = ("name", "brand", "model", "price", "tags")
LIST_SUFFIXES = ("首", "末", "数", "文本")
RELATION_KINDS = ("ALTERNATIVE_TO", "BUNDLE_WITH")


# -- loaded data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One CSV row, its cells parsed by column type (None for an empty cell)."""

    file: str
    line: int
    values: dict[str, Any]
    label: str = ""  # the row's key as written, to name the row in errors

    def where(self) -> str:
        return f"{self.file}, line {self.line}" + (f" ({self.label})" if self.label else "")


@dataclass
class CategoryData:
    info: Category
    spec: CategorySpec
    rows: list[Row]
    groups: dict[str, list[str]] = field(default_factory=dict)  # device groups -> keys


@dataclass
class CatalogData:
    root: Path
    files: list[str]
    taxonomy: Taxonomy
    brands: list[dict[str, Any]]
    people: People
    relations: list[tuple[str, str, str]]
    categories: list[CategoryData]

    def category(self, name: str) -> CategoryData:
        return next(c for c in self.categories if c.info.name == name)


def load_catalog(root: Path | None = None) -> CatalogData:
    """Reads and checks every data file under `root` (default data/catalog/)."""
    return _load(Path(root or CATALOG_DIR).resolve())


@cache
def _load(root: Path) -> CatalogData:
    loader = _Loader(root)
    return loader.load()


# -- parsing cells ----------------------------------------------------------------------

_INT = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?\d+\.\d+$")
_CONFIG = re.compile(r"^(\d+)\+(\d+):(\d+(?:\.\d+)?)$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")


def parse_number(text: str) -> int | float:
    """'5000' -> 5000, '6.82' -> 6.82: integers stay integers, as they were written."""
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    raise ValueError(f"{text!r} is not a number")


def parse_list(text: str) -> list[str]:
    """Lists are written '|'-separated: '雅川青|白沙银', 'mate60 pro|m60p'."""
    return [part.strip() for part in text.split("|") if part.strip()]


def parse_bool(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return text == "true"


def parse_configs(text: str) -> list[tuple[int, int, float]]:
    """'12+256:6499|12+512:6999' -> [(12, 256, 6499.0), (12, 512, 6999.0)]."""
    configs = []
    for item in parse_list(text):
        match = _CONFIG.match(item)
        if not match:
            raise ValueError(f"{item!r} is not RAM+storage:price such as 12+256:6499")
        configs.append((int(match[1]), int(match[2]), float(match[3])))
    return configs


@cache
def template_fields(template: str) -> tuple[str, ...]:
    """The field names a template uses: '{name} {颜色首}' -> ('name', '颜色首')."""
    return tuple(
        re.split(r"[.\[]", name)[0] for _, name, _, _ in string.Formatter().parse(template) if name
    )


def spec_fields(spec: Any) -> set[str]:
    """Every field name a spec, a condition or a list of specs reads."""
    if isinstance(spec, str):
        return set(template_fields(spec))
    if isinstance(spec, list):
        return set().union(*(spec_fields(item) for item in spec))
    if isinstance(spec, dict):  # a condition
        return set(spec)
    if isinstance(spec, Choose):
        return set().union(*(spec_fields(c.when) | spec_fields(c.value) for c in spec.choose))
    if isinstance(spec, Lookup):
        return {spec.lookup} | spec_fields(list(spec.table.values())) | spec_fields(spec.default)
    if isinstance(spec, Test):
        return spec_fields(spec.test)
    if isinstance(spec, Either):
        return spec_fields(spec.either)
    if isinstance(spec, BaseModel):
        return {getattr(spec, name) for name in FIELD_OPERANDS if hasattr(spec, name)}
    return set()


# -- the loader -------------------------------------------------------------------------


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[str] = []
        self.tags: set[str] = set()
        self.brand_names: set[str] = set()
        self.keys: dict[str, str] = {}  # model key -> the row that defines it
        self.headers: dict[str, list[str]] = {}

    def where(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def read_yaml(self, name: str, model: type[Strict]) -> Any:
        path = self.root / name
        shown = self.where(path)
        self.files.append(name)
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=YamlLoader)
            return model.model_validate(document)
        except FileNotFoundError:
            raise CatalogError(f"{shown}: missing") from None
        except yaml.YAMLError as error:
            raise CatalogError(f"{shown}: not valid YAML: {error}") from None
        except ValidationError as error:
            problems = [f"  {_location(e['loc'])}: {e['msg']}" for e in error.errors()[:6]]
            raise CatalogError(
                f"{shown}: does not fit the schema:\n" + "\n".join(problems)
            ) from None

    def read_csv(
        self, name: str, types: dict[str, str], required: tuple[str, ...], label: str = "key"
    ) -> list[Row]:
        """Rows of a CSV file, cells parsed by type; `label` names a row in errors."""
        path = self.root / name
        shown = self.where(path)
        self.files.append(name)
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                lines = list(csv.reader(handle))
        except FileNotFoundError:
            raise CatalogError(f"{shown}: missing") from None
        if not lines:
            raise CatalogError(f"{shown}: empty, a header row is needed")
        header = lines[0]
        twice = [c for c in header if header.count(c) > 1]
        if twice:
            raise CatalogError(f"{shown}, line 1: column {twice[0]!r} appears twice")
        unknown = [c for c in header if c not in types]
        if unknown:
            raise CatalogError(
                f"{shown}, line 1: unknown column {unknown[0]!r}; known: {', '.join(types)}"
            )
        for column in required:
            if column not in header:
                raise CatalogError(f"{shown}, line 1: missing column {column!r}")
        rows = []
        for number, cells in enumerate(lines[1:], start=2):
            if not any(cell.strip() for cell in cells):
                continue
            at = header.index(label) if label in header else len(cells)
            row = Row(shown, number, {}, cells[at].strip() if at < len(cells) else "")
            if len(cells) != len(header):
                raise CatalogError(
                    f"{row.where()}: {len(cells)} cells but the header has {len(header)} columns"
                    f" (a missing or extra comma?)"
                )
            for column, cell in zip(header, cells, strict=True):
                try:
                    row.values[column] = (
                        self.parse_cell(types[column], cell) if cell.strip() else None
                    )
                except ValueError as error:
                    raise CatalogError(f"{row.where()}: column {column!r}: {error}") from None
            for column in required:
                if row.values.get(column) is None:
                    raise CatalogError(f"{row.where()}: column {column!r} is empty")
            rows.append(row)
        self.headers[name] = header
        return rows

    def parse_cell(self, kind: str, text: str) -> Any:
        if kind == "text":
            return text
        if kind == "number":
            return parse_number(text)
        if kind == "price":
            price = parse_number(text)
            if price <= 0:
                raise ValueError(f"price must be positive, got {text!r}")
            return float(price)
        if kind == "bool":
            return parse_bool(text)
        if kind in ("list", "models", "attribute_pairs"):
            return parse_list(text)
        if kind == "tags":
            tags = parse_list(text)
            unknown = [t for t in tags if t not in self.tags]
            if unknown:
                raise ValueError(f"tags outside taxonomy.yml's list: {', '.join(unknown)}")
            return tags
        if kind == "key":
            if not _KEY.match(text):
                raise ValueError(f"key {text!r} must be ASCII letters, digits and '-'")
            return text
        if kind == "brand":
            if text not in self.brand_names:
                raise ValueError(f"unknown brand {text!r} (not in brands.csv)")
            return text
        if kind == "configs":
            return parse_configs(text)
        raise AssertionError(kind)

    # -- whole files

    def load(self) -> CatalogData:
        taxonomy = self.read_yaml("taxonomy.yml", Taxonomy)
        self.check_taxonomy(taxonomy)
        brands = self.load_brands()
        categories = [self.load_category(info) for info in taxonomy.categories]
        for category in categories:
            self.resolve_models(category, categories)
        people = self.read_yaml("people.yml", People)
        self.check_people(people, taxonomy)
        relations = self.load_relations()
        return CatalogData(self.root, self.files, taxonomy, brands, people, relations, categories)

    def check_taxonomy(self, taxonomy: Taxonomy) -> None:
        shown = self.where(self.root / "taxonomy.yml")
        merchants = {m.id for m in taxonomy.merchants}
        names: set[str] = set()
        for category in taxonomy.categories:
            if category.name in names:
                raise CatalogError(f"{shown}: category {category.name} is listed twice")
            if category.merchant not in merchants:
                raise CatalogError(
                    f"{shown}: {category.name}: unknown merchant {category.merchant}"
                )
            names.add(category.name)
        if len(set(taxonomy.tags)) != len(taxonomy.tags):
            raise CatalogError(f"{shown}: tags: a tag is listed twice")
        self.tags = set(taxonomy.tags)

    def load_brands(self) -> list[dict[str, Any]]:
        types = {"name": "text", "code": "text", "origin": "text", "title_name": "text"}
        rows = self.read_csv(
            "brands.csv", {**types, "aliases": "list"}, ("name", "code", "origin"), label="name"
        )
        brands, codes = [], set()
        for row in rows:
            brand = {k: row.values[k] for k in ("name", "code", "origin", "aliases", "title_name")}
            if not re.fullmatch(r"[A-Z0-9]+", brand["code"]) or brand["code"] in codes:
                raise CatalogError(f"{row.where()}: code must be unique, ASCII capitals or digits")
            if brand["name"] in self.brand_names:
                raise CatalogError(f"{row.where()}: brand {brand['name']} is listed twice")
            codes.add(brand["code"])
            self.brand_names.add(brand["name"])
            brand["aliases"] = brand["aliases"] or []
            brands.append(brand)
        return brands

    def load_category(self, info: Category) -> CategoryData:
        spec = self.read_yaml(f"categories/{info.table}.yml", CategorySpec)
        shown = self.where(self.root / f"categories/{info.table}.yml")
        types: dict[str, str] = dict(STANDARD_COLUMNS)
        types.update({name: attr.type for name, attr in spec.attributes.items()})
        types.update(spec.columns)
        configs = spec.variants.configs if spec.variants else None
        if configs and spec.columns.get(configs) != "configs":
            raise CatalogError(f"{shown}: variants: column {configs!r} needs type configs")
        required = ("key", "brand") + ((configs,) if configs else ("price",))
        rows = self.read_csv(f"categories/{info.table}.csv", types, required)
        category = CategoryData(info, spec, rows)
        for row in rows:
            self.check_row(category, row)
        self.check_spec(category, shown)
        return category

    def check_row(self, category: CategoryData, row: Row) -> None:
        key = row.values["key"]
        if key in self.keys:
            raise CatalogError(
                f"{row.where()}: model key {key} is already used at {self.keys[key]}"
            )
        self.keys[key] = row.where()
        if row.values.get("tags") is None:
            row.values["tags"] = []
        if row.values.get("aliases") is None:
            row.values["aliases"] = []
        spec = category.spec
        for column, kind in spec.columns.items():
            if kind == "attribute_pairs" and row.values.get(column):
                pairs = {}
                for item in row.values[column]:
                    name, _, text = item.partition("=")
                    attribute = spec.attributes.get(name)
                    if attribute is None or not text:
                        raise CatalogError(
                            f"{row.where()}: column {column!r}: {item!r} is not 属性=值 for an"
                            f" attribute of {category.info.name}"
                        )
                    try:
                        pairs[name] = self.parse_cell(attribute.type, text)
                    except ValueError as error:
                        raise CatalogError(f"{row.where()}: column {column!r}: {error}") from None
                row.values[column] = pairs
        if spec.routine_order is not None and row.values.get("品类") not in spec.routine_order:
            raise CatalogError(
                f"{row.where()}: 品类 {row.values.get('品类')!r} is not in routine_order"
            )

    def check_spec(self, category: CategoryData, shown: str) -> None:
        """Every field a spec reads exists, every tag it names is in the tag list."""
        spec = category.spec
        columns = set(self.headers[f"categories/{category.info.table}.csv"])

        def with_lists(names: set[str]) -> set[str]:
            return names | {n + s for n in names for s in LIST_SUFFIXES}

        def check(where: str, item: Any, known: set[str]) -> None:
            missing = sorted(spec_fields(item) - with_lists(known))
            if missing:
                raise CatalogError(f"{shown}: {where}: unknown field {missing[0]!r}")

        row_fields = columns | {"brand_title"}
        if spec.variants and spec.variants.configs:
            row_fields |= set(CONFIG_FIELDS)
        if spec.variants and spec.variants.into:
            check("variants.when", spec.variants.when, row_fields)
            for i, override in enumerate(spec.variants.into):
                for name, value in override.items():
                    check(f"variants.into.{i}.{name}", value, row_fields)
                row_fields |= set(override)
        for name, value in spec.fields.items():
            check(f"fields.{name}", value, row_fields)
            row_fields.add(name)
        for name in PRODUCT_SPECS:
            check(name, getattr(spec, name), row_fields)
        if spec.title is None and "title" not in columns:
            raise CatalogError(f"{shown}: no title: give `title:` or a title column")
        for name, attribute in spec.attributes.items():
            check(f"attributes.{name}.value", attribute.value, row_fields)
        pairs = {c for c, kind in spec.columns.items() if kind == "attribute_pairs"}
        for name in spec.attribute_order or []:
            if name not in spec.attributes and name not in pairs:
                raise CatalogError(f"{shown}: attribute_order: unknown attribute {name!r}")
        product_fields = set(spec.attributes) | set(PRODUCT_FIELDS)
        for i, rule in enumerate(spec.derived_tags):
            check(f"derived_tags.{i}", rule.when, product_fields)
            if rule.tag not in self.tags:
                raise CatalogError(f"{shown}: derived_tags.{i}: {rule.tag} is not in the tag list")
        check("substitute_group", spec.substitute_group, product_fields)
        description = spec.description
        known = set(spec.attributes) | set(DESCRIPTION_FIELDS)
        for name, value in description.fields.items():
            check(f"description.fields.{name}", value, known)
            known.add(name)
        check("description.openers", description.openers, known)
        for i, feature in enumerate(description.features):
            check(f"description.features.{i}.when", feature.when, known)
            check(f"description.features.{i}.say", feature.say, known)
        for tag, closers in description.closers.items():
            check(f"description.closers.{tag}", closers, known)
        for tag in description.closers:
            if tag != "_" and tag not in self.tags:
                raise CatalogError(f"{shown}: description.closers: {tag} is not in the tag list")

    def resolve_models(self, category: CategoryData, categories: list[CategoryData]) -> None:
        """Device groups and `models` cells become lists of model keys, in catalog order."""
        shown = self.where(self.root / f"categories/{category.info.table}.yml")
        rows_by_category = {c.info.name: c.rows for c in categories}
        groups = category.groups

        def expand(tokens: list[str], where: str) -> list[str]:
            keys: list[str] = []
            for token in tokens:
                if token in groups:
                    keys += groups[token]
                elif token in self.keys:
                    keys.append(token)
                else:
                    raise CatalogError(
                        f"{where}: {token!r} is neither a model key nor a device group"
                    )
            return keys

        for name, group in category.spec.device_groups.items():
            where = f"{shown}: device_groups.{name}"
            if group.category is not None:
                if group.category not in rows_by_category:
                    raise CatalogError(f"{where}: unknown category {group.category}")
                keys = [
                    r.values["key"]
                    for r in rows_by_category[group.category]
                    if group.brands is None or r.values["brand"] in group.brands
                ]
            else:
                keys = expand(group.models or [], where)
            left_out = set(expand(group.except_, where))
            groups[name] = [k for k in keys if k not in left_out]
        for spec_value in _specs(category.spec):
            if isinstance(spec_value, DeviceLabels):
                for family in spec_value.families:
                    if family.group not in groups:
                        raise CatalogError(f"{shown}: device_labels: unknown group {family.group}")
        models = [c for c, kind in category.spec.columns.items() if kind == "models"]
        for row in category.rows:
            for column in models:
                if row.values.get(column) is not None:
                    row.values[column] = expand(
                        row.values[column], f"{row.where()}: column {column!r}"
                    )

    def check_people(self, people: People, taxonomy: Taxonomy) -> None:
        shown = self.where(self.root / "people.yml")
        categories = {c.name for c in taxonomy.categories}
        for name, segment in people.segments.items():
            wrong = set(segment.weights) - categories
            if wrong:
                raise CatalogError(
                    f"{shown}: segments.{name}.weights: unknown category {wrong.pop()}"
                )
            if set(segment.tags) - self.tags:
                raise CatalogError(f"{shown}: segments.{name}.tags: a tag is not in the tag list")
        wrong = set(people.brand_pull) - self.brand_names
        if wrong:
            raise CatalogError(f"{shown}: brand_pull: unknown brand {wrong.pop()}")

    def load_relations(self) -> list[tuple[str, str, str]]:
        types = {"type": "text", "a": "text", "b": "text"}
        rows = self.read_csv("relations.csv", types, ("type", "a", "b"), label="a")
        relations = []
        for row in rows:
            kind, a, b = (row.values[c] for c in ("type", "a", "b"))
            if kind not in RELATION_KINDS:
                raise CatalogError(
                    f"{row.where()}: type must be one of {', '.join(RELATION_KINDS)}"
                )
            for key in (a, b):
                if key not in self.keys:
                    raise CatalogError(f"{row.where()}: unknown model key {key}")
            relations.append((kind, a, b))
        return relations


def _location(loc: tuple[Any, ...]) -> str:
    """('fields', 'kind', 'choose', 'choose', 0) -> 'fields.kind.choose.0' (spec tags fold)."""
    parts = [str(p) for i, p in enumerate(loc) if i == 0 or p != loc[i - 1]]
    return ".".join(parts) or "(top)"


def _specs(value: Any) -> list[Any]:
    """Every spec model nested in a model, a list or a dict."""
    found = []
    if isinstance(value, BaseModel):
        found.append(value)
        for name in type(value).model_fields:
            found += _specs(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            found += _specs(item)
    elif isinstance(value, dict):
        for item in value.values():
            found += _specs(item)
    return found
