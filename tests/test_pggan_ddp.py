"""Data parallelism: 2 gloo ranks (CPU, torch.multiprocessing spawn) make the same update as 1 process.

What makes it exact up to rounding: every rank draws the whole minibatch and keeps its slice (same reals,
latents, GP mixing factors, and StyleGAN's mixing decisions, crossovers, second latents and noise images); w̄
moves by the whole minibatch's mean w (all-reduced); minibatch-stddev groups are consecutive samples, so with 8
samples per rank and group size 4 no group straddles ranks; no batch norm (configs d–h; a–c's BN would see per-rank
statistics); gradients are averaged, matching the full-batch mean loss. Left: the summation order of the
all-reduce and of the per-rank means — rounding only, so the test runs in float64 and allows 1e-9 (observed:
~1e-14 after 16 Adam steps of each network).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from pggan.checkpoint import list_checkpoints, load_checkpoint
from pggan.config import make_config
from pggan.networks import build_networks
from pggan.train import train
from tests.helpers import free_port

pytestmark = pytest.mark.slow  # two ranks: spawned processes


# Per preset, the settings that make its tiny run read every part of the networks: (g) grows 4×4 → 8×8; MSG-GAN
# trains at 8×8 from the start, its D reading the 4×4 image through φ_lin_cat's 1×1 conv; StyleGAN's row F grows
# 4×4 → 8×8 with a 2-layer mapping network, the constant input, noise inputs and style mixing (probability 0.9);
# StyleGAN2's config D adds the modulated style block, lazy R1 (here every 4 D minibatches) and path length
# regularisation (every 2 G minibatches, 8 samples: 4 per rank); E trains the skip G and the residual D at 8×8.
PRESET_SETTINGS = {"g": {}, "msg": {"msg_combine": "lin_cat"}, "stylegan_f": {"mapping_layers": 2},
                   "stylegan2_d": {"mapping_layers": 2, "r1_interval": 4, "pl_interval": 2},
                   "stylegan2_e": {"mapping_layers": 2, "r1_interval": 4, "pl_interval": 2}}
# Per preset, a weight of the 8×8 block, which must have trained.
BLOCK_8_WEIGHT = {"g": "blocks.1.0.weight", "msg": "blocks.1.0.weight", "stylegan_f": "convs.1.weight",
                  "stylegan2_d": "layers.1.conv.weight", "stylegan2_e": "layers.1.conv.weight"}


def tiny_config(data: str, preset: str):
    # 16 images per step → 8 per rank; 4×4 → fade-in → 8×8 within 0.256 kimg (16 D steps, 16 G steps).
    return make_config(preset, **PRESET_SETTINGS[preset], data=data, resolution=8, fmap_base=16, fmap_max=8,
                       latent_size=8, total_kimg=0.256, lod_training_kimg=0.064, lod_transition_kimg=0.064,
                       minibatch_repeats=1, kimg_per_tick=0.128, metrics_num_images=0, grid_size=2,
                       mbstd_group_size=4)


def _rank_main(rank: int, world_size: int, port: int, data: str, out_dir: str, preset: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    train(tiny_config(data, preset), out_dir, progress=False)
    dist.destroy_process_group()


@pytest.fixture
def float64_one_thread():
    previous_dtype, previous_threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(previous_dtype)
    torch.set_num_threads(previous_threads)


@pytest.mark.parametrize("preset", list(PRESET_SETTINGS))
def test_two_gloo_ranks_equal_one_process(tmp_path, float64_one_thread, preset):
    data = tmp_path / "data.npz"
    np.savez(data, images=np.random.default_rng(0).integers(0, 256, (64, 1, 8, 8), dtype=np.uint8))
    config = tiny_config(str(data), preset)
    train(config, tmp_path / "single", progress=False)
    mp.spawn(_rank_main, args=(2, free_port(), str(data), str(tmp_path / "ddp"), preset), nprocs=2, join=True)

    single = load_checkpoint(list_checkpoints(tmp_path / "single")[-1])
    parallel = load_checkpoint(list_checkpoints(tmp_path / "ddp")[-1])
    assert single["counters"]["num_images"] == parallel["counters"]["num_images"] == 256
    worst = 0.0
    for net in ("generator", "discriminator", "generator_ema"):
        for name, value in single[net].items():
            assert value.dtype == torch.float64
            worst = max(worst, (value - parallel[net][name]).abs().max().item())
    if config.pl_weight:  # the path length running mean moves by the whole pass's mean length
        worst = max(worst, abs(single["path_length_mean"]["value"] - parallel["path_length_mean"]["value"]).item())
    print(f'largest weight difference: {worst:.2e}')
    assert worst < 1e-9, worst
    torch.manual_seed(config.seed)  # the initial weights, to show the 8×8 block (and MSG's φ) did train
    initial_g, initial_d = build_networks(config, 1)
    name = BLOCK_8_WEIGHT[preset]
    assert (single["generator"][name] - initial_g.state_dict()[name]).abs().max() > 1e-3
    if config.msg:
        trained = single["discriminator"]["combine.4.conv.weight"]
        assert (trained - initial_d.combine["4"].conv.weight).abs().max() > 1e-3


def test_only_rank_zero_prints_the_final_metrics(tmp_path):
    """`torchrun -m pggan train`: rank 0 prints the metrics JSON; the other ranks print nothing (they printed {})."""
    data = tmp_path / "data.npz"
    np.savez(data, images=np.random.default_rng(0).integers(0, 256, (64, 1, 8, 8), dtype=np.uint8))
    settings = dict(resolution=8, fmap_base=16, fmap_max=8, latent_size=8, total_kimg=0.064, lod_training_kimg=0.032,
                    lod_transition_kimg=0.032, kimg_per_tick=0.064, metrics_num_images=0, mbstd_group_size=4)
    command = [sys.executable, "-m", "pggan", "train", "--data", str(data), "--out", str(tmp_path / "run"),
               "--no-progress", *[arg for name, value in settings.items() for arg in ("--set", f"{name}={value}")]]
    launch = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()), "WORLD_SIZE": "2",
              "OMP_NUM_THREADS": "1"}
    ranks = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**launch, "RANK": str(rank), "LOCAL_RANK": str(rank)}) for rank in range(2)]
    (out_0, err_0), (out_1, err_1) = [rank.communicate(timeout=300) for rank in ranks]
    assert ranks[0].returncode == ranks[1].returncode == 0, err_0 + err_1
    assert json.loads(out_0)["kimg"] == 0.064
    assert out_1 == ""
