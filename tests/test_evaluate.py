"""ganeval.evaluate: one pass gives each metric exactly its own function's dict; each image is decoded once and goes
through Inception once; accumulators merge into what one accumulator of the whole set holds; a stats file serves
as the real set; and 2 gloo processes give the numbers of one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from click.testing import CliRunner

import ganeval
import ganeval.sources
from ganeval.accumulators.features import FeatureStatistics
from ganeval.accumulators.msssim import MSSSIMAccumulator
from ganeval.accumulators.swd import SWDDescriptors
from ganeval.api import evaluate, reference_statistics
from ganeval.errors import GanevalInputError
from ganeval.extractors.inception import InceptionExtractor, load_inception
from ganeval.stats import save_stats
from ganeval_cli.ganeval_cli import main
from tests.helpers import free_port, make_images, smooth_images, write_folder

ALL = ("swd", "msssim", "fid", "kid", "is")
# Small enough for a CPU: 13 images (not a multiple of the batch size or of 2 processes), 5-image KID subsets.
SETTINGS = {"seed": 3, "batch_size": 4, "subset_size": 5, "num_subsets": 4, "splits": 3}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("evaluate")
    return (write_folder(root / "real", make_images(13, 32, seed=11, style="blobs")),
            write_folder(root / "fake", make_images(13, 32, seed=12, style="blobs")))


def separate_calls(real, fake, metric_options: dict, **settings) -> dict:
    """Each metric's own function with the same arguments (msssim and is read the fake set)."""
    common = {"seed": settings["seed"], "batch_size": settings["batch_size"], "device": "cpu"}
    inception = {**metric_options, "batch_size": settings["batch_size"]}
    return {"swd": ganeval.swd(real, fake, **common),
            "msssim": ganeval.msssim(fake, **common),
            "fid": ganeval.fid(real, fake, **inception),
            "kid": ganeval.kid(real, fake, num_subsets=settings["num_subsets"], subset_size=settings["subset_size"],
                               seed=settings["seed"], **inception),
            "is": ganeval.inception_score(fake, splits=settings["splits"], **inception)}


def test_one_pass_equals_the_separate_calls_bit_for_bit(folders, metric_options):
    together = evaluate(*folders, metrics=ALL, **SETTINGS, **metric_options)
    assert together == separate_calls(*folders, metric_options, **SETTINGS)


def test_each_image_is_decoded_once_and_goes_through_inception_once(folders, metric_options, monkeypatch):
    decoded, through_network = [], []
    read_image, call = ganeval.sources.read_image, InceptionExtractor.__call__
    monkeypatch.setattr(ganeval.sources, "read_image", lambda path: (decoded.append(path), read_image(path))[1])
    monkeypatch.setattr(InceptionExtractor, "__call__",
                        lambda self, images: (through_network.append(len(images)), call(self, images))[1])
    evaluate(*folders, metrics=ALL, **SETTINGS, **metric_options)
    assert len(decoded) == len(set(decoded)) == 26
    assert sum(through_network) == 26


def test_a_stats_file_serves_as_the_real_set(folders, metric_options, tmp_path):
    stats = tmp_path / "real.npz"
    save_stats(stats, *reference_statistics(folders[0], ("swd", "fid", "kid"), **SETTINGS, **metric_options))
    from_images = evaluate(*folders, metrics=("swd", "fid", "kid"), **SETTINGS, **metric_options)
    from_stats = evaluate(stats, folders[1], metrics=("swd", "fid", "kid"), **SETTINGS, **metric_options)
    assert from_stats == from_images  # the same descriptors, moments and features, stored and read back
    save_stats(stats, *reference_statistics(folders[0], ("swd",), **SETTINGS, device="cpu"))
    with pytest.raises(GanevalInputError, match="holds no kid statistics .*it holds swd"):
        evaluate(stats, folders[1], metrics=("swd", "kid"), **SETTINGS, **metric_options)


def test_numbers_do_not_depend_on_the_batch_size():
    real, fake = smooth_images(13, 32, seed=21), smooth_images(13, 32, seed=22)
    results = [evaluate(real, fake, metrics=("swd", "msssim"), seed=5, batch_size=size, device="cpu")
               for size in (1, 4, 13)]
    for result in results[1:]:
        assert result["swd"]["swd_x1e3"] == results[0]["swd"]["swd_x1e3"]
        assert result["msssim"]["msssim"] == results[0]["msssim"]["msssim"]


def test_per_metric_image_counts_in_one_pass():
    real, fake = smooth_images(12, 32, seed=23), smooth_images(12, 32, seed=24)
    together = evaluate(real, fake, metrics=("swd", "msssim"), num_images={"swd": 10}, num_pairs=3, device="cpu")
    assert together["swd"] == ganeval.swd(real, fake, num_images=10, device="cpu")
    assert together["msssim"] == ganeval.msssim(fake, num_pairs=3, device="cpu")
    with pytest.raises(GanevalInputError, match="num_images names kid"):
        evaluate(real, fake, metrics=("swd",), num_images={"kid": 3}, device="cpu")


def test_unknown_metrics_and_options_are_named():
    images = smooth_images(4, 16)
    with pytest.raises(GanevalInputError,
                       match="unknown metric.*fdi.*choose from dc, fid, is, kid, ls, msssim, ppl, pr, swd"):
        evaluate(images, images, metrics=("fdi",))
    with pytest.raises(GanevalInputError, match="unknown option.*subsetsize"):
        evaluate(images, images, metrics=("swd",), subsetsize=3)
    with pytest.raises(GanevalInputError, match="swd need.* a REAL set"):
        evaluate(None, images, metrics=("swd",))


def split_batches(images: torch.Tensor, parts: list[range]):
    """(indices, batch) of each part of the set, as separate accumulators would see them."""
    return [(torch.tensor(list(part)), images[list(part)]) for part in parts]


def test_swd_and_msssim_accumulators_merge_into_the_whole_exactly():
    images = torch.from_numpy(smooth_images(9, 32, seed=25))
    whole_swd, whole_msssim = SWDDescriptors(seed=2), MSSSIMAccumulator()
    whole_swd.update(images)
    whole_msssim.update(images)
    # Disjoint, interleaved parts whose borders split pairs (0&1 … 6&7; image 8 has no partner).
    parts = [range(0, 3), range(5, 9), range(3, 5)]
    swd_parts, msssim_parts = [], []
    for indices, batch in split_batches(images, parts):
        swd_part, msssim_part = SWDDescriptors(seed=2), MSSSIMAccumulator()
        swd_part.update(batch, indices)
        msssim_part.update(batch, indices)
        swd_parts.append(swd_part)
        msssim_parts.append(msssim_part)
    for part in swd_parts[1:]:
        swd_parts[0].merge(part)
    for part in msssim_parts[1:]:
        state = part.state_dict()  # through state_dict, as between processes
        received = MSSSIMAccumulator()
        received.load_state_dict(state)
        msssim_parts[0].merge(received)
    for merged, whole in zip(swd_parts[0].compute(), whole_swd.compute(), strict=True):
        assert torch.equal(merged, whole)
    assert msssim_parts[0].compute() == whole_msssim.compute() and whole_msssim.compute()["num_pairs"] == 4


def test_feature_statistics_merge_by_chan(inception_weights):
    extractor = load_inception(inception_weights, device=torch.device("cpu"), allow_unverified_weights=True)
    images = torch.from_numpy(make_images(7, 32, seed=26, style="noise")).permute(0, 3, 1, 2)
    whole = FeatureStatistics(extractor, keep_features=True, keep_logits=True)
    whole.update(images)
    merged = FeatureStatistics(extractor, keep_features=True, keep_logits=True)
    for indices, batch in reversed(split_batches(images, [range(0, 4), range(4, 7)])):
        part = FeatureStatistics(extractor, keep_features=True, keep_logits=True)
        part.update(batch, indices)
        merged.merge(part)
    expected, got = whole.compute(), merged.compute()
    assert got.num_images == 7
    np.testing.assert_allclose(got.mu, expected.mu, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got.sigma, expected.sigma, rtol=1e-10, atol=1e-12)
    # Features and logits come back in image order; batches of 4 and 3 may round the network's float32 output
    # differently from one batch of 7 (oneDNN picks kernels by batch size), so equal to float32 rounding.
    np.testing.assert_allclose(got.features, expected.features, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.logits, expected.logits, rtol=1e-5, atol=1e-5)


def test_the_eval_command_prints_the_library_dict(folders):
    result = CliRunner().invoke(main, ["eval", *map(str, folders), "--metrics", "swd,msssim", "--json",
                                       "--device", "cpu", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == evaluate(*folders, metrics=("swd", "msssim"), seed=3, device="cpu")
    table = CliRunner().invoke(main, ["eval", *map(str, folders), "--device", "cpu"])
    assert "SWD x1e3 average" in table.stdout and "MS-SSIM" in table.stdout


# ---------------------------------------------------------------------------------------------------------------
# Two processes (gloo, CPU): each reads batches b ≡ rank (mod 2); rank 0 merges; both return the same dict.

def _rank_main(rank: int, world_size: int, port: int, arguments: dict, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        result = evaluate(**arguments)
    except GanevalInputError as error:
        result = {"error": str(error)}
    Path(out, f"rank{rank}.json").write_text(json.dumps(result))
    dist.destroy_process_group()


def run_two_processes(arguments: dict, out: Path) -> list[dict]:
    mp.spawn(_rank_main, args=(2, free_port(), arguments, str(out)), nprocs=2, join=True)
    return [json.loads((out / f"rank{rank}.json").read_text()) for rank in range(2)]


@pytest.mark.slow  # spawns processes
def test_two_gloo_processes_give_the_numbers_of_one(folders, metric_options, tmp_path):
    arguments = dict(real=str(folders[0]), fake=str(folders[1]), metrics=ALL, **SETTINGS,
                     **{**metric_options, "inception_weights": str(metric_options["inception_weights"])})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each rank: oneDNN's convolutions may round differently with another thread count
    try:
        one = json.loads(json.dumps(evaluate(**arguments)))
    finally:
        torch.set_num_threads(threads)
    ranks = run_two_processes(arguments, tmp_path)
    assert ranks[0] == ranks[1]
    two = ranks[0]
    # Batches of 4 from 13 images: rank 0 reads images 0–3 and 8–11, rank 1 images 4–7 and 12; the same batches
    # as one process, so descriptors, pairs, features and logits are identical and merge in image order.
    assert two["swd"] == one["swd"] and two["msssim"] == one["msssim"]
    assert two["kid"] == one["kid"] and two["is"] == one["is"]
    # FID's moments merge by Chan's rule in another order: equal to float64 rounding.
    assert two["fid"]["fid"] == pytest.approx(one["fid"]["fid"], rel=1e-10)
    assert {**two["fid"], "fid": None} == {**one["fid"], "fid": None}


@pytest.mark.slow  # spawns processes
def test_bad_input_on_one_process_stops_both_with_its_message(tmp_path):
    folder = write_folder(tmp_path / "set", make_images(8, 16, seed=27, style="noise"))
    (folder / "0005.png").write_bytes(b"not a png")  # in batch 1 (images 4–7): rank 1's share alone
    ranks = run_two_processes(dict(real=str(folder), fake=str(folder), metrics=("swd",), batch_size=4,
                                   device="cpu"), tmp_path)
    assert ranks[0] == ranks[1] and "rank 1:" in ranks[0]["error"] and "0005.png" in ranks[0]["error"]
