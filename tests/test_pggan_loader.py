"""Streamed training data: the same draws and weights as the in-memory path, bounded memory, the loader thread's
errors and lifetime."""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

import pggan.loader
from ganeval.errors import GanevalInputError
from pggan.checkpoint import list_checkpoints, load_checkpoint
from pggan.loader import Minibatches, TrainingImages
from pggan.train import resume, train
from tests.helpers import tiny, weights

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny networks: single-threaded (tests/conftest.py)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def npy_dataset(tmp_path_factory) -> Path:
    """200 random 16×16 RGB images in an .npy (training at 8×8 area-downsamples each minibatch)."""
    path = tmp_path_factory.mktemp("data") / "tiny16.npy"
    np.save(path, np.random.default_rng(0).integers(0, 256, (200, 3, 16, 16), dtype=np.uint8))
    return path


def test_streamed_training_gives_the_in_memory_weights_bit_for_bit(npy_dataset, tmp_path):
    # Minibatch 16 at 4×4 and 8 at 8×8: the look-ahead drawn at the old size is undone when the size changes.
    runs = {}
    for streaming in ("off", "on"):
        config = tiny("g", npy_dataset, data_streaming=streaming, minibatch_dict={4: 16, 8: 8}, snapshot_ticks=2)
        train(config, tmp_path / streaming, progress=False)
        runs[streaming] = load_checkpoint(list_checkpoints(tmp_path / streaming)[-1])
    memory, streamed = runs["off"], runs["on"]
    for name, value in weights(memory).items():
        assert torch.equal(value, weights(streamed)[name]), name
    assert torch.equal(memory["rng"]["sampler"], streamed["rng"]["sampler"])
    logs = [[{k: v for k, v in json.loads(line).items() if "second" not in k}
             for line in (tmp_path / mode / "log.jsonl").read_text().splitlines()] for mode in ("off", "on")]
    assert logs[0] == logs[1]
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("pggan-gather")]
    # Resumed from the middle checkpoint (tick 2 of 4), the streamed run ends where it ended uninterrupted.
    shutil.copytree(tmp_path / "on", tmp_path / "resumed")
    list_checkpoints(tmp_path / "resumed")[-1].unlink()
    resume(tmp_path / "resumed", progress=False)
    resumed = load_checkpoint(list_checkpoints(tmp_path / "resumed")[-1])
    for name, value in weights(streamed).items():
        assert torch.equal(value, weights(resumed)[name]), name
    assert torch.equal(streamed["rng"]["sampler"], resumed["rng"]["sampler"])


def test_the_look_ahead_draws_what_drawing_on_demand_draws(npy_dataset):
    sizes = [4, 4, 4, 8, 8, 4, 4, 8]
    memory = TrainingImages(str(npy_dataset), 8, torch.device("cpu"), "off")
    streamed = TrainingImages(str(npy_dataset), 8, torch.device("cpu"), "on")
    on_demand, ahead = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    with Minibatches(on_demand, memory, 3) as plain, Minibatches(ahead, streamed, 3) as prefetched:
        for step, size in enumerate(sizes):
            wants = dict(with_reals=step % 3 != 2, following_with_reals=step % 3 != 1)  # D, D, G, D, D, G, …
            a, b = plain.next(size, **wants), prefetched.next(size, **wants)
            assert a.keys() == b.keys()
            for name in a:
                assert torch.equal(a[name], b[name]), (step, name)
            assert torch.equal(plain.sampler_state(), prefetched.sampler_state())
    np.testing.assert_array_equal(memory.first(50), streamed.first(50))
    assert memory.first(50).shape == (50, 3, 8, 8)


def test_an_error_in_the_loader_thread_is_raised_in_training_and_the_thread_ends(npy_dataset, tmp_path, monkeypatch):
    real_gather = TrainingImages.gather
    calls = []

    def failing_gather(self, indices):
        calls.append(threading.current_thread().name)
        if len(calls) == 5:
            raise OSError(5, "Input/output error")
        return real_gather(self, indices)

    monkeypatch.setattr(TrainingImages, "gather", failing_gather)
    with pytest.raises(OSError, match="Input/output error"):
        train(tiny("g", npy_dataset, data_streaming="on"), tmp_path, progress=False)
    assert any(name.startswith("pggan-gather") for name in calls)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("pggan-gather")]


def test_auto_streams_only_a_large_npy(npy_dataset, tmp_path, monkeypatch):
    np.savez(tmp_path / "small.npz", images=np.load(npy_dataset))
    assert not TrainingImages(str(npy_dataset), 8, torch.device("cpu"), "auto").streamed
    assert not TrainingImages(str(tmp_path / "small.npz"), 8, torch.device("cpu"), "auto").streamed
    monkeypatch.setattr(pggan.loader, "STREAM_ABOVE_BYTES", 1000)
    assert TrainingImages(str(npy_dataset), 8, torch.device("cpu"), "auto").streamed
    assert not TrainingImages(str(tmp_path / "small.npz"), 8, torch.device("cpu"), "auto").streamed


BOUNDED_RUN = """
import resource, sys
import torch
from pggan.config import make_config
from pggan.train import resume, train
torch.set_num_threads(1)
limit = int(sys.argv[3])
if limit:
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
config = make_config("g", data=sys.argv[1], resolution=8, fmap_base=16, fmap_max=8, latent_size=8, total_kimg=0.128,
                     lod_training_kimg=0.032, lod_transition_kimg=0.032, minibatch_repeats=1, kimg_per_tick=0.064,
                     metrics_num_images=0, grid_size=2, device="cpu", data_streaming=sys.argv[4])
train(config, sys.argv[2], progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _bounded_run(data: Path, out: Path, limit: int, streaming: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BOUNDED_RUN, str(data), str(out), str(limit), streaming],
                          capture_output=True, text=True, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          timeout=300)


@pytest.mark.slow  # spawns processes
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA bounds private memory on Linux")
def test_a_set_larger_than_the_memory_limit_trains_streamed(tmp_path):
    """A 400 MB set trains under a limit of (a tiny run's own needs + 200 MB) of private memory; in memory it cannot.

    RLIMIT_DATA, not RLIMIT_AS: a read-only file mapping takes address space for the whole file but no memory
    (its pages are the page cache's, dropped under pressure), and RLIMIT_DATA counts only private memory."""
    small = tmp_path / "small.npy"
    np.save(small, np.random.default_rng(0).integers(0, 256, (64, 3, 64, 64), dtype=np.uint8))
    measured = _bounded_run(small, tmp_path / "measure", 0, "off")
    assert measured.returncode == 0, measured.stderr
    needed = int(measured.stdout.split()[-1]) * 1024  # peak resident set of a tiny run, bytes
    big = tmp_path / "big.npy"
    count = 400_000_000 // (3 * 64 * 64)
    images = np.lib.format.open_memmap(big, mode="w+", dtype=np.uint8, shape=(count, 3, 64, 64))
    for start in range(0, count, 8192):
        images[start:start + 8192] = np.random.default_rng(start).integers(0, 256, images[start:start + 8192].shape,
                                                                           dtype=np.uint8)
    images.flush()
    del images
    limit = needed + 200_000_000
    streamed = _bounded_run(big, tmp_path / "streamed", limit, "on")
    assert streamed.returncode == 0, streamed.stderr
    assert len(list_checkpoints(tmp_path / "streamed")) >= 1
    in_memory = _bounded_run(big, tmp_path / "in-memory", limit, "off")
    assert in_memory.returncode != 0 and "memory" in in_memory.stderr.lower(), in_memory.stderr[-2000:]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.cuda
def test_streamed_minibatches_arrive_on_the_gpu_as_in_memory(npy_dataset):
    device = torch.device("cuda")
    memory = TrainingImages(str(npy_dataset), 8, device, "off")
    streamed = TrainingImages(str(npy_dataset), 8, device, "on")
    with Minibatches(torch.Generator().manual_seed(1), memory, 3) as a, \
            Minibatches(torch.Generator().manual_seed(1), streamed, 3) as b:
        for _ in range(4):
            x, y = a.next(8), b.next(8)
            assert y["reals"].device.type == "cuda" and torch.equal(x["reals"], y["reals"])


def test_a_data_file_truncated_while_streamed_stops_with_its_name(npy_dataset, tmp_path):
    """A read past the end of a truncated mapping would kill the process (SIGBUS): each gather checks the file's size
    and reads with pread."""
    path = tmp_path / "data.npy"
    shutil.copy(npy_dataset, path)
    images = TrainingImages(str(path), 8, torch.device("cpu"), "on")
    assert images.gather(torch.tensor([0, 199])).shape == (2, 3, 8, 8)
    os.truncate(path, path.stat().st_size // 2)
    with pytest.raises(GanevalInputError, match=rf"{path}: the data file shrank to .* while training read it"):
        images.gather(torch.tensor([199]))


def test_a_data_file_replaced_while_streamed_is_read_as_it_was_opened(npy_dataset, tmp_path):
    """A run reads the file it opened to the end; `pggan resume` then compares the data's identity."""
    path = tmp_path / "data.npy"
    shutil.copy(npy_dataset, path)
    images = TrainingImages(str(path), 16, torch.device("cpu"), "on")
    before = images.gather(torch.tensor([0, 199]))
    np.save(tmp_path / "other.npy", np.zeros((200, 3, 16, 16), np.uint8))
    os.replace(tmp_path / "other.npy", path)
    assert torch.equal(images.gather(torch.tensor([0, 199])), before)


def test_resume_refuses_data_other_than_the_run_started_with(npy_dataset, tmp_path):
    path = tmp_path / "data.npy"
    shutil.copy(npy_dataset, path)
    config = tiny("g", path, total_kimg=0.128)
    train(config, tmp_path / "run", progress=False)
    assert load_checkpoint(list_checkpoints(tmp_path / "run")[-1], ())["data_identity"]["shape"] == [200, 3, 16, 16]
    data = np.load(path)
    data[0] = 255 - data[0]  # the same shape and size, another first image (always among those hashed)
    np.save(path, data)
    (tmp_path / "run" / "metrics.json").unlink()
    with pytest.raises(GanevalInputError, match=r"data.npy: not the data this run started with \(sample sha256"):
        resume(tmp_path / "run", progress=False)
