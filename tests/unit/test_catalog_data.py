"""The catalog's data files: all of them fit the schema, mistakes are named, output is pinned."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from data.catalog_schema import CATALOG_DIR, CatalogError, load_catalog
from data.generate_catalog import build_catalog, catalog_json

# sha256 of the bytes `python -m data.generate_catalog` writes (catalog_json(build_catalog())).
# It pins the generated catalog byte for byte, so a refactoring of the generator or the
# builder cannot change it unnoticed. After changing data/catalog/ (or the generator) on
# purpose, regenerate, look at the diff of the JSON, then paste the new hash here:
#   .venv/bin/python -c "import hashlib; from data.generate_catalog import build_catalog,
#   catalog_json; print(hashlib.sha256(catalog_json(build_catalog()).encode()).hexdigest())"
GOLDEN_SHA256 = "bf1521a5f484242beddf4d17b1c0bf5203477f36ca67086b6202c9ace2a3dd54"


def test_generated_catalog_matches_the_golden_hash() -> None:
    digest = hashlib.sha256(catalog_json(build_catalog()).encode("utf-8")).hexdigest()
    assert digest == GOLDEN_SHA256


def test_every_data_file_fits_the_schema() -> None:
    data = load_catalog()
    on_disk = {
        str(path.relative_to(CATALOG_DIR))
        for path in CATALOG_DIR.rglob("*")
        if path.suffix in {".csv", ".yml", ".yaml"}
    }
    assert on_disk == set(data.files)  # no file is left unchecked
    assert [c.info.name for c in data.categories] == [c.name for c in data.taxonomy.categories]
    assert all(category.rows for category in data.categories)


# -- mistakes are reported with their file and row -----------------------------------------


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, root, ignore=shutil.ignore_patterns("*.md"))
    return root


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _set_cell(path: Path, line: int, column: str, value: str) -> None:
    rows = _rows(path)
    rows[line - 1][rows[0].index(column)] = value
    _write(path, rows)


def _error(root: Path) -> str:
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    return str(caught.value)


def test_a_row_missing_a_cell(catalog_copy: Path) -> None:
    path = catalog_copy / "categories" / "phones.csv"
    rows = _rows(path)
    rows[2] = rows[2][:-1]  # line 3 lost its last cell
    _write(path, rows)
    message = _error(catalog_copy)
    assert "phones.csv, line 3 (MATE60)" in message
    assert "16 cells but the header has 17 columns" in message


def test_a_file_missing_a_column(catalog_copy: Path) -> None:
    path = catalog_copy / "categories" / "snacks.csv"
    rows = _rows(path)
    at = rows[0].index("price")
    _write(path, [row[:at] + row[at + 1 :] for row in rows])
    assert "snacks.csv, line 1: missing column 'price'" in _error(catalog_copy)


def test_an_unknown_brand(catalog_copy: Path) -> None:
    _set_cell(catalog_copy / "categories" / "earphones.csv", 4, "brand", "苹菓")
    message = _error(catalog_copy)
    assert "earphones.csv, line 4 (AIRPODS4)" in message
    assert "column 'brand': unknown brand '苹菓'" in message


@pytest.mark.parametrize("price", ["-3", "0", "12元", "abc"])
def test_a_bad_price(catalog_copy: Path, price: str) -> None:
    _set_cell(catalog_copy / "categories" / "snacks.csv", 5, "price", price)
    message = _error(catalog_copy)
    assert "snacks.csv, line 5 (SZSSGIFTBOX): column 'price'" in message


def test_an_unknown_tag_and_a_bad_yes_no(catalog_copy: Path) -> None:
    path = catalog_copy / "categories" / "shoes.csv"
    _set_cell(path, 2, "tags", "跑步|很好看")
    assert "shoes.csv, line 2 (PEGASUS41): column 'tags': tags outside" in _error(catalog_copy)
    _set_cell(path, 2, "tags", "跑步")
    _set_cell(path, 3, "碳板", "yes")
    assert "shoes.csv, line 3 (VOMERO18): column '碳板': 'yes' is not true or false" in _error(
        catalog_copy
    )


def test_a_key_used_twice(catalog_copy: Path) -> None:
    _set_cell(catalog_copy / "categories" / "tablets.csv", 3, "key", "MATE60PRO")
    message = _error(catalog_copy)
    assert "tablets.csv, line 3 (MATE60PRO): model key MATE60PRO is already used" in message
    assert "phones.csv, line 2" in message


def test_an_unknown_device_in_fits(catalog_copy: Path) -> None:
    _set_cell(catalog_copy / "categories" / "accessories.csv", 2, "fits", "IPHONE99")
    message = _error(catalog_copy)
    assert "accessories.csv, line 2 (CASE-IPHONE16PROMAX): column 'fits'" in message
    assert "'IPHONE99' is neither a model key nor a device group" in message


def test_mistakes_in_a_category_spec(catalog_copy: Path) -> None:
    path = catalog_copy / "categories" / "laptops.yml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("{cpu_short} {ram}GB", "{cpu_shrot} {ram}GB"), encoding="utf-8")
    assert "laptops.yml: title: unknown field 'cpu_shrot'" in _error(catalog_copy)
    path.write_text(good.replace("{tag: 轻薄, when", "{tag: 很轻, when"), encoding="utf-8")
    assert "laptops.yml: derived_tags.0: 很轻 is not in the tag list" in _error(catalog_copy)
    path.write_text(good.replace("unit: 英寸", "units: 英寸"), encoding="utf-8")
    message = _error(catalog_copy)
    assert "laptops.yml: does not fit the schema" in message
    assert "attributes.屏幕尺寸.units: Extra inputs are not permitted" in message


def test_a_relation_to_an_unknown_model(catalog_copy: Path) -> None:
    _set_cell(catalog_copy / "relations.csv", 3, "b", "IPHONE99PRO")
    assert "relations.csv, line 3 (MATE60PRO): unknown model key IPHONE99PRO" in _error(
        catalog_copy
    )


def test_a_row_the_specs_cannot_expand(catalog_copy: Path) -> None:
    """A brand without an operating system in phones.yml's lookup: the row is named."""
    _set_cell(catalog_copy / "categories" / "phones.csv", 2, "brand", "索尼")
    with pytest.raises(CatalogError, match=r"phones\.csv, line 2 \(MATE60PRO\): brand '索尼'"):
        build_catalog(catalog_copy)
