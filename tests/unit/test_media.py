"""Product images (web/media.py): real images made with Pillow go in; what a merchant and a
shopper would check comes out (turned upright, no EXIF, bounded sizes, WebP), and what is not a
usable image is refused with the reason."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import pytest
from PIL import Image

from web import media
from web.media import ImageRejected, ProductImages, process_image, thumbnail_url

RED, BLUE = (220, 30, 30), (30, 30, 220)


def encode(image: Image.Image, format: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format=format, **options)
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def halves(size: tuple[int, int], first=RED, second=BLUE) -> Image.Image:
    """Left half `first`, right half `second`."""
    image = Image.new("RGB", size, second)
    image.paste(first, (0, 0, size[0] // 2, size[1]))
    return image


def close(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims `width` x `height`: the decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1)))
        + chunk(b"IEND", b"")
    )


def test_a_large_png_becomes_an_800_px_webp_and_a_320_px_thumbnail():
    result = process_image(encode(halves((1600, 1200)), "PNG"))
    large, thumbnail = decode(result.large), decode(result.thumbnail)
    assert (large.format, large.size, result.size) == ("WEBP", (800, 600), (800, 600))
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (320, 240))
    assert result.thumbnail_size == (320, 240)
    assert close(large.getpixel((100, 300)), RED) and close(large.getpixel((700, 300)), BLUE)


def test_a_portrait_photo_is_bounded_by_its_longest_side():
    result = process_image(encode(halves((900, 3000)), "JPEG", quality=90))
    assert result.size == (240, 800) and result.thumbnail_size == (96, 320)


def test_a_small_image_is_never_enlarged():
    result = process_image(encode(halves((200, 100)), "PNG"))
    assert result.size == (200, 100) and result.thumbnail_size == (200, 100)


def test_exif_orientation_is_applied_and_the_metadata_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; show it rotated 90° clockwise
    exif[0x010F] = "ShopCam"  # Make
    exif[0x9286] = "店铺地址：杭州市西湖区文三路 1 号"  # UserComment-like text a phone leaves
    photo = encode(halves((400, 200)), "JPEG", quality=95, exif=exif.tobytes())
    assert decode(photo).getexif()[0x0112] == 6

    result = process_image(photo)
    large = decode(result.large)
    # 400x200 turned a quarter clockwise: 200 wide, 400 high, the red left half now on top
    assert large.size == (200, 400)
    assert close(large.getpixel((100, 50)), RED) and close(large.getpixel((100, 350)), BLUE)
    for data in (result.large, result.thumbnail):
        image = decode(data)
        assert dict(image.getexif()) == {} and "exif" not in image.info
        assert b"ShopCam" not in data and b"Exif" not in data


def test_transparency_is_kept():
    image = Image.new("RGBA", (300, 300), (*RED, 255))
    image.paste((0, 0, 0, 0), (0, 0, 100, 100))
    large = decode(process_image(encode(image, "PNG")).large)
    assert large.mode == "RGBA"
    assert large.getpixel((20, 20))[3] == 0 and large.getpixel((250, 250))[3] == 255


def test_an_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (120, 80), colour) for colour in (RED, BLUE)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    large = decode(process_image(gif).large)
    assert large.size == (120, 80) and close(large.getpixel((60, 40)), RED)


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP", "GIF"])
def test_the_four_formats_are_accepted(format):
    result = process_image(encode(halves((640, 480)), format))
    assert decode(result.large).format == "WEBP" and result.size == (640, 480)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n",
        "商品图片.png".encode() * 20,
        encode(halves((64, 64)), "TIFF"),  # an image, but not one of the four formats
        encode(halves((64, 64)), "BMP"),
    ],
    ids=["empty", "pdf", "text", "tiff", "bmp"],
)
def test_what_is_not_an_accepted_image_is_refused(data):
    with pytest.raises(ImageRejected) as refused:
        process_image(data)
    assert (refused.value.status, refused.value.code) == (422, "not_an_image")
    assert refused.value.message == "这不是图片文件：请上传 JPEG、PNG、WebP 或 GIF 图片"


def test_a_broken_image_is_refused():
    data = encode(Image.effect_noise((400, 300), 60).convert("RGB"), "PNG")
    with pytest.raises(ImageRejected) as refused:
        process_image(data[: len(data) // 2])
    assert (refused.value.status, refused.value.code) == (422, "broken_image")


def test_a_file_over_the_size_limit_is_refused_before_decoding():
    with pytest.raises(ImageRejected) as refused:
        process_image(b"\xff" * (media.MAX_UPLOAD_BYTES + 1))
    assert (refused.value.status, refused.value.code) == (413, "image_too_large")
    assert refused.value.message == "图片太大了：最大 8 MB"


@pytest.mark.parametrize("side", [20_000, 7_000])  # above Pillow's own limit; above ours only
@pytest.mark.parametrize("warnings_are", ["errors", "ignored"])
def test_a_decompression_bomb_is_refused_from_its_header(side, warnings_are):
    bomb = png_header_only(side, side)
    assert len(bomb) < 60_000
    with warnings.catch_warnings():
        warnings.simplefilter("error" if warnings_are == "errors" else "ignore")
        with pytest.raises(ImageRejected) as refused:
            process_image(bomb)
    assert (refused.value.status, refused.value.code) == (413, "too_many_pixels")
    assert refused.value.message == "图片尺寸太大了（最多 4000 万像素），请缩小后再上传"


def test_the_pixel_limit_is_a_parameter():
    data = encode(halves((300, 300)), "PNG")
    with pytest.raises(ImageRejected):
        process_image(data, max_pixels=300 * 300 - 1)
    assert process_image(data, max_pixels=300 * 300).size == (300, 300)


# -- storage --------------------------------------------------------------------------------------


@pytest.fixture()
def images(tmp_path) -> ProductImages:
    return ProductImages(tmp_path)


def test_saved_files_are_named_by_product_and_content(images, tmp_path):
    image = process_image(encode(halves((500, 500)), "PNG"))
    url = images.save("PH-1", image)
    name = url.removeprefix("/media/products/").removesuffix(".webp")
    assert url.startswith("/media/products/") and len(name) == 32
    folder = tmp_path / "media" / "products"
    assert (folder / f"{name}.webp").read_bytes() == image.large
    assert (folder / f"{name}.thumb.webp").read_bytes() == image.thumbnail
    assert sorted(p.name for p in folder.iterdir()) == [f"{name}.thumb.webp", f"{name}.webp"]
    assert images.save("PH-1", image) == url  # the same image again: the same files
    assert images.save("PH-2", image) != url  # another product's copy is its own


def test_only_the_products_own_files_are_removed(images):
    url = images.save("PH-1", process_image(encode(halves((500, 500)), "PNG")))
    large = images.path(url)
    assert large is not None
    thumbnail = large.with_name(large.stem + ".thumb.webp")
    assert images.owns(url, "PH-1") and not images.owns(url, "PH-2")
    assert images.remove(url, "PH-2") is False and large.exists() and thumbnail.exists()
    assert images.remove(url, "PH-1") is True
    assert not large.exists() and not thumbnail.exists()
    assert images.remove(url, "PH-1") is False  # already gone


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "https://img.example.com/p/1.jpg",
        "/media/products/../../daogou.db",
        "/media/products/abc.webp",
        "/media/products/" + "0" * 32 + ".thumb.webp",
    ],
)
def test_urls_that_are_not_our_uploads_are_left_alone(images, url):
    assert images.path(url) is None
    assert images.remove(url, "PH-1") is False


def test_thumbnail_url_for_our_files_and_others_as_they_are():
    ours = "/media/products/" + "ab" * 16 + ".webp"
    assert thumbnail_url(ours) == "/media/products/" + "ab" * 16 + ".thumb.webp"
    assert thumbnail_url("https://img.example.com/p/1.jpg") == "https://img.example.com/p/1.jpg"
    assert thumbnail_url(None) is None
