"""`pggan prepare --celeba/--lsun` against plain numpy/PIL versions of the reference dataset_tool.py's steps."""

import io

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ganeval.errors import GanevalInputError
from ganeval_cli.pggan_cli import main
from pggan.data import open_images
from pggan.paper_data import prepare_celeba, prepare_lsun


def celeba_folder(root, count=7):
    """`count` random 178×218 RGB PNGs named as CelebA's, and the pixels by file name."""
    folder = root / "img_align_celeba"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    pixels = {}
    for index in range(1, count + 1):
        name = f"{index:06d}.png"
        pixels[name] = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
        Image.fromarray(pixels[name]).save(folder / name)
    return pixels


def reference_celeba(pixels, resolution):
    """create_celeba in plain numpy: sorted names, RandomState(123) order, rows 121±64 and columns 89±64, then
    block means (exact in float32 at these sizes) rounded half to even."""
    names = sorted(pixels)
    order = np.arange(len(names))
    np.random.RandomState(123).shuffle(order)
    crops = np.stack([pixels[names[i]][57:185, 25:153].transpose(2, 0, 1) for i in order]).astype(np.float64)
    factor = 128 // resolution
    blocks = crops.reshape(len(names), 3, resolution, factor, resolution, factor).mean(axis=(3, 5))
    return np.rint(blocks).astype(np.uint8)


@pytest.mark.parametrize("resolution", [128, 32])
def test_celeba_is_the_reference_crop_in_the_reference_order(tmp_path, resolution):
    pixels = celeba_folder(tmp_path / "celeba")
    with pytest.warns(UserWarning, match="202,599"):
        info = prepare_celeba(tmp_path / "celeba", tmp_path / "out.npy", resolution=resolution, progress=False)
    images = open_images(tmp_path / "out.npy")
    assert isinstance(images, np.memmap) and images.shape == (7, 3, resolution, resolution)
    np.testing.assert_array_equal(images, reference_celeba(pixels, resolution))
    assert info == {"path": str(tmp_path / "out.npy"), "num_images": 7, "num_channels": 3, "resolution": resolution}


@pytest.mark.filterwarnings("ignore:.*CelebA has 202,599")
def test_celeba_refuses_an_image_that_is_not_178x218(tmp_path):
    celeba_folder(tmp_path / "celeba", 2)
    Image.new("RGB", (178, 200)).save(tmp_path / "celeba" / "img_align_celeba" / "000003.png")
    with pytest.raises(GanevalInputError, match=r"000003.png: 178×200, not an aligned CelebA image"):
        prepare_celeba(tmp_path / "celeba", tmp_path / "out.npy", progress=False)
    assert list(tmp_path.iterdir()) == [tmp_path / "celeba"]  # no output, no temporary file


def encoded(image: np.ndarray, kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=kind, **({"quality": 95} if kind == "JPEG" else {"lossless": True}))
    return buffer.getvalue()


def reference_lsun(data: bytes, resolution: int) -> np.ndarray:
    """create_lsun's crop and resize in numpy + PIL (decoded with PIL, as the reference's fallback does)."""
    image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    crop = min(image.shape[:2])
    image = image[(image.shape[0] - crop) // 2:(image.shape[0] + crop) // 2,
                  (image.shape[1] - crop) // 2:(image.shape[1] + crop) // 2]
    resized = Image.fromarray(image, "RGB").resize((resolution, resolution), Image.Resampling.LANCZOS)
    return np.asarray(resized).transpose(2, 0, 1)


def lsun_values():
    """(key, value) pairs as the LSUN export holds them: odd and even sizes, landscape and portrait, one too small,
    one grey, one WebP, one value that is not an image."""
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in
              [(90, 131, 3), (77, 64, 3), (40, 90, 3), (64, 64, 3), (101, 70, 3)]]
    grey = rng.integers(0, 256, (70, 96), dtype=np.uint8)
    return [(b"0a1", encoded(images[0], "JPEG")), (b"0b2", encoded(images[1], "WEBP")),
            (b"1c3", encoded(images[2], "JPEG")), (b"2d4", b"not an image"), (b"3e5", encoded(images[3], "JPEG")),
            (b"4f6", encoded(grey, "JPEG")), (b"5a7", encoded(images[4], "JPEG"))]


def test_lsun_lmdb_is_the_reference_crop_and_resize_small_images_skipped(tmp_path):
    lmdb = pytest.importorskip("lmdb")
    values = lsun_values()
    with lmdb.open(str(tmp_path / "bedroom_train_lmdb"), map_size=1 << 24) as environment:
        with environment.begin(write=True) as transaction:
            for key, value in reversed(values):  # lmdb keeps keys sorted whatever the order they arrive in
                transaction.put(key, value)
    info = prepare_lsun(tmp_path / "bedroom_train_lmdb", tmp_path / "out.npy", resolution=64, progress=False)
    kept = [value for key, value in values if key not in (b"1c3", b"2d4")]  # 40 px short side; not an image
    np.testing.assert_array_equal(open_images(tmp_path / "out.npy"), np.stack([reference_lsun(v, 64) for v in kept]))
    assert info["num_images"] == 5 and info["skipped"] == {"smaller than the resolution": 1, "undecodable": 1}
    info = prepare_lsun(tmp_path / "bedroom_train_lmdb", tmp_path / "three.npy", resolution=64, max_images=3,
                        progress=False)
    np.testing.assert_array_equal(open_images(tmp_path / "three.npy"), open_images(tmp_path / "out.npy")[:3])


def test_lsun_folder_of_images_matches_the_lmdb_route(tmp_path):
    folder = tmp_path / "bedroom"
    folder.mkdir()
    values = [(key, value) for key, value in lsun_values() if key != b"2d4"]
    for key, value in values:
        (folder / f"{key.decode()}.{'webp' if key == b'0b2' else 'jpg'}").write_bytes(value)
    info = prepare_lsun(folder, tmp_path / "out.npy", resolution=64, progress=False)
    kept = [value for key, value in values if key != b"1c3"]
    np.testing.assert_array_equal(open_images(tmp_path / "out.npy"), np.stack([reference_lsun(v, 64) for v in kept]))
    assert info["skipped"] == {"smaller than the resolution": 1, "undecodable": 0}


def test_prepare_celeba_on_the_command_line(tmp_path):
    celeba_folder(tmp_path / "celeba", 3)
    result = CliRunner().invoke(main, ["prepare", "--celeba", str(tmp_path / "celeba"), str(tmp_path / "c.npy"),
                                       "--resolution", "16", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout and "3 images" in result.stdout
    assert open_images(tmp_path / "c.npy").shape == (3, 3, 16, 16)


@pytest.mark.filterwarnings("ignore:.*CelebA has 202,599")
def test_celeba_from_the_downloaded_zip_equals_the_extracted_folder(tmp_path):
    """img_align_celeba.zip, as CelebA is downloaded, gives the same bytes as its extracted folder."""
    import zipfile

    pixels = celeba_folder(tmp_path / "celeba", 5)
    with zipfile.ZipFile(tmp_path / "img_align_celeba.zip", "w") as archive:
        for name in sorted(pixels, reverse=True):  # stored out of order: the reference's order comes from the names
            archive.write(tmp_path / "celeba" / "img_align_celeba" / name, f"img_align_celeba/{name}")
    prepare_celeba(tmp_path / "celeba", tmp_path / "folder.npy", resolution=32, progress=False)
    prepare_celeba(tmp_path / "img_align_celeba.zip", tmp_path / "zip.npy", resolution=32, progress=False)
    assert (tmp_path / "zip.npy").read_bytes() == (tmp_path / "folder.npy").read_bytes()
    np.testing.assert_array_equal(open_images(tmp_path / "zip.npy"), reference_celeba(pixels, 32))


@pytest.mark.filterwarnings("ignore:.*CelebA has 202,599")
def test_a_damaged_image_in_the_celeba_zip_is_named(tmp_path):
    import zipfile

    celeba_folder(tmp_path / "celeba", 2)
    with zipfile.ZipFile(tmp_path / "celeba.zip", "w") as archive:
        archive.write(tmp_path / "celeba" / "img_align_celeba" / "000001.png", "img_align_celeba/000001.png")
        archive.writestr("img_align_celeba/000002.png", b"not an image")
    with pytest.raises(GanevalInputError, match=r"celeba.zip/img_align_celeba/000002.png: not a readable image"):
        prepare_celeba(tmp_path / "celeba.zip", tmp_path / "out.npy", progress=False)
