"""A small hand-made catalog in the seed catalog's shape, for fast unit tests."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

PHONE_SCHEMA = {
    "屏幕尺寸": {"type": "number", "unit": "英寸", "better": None, "aliases": ["屏幕", "屏幕多大"]},
    "电池容量": {"type": "number", "unit": "mAh", "better": "higher", "aliases": ["电池", "续航"]},
    "存储容量": {"type": "text", "unit": None, "better": "higher", "aliases": ["存储", "内存多大"]},
    "重量": {"type": "number", "unit": "g", "better": "lower", "aliases": ["多重", "重不重"]},
    "5G": {"type": "bool", "unit": None, "better": "higher", "aliases": ["支持5G"]},
    "颜色": {"type": "list", "unit": None, "better": None, "aliases": ["配色"]},
}


def _phone(
    sku: str, title: str, brand: str, model: str, price: float, **attrs: Any
) -> dict[str, Any]:
    aliases = attrs.pop("aliases", [])
    stock = attrs.pop("stock", 10)
    return {
        "sku": sku, "title": title, "brand": brand, "category": "手机", "series": None,
        "model": model, "aliases": aliases, "price": price, "attributes": attrs,
        "tags": ["拍照"], "description": f"{title}，性能强劲。", "stock": stock,
        "rating": 4.8, "merchant_id": "m001", "image": None,
    }  # fmt: skip


def mini_catalog() -> dict[str, Any]:
    products = [
        _phone("PH-HW-M60P-256", "华为 Mate 60 Pro 12GB+256GB 雅丹黑", "华为", "Mate 60 Pro", 6499,
               屏幕尺寸=6.82, 电池容量=5000, 存储容量="256GB", 重量=225, **{"5G": True},
               颜色=["雅丹黑", "白沙银"], aliases=["mate60pro", "Mate60 Pro", "m60p"]),
        _phone("PH-HW-M60P-512", "华为 Mate 60 Pro 12GB+512GB 雅丹黑", "华为", "Mate 60 Pro", 6999,
               屏幕尺寸=6.82, 电池容量=5000, 存储容量="512GB", 重量=225, **{"5G": True},
               颜色=["雅丹黑"], aliases=["mate60pro"]),
        _phone("PH-HW-M60-256", "华为 Mate 60 12GB+256GB 南糯紫", "华为", "Mate 60", 5499,
               屏幕尺寸=6.69, 电池容量=4750, 存储容量="256GB", 重量=209, **{"5G": True},
               颜色=["南糯紫"], aliases=["mate60", "Mate60"]),
        _phone("PH-XM-14-256", "小米14 12GB+256GB 白色 徕卡光学", "小米", "小米14", 3999,
               屏幕尺寸=6.36, 电池容量=4610, 存储容量="256GB", 重量=193, **{"5G": True},
               颜色=["白色", "黑色"], aliases=["xiaomi 14", "mi14"]),
        _phone("PH-AP-15-128", "Apple iPhone 15 128GB 粉色", "苹果", "iPhone 15", 5999,
               屏幕尺寸=6.1, 电池容量=3349, 存储容量="128GB", 重量=171, **{"5G": True},
               颜色=["粉色", "黑色"], aliases=["iphone15", "苹果15", "爱疯15"], stock=0),
        {"sku": "AC-CASE-IP15", "title": "iPhone 15 透明硅胶手机壳", "brand": "倍思", "category": "手机配件",
         "series": None, "model": "iPhone 15 透明壳", "aliases": [], "price": 39,
         "attributes": {"适配机型": "iPhone 15", "类型": "手机壳"}, "tags": [], "description": "防摔透明壳",
         "stock": 100, "rating": 4.6, "merchant_id": "m001", "image": None},
        {"sku": "SH-NK-PEG40-42", "title": "耐克 Pegasus 40 男子跑步鞋", "brand": "耐克", "category": "跑步鞋",
         "series": None, "model": "Pegasus 40", "aliases": ["飞马40"], "price": 899,
         "attributes": {"尺码": [40, 41, 42, 43], "缓震": "React泡棉", "重量": 280, "颜色": ["白色"]},
         "tags": ["运动"], "description": "日常训练跑鞋", "stock": 20, "rating": 4.7,
         "merchant_id": "m002", "image": None},
    ]  # fmt: skip
    return {
        "version": 1,
        "merchants": [{"id": "m001", "name": "数码优选旗舰店"}, {"id": "m002", "name": "运动之家"}],
        "categories": [
            {"name": "手机", "parent": "手机数码", "aliases": ["智能手机"]},
            {"name": "手机配件", "parent": "手机数码", "aliases": ["手机壳", "配件"]},
            {"name": "跑步鞋", "parent": "运动户外", "aliases": ["跑鞋"]},
        ],
        "attribute_schema": {
            "手机": PHONE_SCHEMA,
            "手机配件": {
                "适配机型": {"type": "text", "unit": None, "better": None, "aliases": ["适配"]},
                "类型": {"type": "text", "unit": None, "better": None, "aliases": []},
            },
            "跑步鞋": {
                "尺码": {"type": "list", "unit": None, "better": None, "aliases": ["码数"]},
                "缓震": {"type": "text", "unit": None, "better": None, "aliases": []},
                "重量": {"type": "number", "unit": "g", "better": "lower", "aliases": ["多重"]},
                "颜色": {"type": "list", "unit": None, "better": None, "aliases": []},
            },
        },
        "brands": [
            {"name": "华为", "aliases": ["HUAWEI", "huawei"], "origin": "中国"},
            {"name": "小米", "aliases": ["xiaomi", "MI"], "origin": "中国"},
            {"name": "苹果", "aliases": ["Apple"], "origin": "美国"},
            {"name": "倍思", "aliases": ["Baseus"], "origin": "中国"},
            {"name": "耐克", "aliases": ["Nike"], "origin": "美国"},
        ],
        "products": products,
        "relations": [
            {"source": "AC-CASE-IP15", "target": "PH-AP-15-128", "type": "COMPATIBLE_WITH"},
            {"source": "PH-HW-M60P-256", "target": "PH-HW-M60-256", "type": "SAME_SERIES"},
            {"source": "PH-HW-M60P-256", "target": "PH-XM-14-256", "type": "ALTERNATIVE_TO"},
            {"source": "PH-AP-15-128", "target": "AC-CASE-IP15", "type": "BUNDLE_WITH"},
        ],
        "orders": [
            {
                "order_id": "DG20261105001234",
                "user_id": "u0001",
                "items": [{"sku": "PH-XM-14-256", "qty": 1, "price": 3999.0}],
                "status": "shipped",
                "created_at": "2026-11-05T10:21:00+08:00",
                "carrier": "顺丰速运",
                "tracking_no": "SF1234567890123",
                "eta": "2026-11-08",
                "address_city": "杭州",
            },
        ],  # fmt: skip
        "users": [],
        "interactions": [],
    }


class BigramEncoder:
    """A deterministic stand-in for the E5 model: hashed character bigrams."""

    dim = 256

    def __init__(self) -> None:
        self.documents_encoded = 0
        self.queries_encoded = 0

    def _encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            text = text.lower()
            for a, b in zip(text, text[1:], strict=False):
                out[row, zlib.crc32((a + b).encode()) % self.dim] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-6)

    def encode_queries(self, texts, batch_size=32):
        self.queries_encoded += len(texts)
        return self._encode(texts)

    def encode_documents(self, texts, batch_size=32):
        self.documents_encoded += len(texts)
        return self._encode(texts)
