"""`ganeval stats import`: FID statistics written by pytorch-fid, clean-fid and torch-fidelity themselves, in this test,
on a tiny image folder with the random-weight Inception checkpoint; imported bit for bit, with their provenance and
protocol; FID against a fake folder, a mismatched resize and KID refused.

Each peer writes its file with its own code: pytorch-fid's `save_fid_stats`, torch-fidelity's cache
(`calculate_metrics(cache=True)`), clean-fid's `make_custom_stats` (its dataset, resize, moments and file name). The
networks run the random weights: pytorch-fid and clean-fid's legacy_pytorch mode load them through their own
`load_state_dict_from_url` (patched), torch-fidelity through `feature_extractor_weights_path`. clean-fid's clean and
legacy_tensorflow modes run NVIDIA's TorchScript Inception, which is downloaded and cannot be given other weights;
there its feature model is replaced by the peers' networks doing what the TorchScript does: pytorch-fid's network on
(x − 128) / 128 for clean (clean-fid resizes before it), torch-fidelity's network with its TF 1 resize for
legacy_tensorflow (the TorchScript resizes inside). Every other step is clean-fid's own. TTUR runs TensorFlow, which
is not installed: its file is torch-fidelity's moments of the same (TF) protocol saved as TTUR saves them.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganeval.extractors.inception
import ganeval.stats_import
from ganeval import fid, kid
from ganeval.api import load_stats, reference_statistics
from ganeval.errors import GanevalInputError
from ganeval.files import file_sha256
from ganeval.kernels.frechet import frechet_distance
from ganeval.stats_import import import_stats
from ganeval_cli.ganeval_cli import main
from tests.helpers import random_state_dict, relative_error

REPO = Path(__file__).resolve().parents[1]
RELATIVE = 1e-4  # the peers' features against ours (see tests/test_inception_peers.py)
# case → (tool, clean-fid mode, the ganeval resize of the tool's protocol, comparable to published numbers)
CASES = {
    "pytorch-fid": ("pytorch-fid", None, "pytorch-fid", False),
    "clean-fid-clean": ("clean-fid", "clean", "clean", False),
    "clean-fid-legacy_tensorflow": ("clean-fid", "legacy_tensorflow", "tf", True),
    "clean-fid-legacy_pytorch": ("clean-fid", "legacy_pytorch", "pytorch-fid", False),
    "torch-fidelity": ("torch-fidelity", None, "tf", True),
    "ttur": ("ttur", None, "tf", True),
}


def pytorch_fid_stats(real: Path, folder: Path) -> Path:
    """pytorch-fid's `--save-stats` (its `save_fid_stats`) of `real`, on the random weights."""
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    inception = pytest.importorskip("pytorch_fid.inception")
    path = folder / "real.npz"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inception, "load_state_dict_from_url", lambda *args, **kwargs: random_state_dict())
        fid_score.save_fid_stats([str(real), str(path)], batch_size=5, device=torch.device("cpu"), dims=2048,
                                 num_workers=0)
    return path


def torchscript_stand_in(mode: str, weights: Path):
    """A feature model doing what clean-fid's TorchScript Inception does in `mode`, from the peers' networks."""
    if mode == "clean":  # clean-fid resized the images already; InceptionV3W scales them, then runs the layers
        inception = pytest.importorskip("pytorch_fid.inception")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(inception, "load_state_dict_from_url", lambda *args, **kwargs: random_state_dict())
            network = inception.InceptionV3(resize_input=False, normalize_input=False).eval()
        return lambda x: network((x - 128) / 128)[0].flatten(1)
    # legacy_tensorflow: the TorchScript resizes as TF 1 does, inside, from the 0–255 values of the image
    extractor = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    network = extractor.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                                    feature_extractor_weights_path=str(weights))
    return lambda x: network(x.round().to(torch.uint8))[0]


def clean_fid_stats(real: Path, folder: Path, mode: str, weights: Path) -> Path:
    """clean-fid's `make_custom_stats` of `real` in `mode` (written under `folder`, not in its package)."""
    cleanfid = pytest.importorskip("cleanfid")
    from cleanfid import fid as clean_fid
    from cleanfid import inception_pytorch

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cleanfid, "__file__", str(folder / "cleanfid" / "__init__.py"))  # its stats/ folder's place
        patch.setattr(inception_pytorch, "load_state_dict_from_url", lambda *args, **kwargs: random_state_dict())
        if mode != "legacy_pytorch":
            model = torchscript_stand_in(mode, weights)
            patch.setattr(clean_fid, "build_feature_extractor", lambda *args, **kwargs: model)
        clean_fid.make_custom_stats("real", str(real), mode=mode, batch_size=5, device=torch.device("cpu"),
                                    num_workers=0, verbose=False)
    return folder / "cleanfid" / "stats" / f"real_{mode}_custom_na.npz"


def torch_fidelity_stats(real: Path, fake: Path, folder: Path, weights: Path) -> tuple[Path, float]:
    """torch-fidelity's cached FID statistics of `real` (cache name "real"), and its FID against `fake`."""
    torch_fidelity = pytest.importorskip("torch_fidelity")
    metrics = torch_fidelity.calculate_metrics(
        input1=str(real), input2=str(fake), fid=True, cache=True, cache_root=str(folder), input1_cache_name="real",
        feature_extractor_weights_path=str(weights), cuda=False, verbose=False)
    return folder / "real-inception-v3-compat-stat-fid-2048.pt", metrics["frechet_inception_distance"]


@pytest.fixture(scope="module")
def torch_fidelity_run(image_folders, inception_weights, tmp_path_factory) -> tuple[Path, float]:
    """torch-fidelity's cached statistics of the real folder, and its FID against the fake one."""
    return torch_fidelity_stats(*image_folders, tmp_path_factory.mktemp("torch-fidelity"), inception_weights)


def ttur_stats(torch_fidelity_file: Path, folder: Path) -> Path:
    """TTUR's statistics file of the real folder: TTUR runs TensorFlow (not installed), so torch-fidelity's moments
    of the same TF protocol stand in for its graph's, saved as TTUR's `precalc_stats_example.py` saves them."""
    stats = torch.load(torch_fidelity_file, weights_only=False)
    path = folder / "fid_stats_real.npz"
    np.savez_compressed(path, mu=stats["mu"], sigma=stats["sigma"])  # float32 mean, float64 covariance, as TTUR's
    return path


@pytest.fixture(scope="module")
def peer_files(image_folders, inception_weights, tmp_path_factory, request) -> dict[str, Path]:
    """Every case's statistics file, each written by its tool (a case is left out when its tool is not installed)."""
    files = {}
    for case, (tool, mode, _, _) in CASES.items():
        folder = tmp_path_factory.mktemp(case)
        try:
            if tool == "pytorch-fid":
                files[case] = pytorch_fid_stats(image_folders[0], folder)
            elif tool == "clean-fid":
                files[case] = clean_fid_stats(image_folders[0], folder, mode, inception_weights)
            elif tool == "ttur":
                files[case] = ttur_stats(request.getfixturevalue("torch_fidelity_run")[0], folder)
            else:
                files[case] = request.getfixturevalue("torch_fidelity_run")[0]
        except pytest.skip.Exception:
            continue
    return files


def peer_file(peer_files: dict[str, Path], case: str) -> Path:
    if case not in peer_files:
        pytest.skip(f"{CASES[case][0]} is not installed")
    return peer_files[case]


def peer_moments(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The peer's own mu and sigma, read as the peer reads them."""
    if path.suffix == ".pt":
        stats = torch.load(path, weights_only=False)
    else:
        stats = np.load(path)
    return stats["mu"], stats["sigma"]


@pytest.fixture(scope="module")
def ganeval_moments(image_folders, inception_weights) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """ganeval's FID moments of each folder with each resize mode, made on first use."""
    made: dict[tuple[str, str], dict[str, np.ndarray]] = {}

    def moments(which: str, resize: str) -> dict[str, np.ndarray]:
        if (which, resize) not in made:
            folder = image_folders[0 if which == "real" else 1]
            arrays, _ = reference_statistics(folder, ("fid",), inception_weights=inception_weights,
                                             allow_unverified_weights=True, device="cpu", resize=resize)
            made[which, resize] = arrays["fid"]
        return made[which, resize]

    return moments


def run(*args: object) -> object:
    return CliRunner().invoke(main, [str(arg) for arg in args])


@pytest.mark.slow  # runs the peers (peer_files)
@pytest.mark.parametrize("case", CASES)
def test_import_keeps_the_moments_bit_for_bit_and_records_where_they_came_from(case, peer_files, inception_weights,
                                                                               tmp_path):
    tool, mode, resize, _ = CASES[case]
    source = peer_file(peer_files, case)
    output = tmp_path / "imported.npz"
    result = run("stats", "import", source, "-o", output, "--from", tool, "--tool-version", "9.9",
                 "--inception-weights", inception_weights, "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    stats = load_stats(output)
    mu, sigma = peer_moments(source)
    for ours, theirs in ((stats.arrays["fid"]["mu"], mu), (stats.arrays["fid"]["sigma"], sigma)):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape and ours.tobytes() == theirs.tobytes()
    record = stats.protocol["fid"]
    assert record["num_images"] is None
    assert record["settings"] == {"extractor": ganeval.extractors.inception.EXTRACTOR_ID, "resize": resize,
                                  "weights_sha256": file_sha256(inception_weights)}
    assert record["imported"] == {
        "tool": tool, "tool_version": "9.9", "mode": mode, "protocol": printed["protocol"],
        "source": str(source.resolve()), "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest()}
    assert record["comparable_to_published"] is False  # the random weights are not the published ones
    assert {key: printed[key] for key in ("tool", "mode", "resize", "comparable_to_published")} == {
        "tool": tool, "mode": mode, "resize": resize, "comparable_to_published": False}


@pytest.mark.slow  # runs the peers (peer_files)
@pytest.mark.parametrize("case", CASES)
def test_the_tools_protocol_is_the_resize_recorded(case, peer_files, ganeval_moments):
    # ganeval's own moments of the same real folder, with the resize recorded for the tool, are the tool's moments.
    tool, _, resize, _ = CASES[case]
    mu, sigma = peer_moments(peer_file(peer_files, case))
    ours = ganeval_moments("real", resize)
    assert relative_error(ours["mu"], mu) < RELATIVE and relative_error(ours["sigma"], sigma) < RELATIVE
    for other in {"tf", "clean", "pytorch-fid"} - {resize}:  # and not another protocol's: the check can fail
        assert relative_error(ganeval_moments("real", other)["mu"], mu) > 10 * RELATIVE


@pytest.mark.slow  # runs the peers (peer_files)
@pytest.mark.parametrize("case", CASES)
def test_fid_against_a_fake_folder_is_the_frechet_distance_and_comparable_only_for_the_tf_protocol(
        case, peer_files, image_folders, inception_weights, metric_options, ganeval_moments, monkeypatch, tmp_path):
    # The random checkpoint poses as the published file, so ganeval's rule, not the weights, decides comparability.
    tool, _, resize, comparable = CASES[case]
    for module in (ganeval.extractors.inception, ganeval.stats_import):
        monkeypatch.setattr(module, "WEIGHTS_SHA256", file_sha256(inception_weights))
    source = peer_file(peer_files, case)
    record = import_stats(source, tmp_path / "imported.npz", tool=tool)
    assert record["comparable_to_published"] is comparable
    result = fid(tmp_path / "imported.npz", image_folders[1], resize=resize, **metric_options)
    mu, sigma = peer_moments(source)
    fake = ganeval_moments("fake", resize)
    assert result["fid"] == frechet_distance(mu, sigma, fake["mu"], fake["sigma"])
    assert result["num_images"] == [None, 10] and result["resize"] == resize
    assert result["comparable_to_published"] is comparable


@pytest.mark.slow  # runs the peers (peer_files)
def test_fid_command_on_imported_statistics(peer_files, image_folders, inception_weights, tmp_path):
    import_stats(peer_file(peer_files, "pytorch-fid"), tmp_path / "imported.npz", tool="pytorch-fid",
                 inception_weights=inception_weights)
    result = run("fid", tmp_path / "imported.npz", image_folders[1], "--resize", "pytorch-fid", "--inception-weights",
                 inception_weights, "--allow-unverified-weights", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "unknown vs 10" in result.stdout and "comparable to published  no" in result.stdout


@pytest.mark.slow  # runs the peers (torch_fidelity_run)
def test_torch_fidelity_fid_equals_ganeval_fid_against_its_imported_statistics(torch_fidelity_run, image_folders,
                                                                               inception_weights, metric_options,
                                                                               tmp_path):
    source, theirs = torch_fidelity_run
    import_stats(source, tmp_path / "imported.npz", tool="torch-fidelity", inception_weights=inception_weights)
    ours = fid(tmp_path / "imported.npz", image_folders[1], **metric_options)["fid"]
    assert abs(ours - theirs) < RELATIVE * theirs


@pytest.mark.slow  # runs the peers (peer_files)
@pytest.mark.parametrize("case", ["pytorch-fid", "clean-fid-clean", "torch-fidelity"])
def test_another_resize_is_refused_naming_the_option_to_give(case, peer_files, image_folders, inception_weights,
                                                             tmp_path):
    tool, _, resize, _ = CASES[case]
    import_stats(peer_file(peer_files, case), tmp_path / "imported.npz", tool=tool, inception_weights=inception_weights)
    other = "clean" if resize == "tf" else "tf"
    result = run("fid", tmp_path / "imported.npz", image_folders[1], "--resize", other, "--inception-weights",
                 inception_weights, "--allow-unverified-weights", "--device", "cpu")
    assert result.exit_code == 2 and f"need resize={resize!r}" in result.stderr
    assert f"run with --resize {resize}" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # runs the peers (peer_files)
def test_published_weights_recorded_by_default_and_other_weights_refused(peer_files, image_folders, metric_options,
                                                                          tmp_path):
    import_stats(peer_file(peer_files, "torch-fidelity"), tmp_path / "imported.npz", tool="torch-fidelity")
    assert load_stats(tmp_path / "imported.npz").protocol["fid"]["settings"]["weights_sha256"] == (
        ganeval.extractors.inception.WEIGHTS_SHA256)
    with pytest.raises(GanevalInputError, match="need weights_sha256=.*--inception-weights"):
        fid(tmp_path / "imported.npz", image_folders[1], **metric_options)


@pytest.mark.slow  # runs the peers (peer_files)
def test_kid_from_imported_statistics_is_refused(peer_files, image_folders, inception_weights, metric_options,
                                                 tmp_path):
    import_stats(peer_file(peer_files, "pytorch-fid"), tmp_path / "imported.npz", tool="pytorch-fid",
                 inception_weights=inception_weights)
    with pytest.raises(GanevalInputError, match="only FID's mean and covariance, no features: kid needs the real"):
        kid(tmp_path / "imported.npz", image_folders[1], resize="pytorch-fid", subset_size=5, **metric_options)
    result = run("eval", tmp_path / "imported.npz", image_folders[1], "--metrics", "swd", "--device", "cpu")
    assert result.exit_code == 2 and "imported from pytorch-fid" in result.stderr


@pytest.mark.slow  # runs the peers (peer_files)
def test_fid_of_two_imported_files_needs_no_images(peer_files, tmp_path):
    for case in ("clean-fid-legacy_tensorflow", "torch-fidelity"):
        import_stats(peer_file(peer_files, case), tmp_path / f"{case}.npz", tool=CASES[case][0])
    result = fid(tmp_path / "clean-fid-legacy_tensorflow.npz", tmp_path / "torch-fidelity.npz")
    mu1, sigma1 = peer_moments(peer_files["clean-fid-legacy_tensorflow"])
    mu2, sigma2 = peer_moments(peer_files["torch-fidelity"])
    assert result["fid"] == frechet_distance(mu1, sigma1, mu2, sigma2)
    assert result["num_images"] == [None, None] and result["comparable_to_published"] is True


@pytest.mark.slow  # runs the peers (peer_files)
def test_clean_fid_mode_from_the_name_or_from_mode(peer_files, tmp_path):
    source = peer_file(peer_files, "clean-fid-legacy_pytorch")
    renamed = tmp_path / "cifar10-reference.npz"
    renamed.write_bytes(source.read_bytes())
    with pytest.raises(GanevalInputError, match="does not say which clean-fid mode.*give --mode"):
        import_stats(renamed, tmp_path / "out.npz", tool="clean-fid")
    record = import_stats(renamed, tmp_path / "out.npz", tool="clean-fid", mode="legacy_pytorch")
    assert record["settings"]["resize"] == "pytorch-fid" and record["imported"]["mode"] == "legacy_pytorch"
    with pytest.raises(GanevalInputError, match="its name says clean-fid mode legacy_pytorch, but --mode clean"):
        import_stats(source, tmp_path / "out.npz", tool="clean-fid", mode="clean")
    clip = tmp_path / "ffhq_clean_clip_vit_b_32_trainval70k_1024.npz"
    clip.write_bytes(source.read_bytes())
    with pytest.raises(GanevalInputError, match="statistics of clip_vit_b_32 features"):
        import_stats(clip, tmp_path / "out.npz", tool="clean-fid")
    with pytest.raises(GanevalInputError, match="--mode is clean-fid's"):
        import_stats(source, tmp_path / "out.npz", tool="pytorch-fid", mode="clean")


@pytest.mark.slow  # runs the peers (peer_files)
def test_torch_fidelity_file_under_another_name_is_refused(peer_files, tmp_path):
    renamed = tmp_path / "cifar10.pt"
    renamed.write_bytes(peer_file(peer_files, "torch-fidelity").read_bytes())
    with pytest.raises(GanevalInputError, match="inception-v3-compat-stat-fid-2048.pt"):
        import_stats(renamed, tmp_path / "out.npz", tool="torch-fidelity")


def test_a_pickle_with_code_is_not_loaded_as_torch_fidelity_statistics(tmp_path):
    source = tmp_path / "evil-inception-v3-compat-stat-fid-2048.pt"
    torch.save({"mu": np.zeros(2048), "sigma": np.eye(2048), "payload": print}, source)
    with pytest.raises(GanevalInputError, match="not a readable torch-fidelity statistics file"):
        import_stats(source, tmp_path / "out.npz", tool="torch-fidelity")


@pytest.mark.slow  # runs the peers (peer_files)
def test_importing_onto_the_source_file_is_refused(peer_files, tmp_path):
    source = tmp_path / "real.npz"
    source.write_bytes(peer_file(peer_files, "pytorch-fid").read_bytes())
    with pytest.raises(GanevalInputError, match="is the file being imported"):
        import_stats(source, source, tool="pytorch-fid")


def test_stats_still_computes_and_its_help_names_import():
    assert "ganeval stats import FILE" in run("stats", "--help").stdout
    assert "stats import [OPTIONS] FILE" in run("stats", "import", "--help").stdout


@pytest.mark.slow  # spawns processes
def test_import_help_imports_no_torch():
    code = ("import sys; from click.testing import CliRunner; from ganeval_cli.ganeval_cli import main; "
            "assert CliRunner().invoke(main, ['stats', 'import', '--help']).exit_code == 0; "
            "assert CliRunner().invoke(main, ['stats', 'import', 'f.npz', '--from', 'x']).exit_code == 2; "
            "print(sorted({'torch', 'numpy'} & set(sys.modules)))")
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0 and completed.stdout.strip() == "[]", completed.stderr
