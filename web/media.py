"""Merchants' product images: decoded, checked, resized and stored under ``var/media/products/``,
served by the web app at ``/media/products/``.

An upload is decoded with Pillow (its name and content type are never trusted), the EXIF
orientation applied and every other bit of metadata dropped (phones put the GPS position of the
shop in there), then saved as WebP twice: a large image (longest side 800 px, the product page)
and a thumbnail (320 px, the cards: about 220 px wide in the storefront grid). File names are
a hash of the SKU and the image, so a URL never changes its content (the server answers
``Cache-Control: immutable``), a new image is a new URL, and a file can be told to belong to one
product (``owns``) before it is removed. The product's ``image`` field holds the large image's
URL; ``thumbnail_url`` derives the thumbnail's; any other URL (an import) is shown as it is.

The files live on this machine's disk: several web app replicas need ``var/media`` on a shared
volume (or an object store served at the same URLs).
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
import re
import secrets
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# 40 megapixels: above a phone photo in its default mode (12 to 50 MP); a PNG of 20000x20000
# zeros is a few hundred KB on disk and 1.2 GB decoded as RGB.
MAX_PIXELS = 40_000_000
LARGE_SIDE = 800
THUMBNAIL_SIDE = 320
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
URL_PREFIX = "/media/products/"
CACHE_FOREVER = "public, max-age=31536000, immutable"

# Pillow's own guard, for every image this process opens: above twice this it refuses to decode.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
mimetypes.add_type("image/webp", ".webp")  # not in every system's mime.types

_NAME = re.compile(r"^[0-9a-f]{32}$")
_WEBP = {"large": {"quality": 82, "method": 4}, "thumbnail": {"quality": 78, "method": 4}}


class ImageRejected(ValueError):
    """An upload that is not a usable image; `status` is the HTTP answer (413 or 422)."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class ProcessedImage:
    large: bytes  # WebP
    thumbnail: bytes  # WebP
    size: tuple[int, int]
    thumbnail_size: tuple[int, int]


def process_image(data: bytes, max_pixels: int = MAX_PIXELS) -> ProcessedImage:
    """The upload as the two WebP files the shop serves; `ImageRejected` when it is too big,
    not an image (of the four formats), broken, or has more than `max_pixels` pixels."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected(
            "image_too_large", f"图片太大了：最大 {MAX_UPLOAD_BYTES // 2**20} MB", status=413
        )
    image = _decode(data, max_pixels)
    # The colour profile is kept (a Display P3 photo looks dull read as sRGB) where it still
    # describes the pixels: not once CMYK or grey became RGB.
    icc = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA") else None
    image = _upright(image)
    large = image.copy()
    large.thumbnail((LARGE_SIDE, LARGE_SIDE), Image.Resampling.LANCZOS)
    thumbnail = large.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        large=_webp(large, icc, **_WEBP["large"]),
        thumbnail=_webp(thumbnail, icc, **_WEBP["thumbnail"]),
        size=large.size,
        thumbnail_size=thumbnail.size,
    )


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    not_image = ImageRejected("not_an_image", "这不是图片文件：请上传 JPEG、PNG、WebP 或 GIF 图片")
    if not data:
        raise not_image
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise not_image from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # the warning (40 to 80 MP) is raised only where warnings are errors; elsewhere it is
        # logged and the size check below refuses the image
        raise _too_many_pixels(max_pixels) from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected("broken_image", "图片文件已损坏，无法读取，请换一张") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise not_image
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    # A JPEG decodes at 1/2, 1/4 or 1/8 scale when that still covers the large size: a 12 MP
    # phone photo then costs a quarter of the time and memory.
    image.draft(None, (LARGE_SIDE, LARGE_SIDE))
    try:
        image.load()  # the first frame of a GIF or an animated WebP
    except Image.DecompressionBombError:
        raise _too_many_pixels(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRejected("broken_image", "图片文件已损坏，无法读取，请换一张") from None
    return image


def _too_many_pixels(max_pixels: int) -> ImageRejected:
    return ImageRejected(
        "too_many_pixels",
        f"图片尺寸太大了（最多 {max_pixels // 10_000} 万像素），请缩小后再上传",
        status=413,
    )


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the EXIF orientation says, in RGB (RGBA when it has transparency), with no
    metadata left (EXIF, XMP, comments): the saved file gets only what `_webp` passes."""
    image = ImageOps.exif_transpose(image) or image
    transparent = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    image = image.convert("RGBA" if transparent else "RGB")
    image.info.clear()
    return image


def _webp(image: Image.Image, icc: bytes | None, quality: int, method: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=quality, method=method, icc_profile=icc or None)
    return out.getvalue()


# -- storage ------------------------------------------------------------------------------------


def media_root(var_dir: Path) -> Path:
    """The folder served at /media (created if missing, so the app can mount it)."""
    root = var_dir / "media"
    (root / "products").mkdir(parents=True, exist_ok=True)
    return root


def thumbnail_url(image: str | None) -> str | None:
    """The card-sized image of `image`: our thumbnail for our own files, anything else as is."""
    name = _own_name(image)
    return f"{URL_PREFIX}{name}.thumb.webp" if name else image


def _own_name(url: str | None) -> str | None:
    if not url or not url.startswith(URL_PREFIX) or not url.endswith(".webp"):
        return None
    name = url[len(URL_PREFIX) : -len(".webp")]
    return name if _NAME.match(name) else None


def _name_for(sku: str, large: bytes) -> str:
    return hashlib.sha256(sku.encode() + b"\0" + large).hexdigest()[:32]


class ProductImages:
    """The files under ``<var>/media/products/``: two per image, named by `_name_for`."""

    def __init__(self, var_dir: Path) -> None:
        self.folder = media_root(var_dir) / "products"

    def save(self, sku: str, image: ProcessedImage) -> str:
        """Writes both files (each atomically: a reader never sees half a file) and answers the
        large image's URL, the value of the product's `image`."""
        name = _name_for(sku, image.large)
        self._write(self.folder / f"{name}.thumb.webp", image.thumbnail)
        self._write(self.folder / f"{name}.webp", image.large)
        return f"{URL_PREFIX}{name}.webp"

    def path(self, url: str | None) -> Path | None:
        """The large file behind one of our URLs (None for any other URL)."""
        name = _own_name(url)
        return self.folder / f"{name}.webp" if name else None

    def owns(self, url: str | None, sku: str) -> bool:
        """Whether `url` is an image uploaded for `sku` (its name is the hash of that SKU and
        the file's bytes): another product's file is never removed through this one."""
        path = self.path(url)
        if path is None:
            return False
        try:
            data = path.read_bytes()
        except OSError:
            return False
        return _name_for(sku, data) == path.stem

    def remove(self, url: str | None, sku: str) -> bool:
        """Deletes both files of `url` if it is `sku`'s own upload; True when it was."""
        path = self.path(url)
        if path is None or not self.owns(url, sku):
            return False
        path.with_suffix(".thumb.webp").unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        return True

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return  # same name, same bytes: an image uploaded again
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)


class MediaFiles(StaticFiles):
    """/media: plain files only (no listing, no path outside the folder: StaticFiles checks),
    cached for a year since a name never changes its content."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = CACHE_FOREVER
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
