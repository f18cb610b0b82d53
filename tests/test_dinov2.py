"""Feature extractors: DINOv2 ViT-L/14 against a by-hand pipeline, the weights look-up, any torch module as features,
and statistics refused across extractors.

The DINOv2 weights are random (written once per session in the official release's format: a 37×37 position grid
and the `mask_token` feature extraction ignores), never downloaded. The by-hand pipeline is dgm-eval's as its
code reads: PIL bicubic resize of each uint8 image to 224×224, /255, ImageNet mean/std, the class token of the
ViT after its last layer norm; the position embeddings resampled by bicubic convolution (Keys, a = −0.75) at the
scale factor (16 + 0.1)/37 with half-pixel centres, as the official model's `interpolate_pos_encoding` calls it.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganeval
import ganeval.extractors.dinov2 as dinov2
from ganeval.errors import GanevalInputError
from ganeval.extractors.base import state_sha256
from ganeval.extractors.inception import file_sha256
from ganeval.kernels.frechet import frechet_distance
from ganeval.kernels.mmd import kid_from_features
from ganeval.stats import save_stats
from tests.helpers import make_images, write_folder

pytestmark = pytest.mark.slow  # ViT-L/14 on a CPU, and a 1.2 GB weights file
timm = pytest.importorskip("timm")

OFFICIAL_GRID = 37  # 518 / 14: the grid the official weights are trained at
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])


def random_dinov2_state() -> dict[str, torch.Tensor]:
    """Official-format random weights: N(0, 0.02) matrices, layer norms near 1, layer scales near 0.3 (so every
    block changes the class token), a 37×37 position grid and a mask token."""
    generator = torch.Generator().manual_seed(0)
    with torch.device("meta"):
        shapes = {name: tensor.shape for name, tensor in timm.create_model(
            "vit_large_patch14_dinov2", pretrained=False, img_size=14 * OFFICIAL_GRID, num_classes=0,
        ).state_dict().items()}
    state = {}
    for name, shape in shapes.items():
        noise = torch.randn(shape, generator=generator)
        if "norm" in name and name.endswith("weight"):
            state[name] = 1 + 0.1 * noise
        elif name.endswith(".gamma"):
            state[name] = 0.3 + 0.05 * noise
        else:
            state[name] = 0.02 * noise
    state["mask_token"] = torch.zeros(1, shapes["cls_token"][-1])
    return state


@pytest.fixture(scope="session")
def dinov2_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's random DINOv2 ViT-L/14 weights file (1.2 GB, official format)."""
    path = tmp_path_factory.getbasetemp() / "random-dinov2_vitl14_pretrain.pth"
    if not path.exists():
        torch.save(random_dinov2_state(), path)
    return path


@pytest.fixture(scope="session")
def small_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Four 48×48 "blobs" and four 40×40 "noise" images: ViT-L on a CPU is slow, so few of them."""
    root = tmp_path_factory.getbasetemp() / "dinov2-images"
    if not root.exists():
        write_folder(root / "real", make_images(4, 48, seed=1, style="blobs"))
        write_folder(root / "fake", make_images(4, 40, seed=2, style="noise"))
    return root / "real", root / "fake"


def keys_cubic(distance: np.ndarray, a: float = -0.75) -> np.ndarray:
    """Keys' cubic convolution kernel."""
    d = np.abs(distance)
    return np.where(d <= 1, (a + 2) * d**3 - (a + 3) * d**2 + 1,
                    np.where(d < 2, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a, 0.0))


def bicubic_matrix(size_in: int, scale: float) -> np.ndarray:
    """The (floor(size_in·scale) × size_in) matrix of bicubic resampling by `scale`: half-pixel centres, source
    coordinate (i + ½)/scale − ½, border samples repeated."""
    size_out = math.floor(size_in * scale)
    matrix = np.zeros((size_out, size_in))
    for i in range(size_out):
        source = (i + 0.5) / scale - 0.5
        base = math.floor(source)
        for tap in range(base - 1, base + 3):
            matrix[i, min(max(tap, 0), size_in - 1)] += keys_cubic(np.array(source - tap))
    return matrix


def by_hand_position_embeddings(position_embeddings: np.ndarray, grid: int) -> np.ndarray:
    """(1, 1 + M², D) → (1, 1 + grid², D): the class token's kept, the patch grid resampled separably."""
    side = math.isqrt(position_embeddings.shape[1] - 1)
    matrix = bicubic_matrix(side, (grid + 0.1) / side)
    patches = position_embeddings[0, 1:].reshape(side, side, -1).astype(np.float64)
    resampled = np.einsum("ia,jb,abd->ijd", matrix, matrix, patches).reshape(grid * grid, -1)
    return np.concatenate([position_embeddings[0, :1], resampled])[None]


def by_hand_features(folder: Path, weights: Path) -> np.ndarray:
    """dgm-eval's DINOv2 features of a folder's images, with timm's ViT loaded from the by-hand resampled grid."""
    state = torch.load(weights, weights_only=True)
    state.pop("mask_token")
    state["pos_embed"] = torch.from_numpy(by_hand_position_embeddings(state["pos_embed"].numpy(), 16)).float()
    network = timm.create_model("vit_large_patch14_dinov2", pretrained=False, img_size=224, num_classes=0)
    network.load_state_dict(state)
    pixels = []
    for path in sorted(folder.iterdir()):
        image = Image.open(path).convert("RGB").resize((224, 224), Image.Resampling.BICUBIC)
        pixels.append((np.asarray(image) / 255 - IMAGENET_MEAN) / IMAGENET_STD)
    batch = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float()
    with torch.inference_mode():
        return network.eval()(batch).numpy()


def test_position_embeddings_are_resampled_as_the_official_model_does() -> None:
    """37×37 → 16×16 equals bicubic convolution at scale (16 + 0.1)/37 written from its definition."""
    embeddings = torch.randn(1, 1 + OFFICIAL_GRID**2, 8, generator=torch.Generator().manual_seed(3))
    ours = dinov2.dinov2_position_embeddings(embeddings, 16)
    assert ours.shape == (1, 257, 8)
    expected = by_hand_position_embeddings(embeddings.numpy(), 16)
    # PyTorch takes source coordinates and cubic weights in float32: ~1e-6 pixel × slopes of ~1 per pixel here.
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-5)
    by_size = torch.nn.functional.interpolate(embeddings[:, 1:].reshape(1, 37, 37, 8).permute(0, 3, 1, 2),
                                              size=(16, 16), mode="bicubic")  # what timm's own resampling does
    assert np.abs(by_size.permute(0, 2, 3, 1).reshape(256, 8).numpy() - expected[0, 1:]).max() > 1e-2
    assert torch.equal(dinov2.dinov2_position_embeddings(ours, 16), ours)  # already 16×16: unchanged


def test_dinov2_pipeline_equals_by_hand_and_the_cli_fd(dinov2_weights: Path, small_folders: tuple[Path, Path],
                                                       cli_json) -> None:
    """Extractor features equal the by-hand pipeline's (float32 rounding), and `ganeval fid --features
    dinov2-vit-l14` is the Fréchet distance of those features."""
    real, fake = small_folders
    expected = {name: by_hand_features(folder, dinov2_weights) for name, folder in (("real", real), ("fake", fake))}
    extractor = dinov2.load_dinov2(dinov2_weights, device=torch.device("cpu"))
    for name, folder in (("real", real), ("fake", fake)):
        images = np.stack([np.asarray(Image.open(path).convert("RGB")) for path in sorted(folder.iterdir())])
        features, logits = extractor(torch.from_numpy(images).permute(0, 3, 1, 2))
        assert logits is None and features.shape == (4, 1024)
        np.testing.assert_allclose(features.numpy(), expected[name], rtol=1e-4, atol=1e-4)
        assert np.abs(expected[name]).mean() > 0.1  # features that differ from zero, so the comparison means something
    result = cli_json("fid", str(real), str(fake), "--features", "dinov2-vit-l14", "--dinov2-weights",
                      str(dinov2_weights), "--device", "cpu")
    moments = [(features.astype(np.float64).mean(0), np.cov(features.astype(np.float64), rowvar=False))
               for features in (expected["real"], expected["fake"])]
    assert result["fid"] == pytest.approx(frechet_distance(*moments[0], *moments[1]), rel=1e-4)
    assert (result["features"], result["feature_dim"], result["input_size"]) == ("dinov2-vit-l14", 1024, 224)
    assert result["comparable_to_published"] is False  # random weights
    assert result["weights_sha256"] == file_sha256(dinov2_weights)


@pytest.fixture
def cli_json() -> object:
    """Run `ganeval ARGS --json` in this process and return the parsed JSON (exit code 0 asserted)."""
    from click.testing import CliRunner

    from ganeval_cli.ganeval_cli import main

    def run(*arguments: str) -> dict:
        outcome = CliRunner().invoke(main, [*arguments, "--json"])
        assert outcome.exit_code == 0, outcome.output
        return json.loads(outcome.stdout)

    return run


def test_weights_are_looked_up_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Argument, then $GANEVAL_DINOV2_WEIGHTS, then torch hub's checkpoints, then timm's copy in the HF cache."""
    hub = Path(torch.hub.get_dir()) / "checkpoints" / "dinov2_vitl14_pretrain.pth"
    hugging_face = (tmp_path / "hf" / "models--timm--vit_large_patch14_dinov2.lvd142m" / "snapshots" / "abc"
                    / "model.safetensors")
    explicit, environment = tmp_path / "given.pth", tmp_path / "env.pth"
    for path in (hub, hugging_face, explicit, environment):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("GANEVAL_DINOV2_WEIGHTS", str(environment))
    assert dinov2.DINOV2_WEIGHTS.find(explicit) == explicit
    assert dinov2.DINOV2_WEIGHTS.find() == environment
    monkeypatch.delenv("GANEVAL_DINOV2_WEIGHTS")
    assert dinov2.DINOV2_WEIGHTS.find() == hub
    hub.unlink()
    assert dinov2.DINOV2_WEIGHTS.find() == hugging_face
    hugging_face.unlink()
    with pytest.raises(GanevalInputError, match="never downloads.*dinov2_vitl14_pretrain.pth"):
        dinov2.DINOV2_WEIGHTS.find()
    with pytest.raises(GanevalInputError, match="--dinov2-weights: .*missing.pth does not exist"):
        dinov2.DINOV2_WEIGHTS.find(tmp_path / "missing.pth")


def test_weights_of_another_network_are_refused(tmp_path: Path) -> None:
    """A state dict that is not ViT-L/14's names what is missing."""
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(GanevalInputError, match="not DINOv2 ViT-L/14 weights"):
        dinov2.load_dinov2(path, device=torch.device("cpu"))


def test_missing_timm_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)
    with pytest.raises(GanevalInputError, match=r"need the timm package: pip install \"ganeval-pggan\[dinov2\]\""):
        dinov2.load_dinov2(tmp_path / "any.pth", device=torch.device("cpu"))


class TinyFeatures(torch.nn.Module):
    """A seeded conv → ReLU → 2×2 average pool: 32-d features of images of any size."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = torch.nn.Conv2d(3, 8, 3)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(images)), 2).flatten(1)


def folder_features(module: torch.nn.Module, folder: Path) -> np.ndarray:
    """The module's features of the folder's images, as uint8 / 255 float32."""
    images = np.stack([np.asarray(Image.open(path).convert("RGB")) for path in sorted(folder.iterdir())])
    with torch.no_grad():
        return module(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255).double().numpy()


def test_any_module_gives_the_frechet_distance_of_its_features(image_folders: tuple[Path, Path]) -> None:
    """features=module: FD and KID on the module's own features; the result names the module and its state."""
    real, fake = image_folders
    module = TinyFeatures()
    result = ganeval.evaluate(real, fake, metrics=("fid", "kid"), features=module, features_name="tiny",
                              device="cpu", subset_size=5, num_subsets=3)
    real_features, fake_features = folder_features(module, real), folder_features(module, fake)
    expected = frechet_distance(real_features.mean(0), np.cov(real_features, rowvar=False),
                                fake_features.mean(0), np.cov(fake_features, rowvar=False))
    # The features are float32 (the convolution may round differently at another batch size); moments are float64.
    assert result["fid"]["fid"] == pytest.approx(expected, rel=1e-6)
    kid = kid_from_features(real_features.astype(np.float32), fake_features.astype(np.float32),
                                        num_subsets=3, subset_size=5, seed=0)
    assert result["kid"]["kid_mean"] == pytest.approx(kid[0], rel=1e-5)
    assert (result["fid"]["features"], result["fid"]["feature_dim"]) == ("tiny", 32)
    assert result["fid"]["weights_sha256"] == state_sha256(module)
    assert result["fid"]["weights_sha256"] != state_sha256(TinyFeatures(seed=1))


def test_stats_are_refused_with_another_extractor(image_folders: tuple[Path, Path], tmp_path: Path,
                                                  metric_options: dict) -> None:
    """Statistics made with one module are refused with another module, and with Inception."""
    real, fake = image_folders
    stats = tmp_path / "real.npz"
    save_stats(stats, *ganeval.reference_statistics(real, ("fid",), features=TinyFeatures(), features_name="tiny",
                                                    device="cpu"))
    same = ganeval.fid(stats, fake, features=TinyFeatures(), features_name="tiny", device="cpu")
    assert same["fid"] == pytest.approx(ganeval.fid(real, fake, features=TinyFeatures(), features_name="tiny",
                                                    device="cpu")["fid"], rel=1e-9)
    with pytest.raises(GanevalInputError, match="computed with weights_sha256="):
        ganeval.fid(stats, fake, features=TinyFeatures(seed=1), features_name="tiny", device="cpu")
    with pytest.raises(GanevalInputError, match="computed with extractor='tiny' but extractor='inception-v3-tf"):
        ganeval.fid(stats, fake, **metric_options)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"features": "dinov2"}, "features must be one of inception-v3-tf, dinov2-vit-l14, vgg16-fc2 or a torch.nn.Module"),
    ({"features": TinyFeatures()}, "a features module needs a name"),
    ({"features": TinyFeatures(), "features_name": "inception-v3-tf"}, "is a built-in extractor's"),
    ({"features": "dinov2-vit-l14", "resize": "clean"}, "resize='clean' applies to the inception-v3-tf features"),
])
def test_bad_feature_options_are_refused(image_folders: tuple[Path, Path], arguments: dict, message: str) -> None:
    real, fake = image_folders
    with pytest.raises(GanevalInputError, match=message):
        ganeval.fid(real, fake, device="cpu", **arguments)


def test_inception_score_needs_inception(image_folders: tuple[Path, Path]) -> None:
    with pytest.raises(GanevalInputError, match="inception-v3-tf features only"):
        ganeval.evaluate(*image_folders, metrics=("is",), features=TinyFeatures(), features_name="tiny", device="cpu")
