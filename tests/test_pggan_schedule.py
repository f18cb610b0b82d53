"""The growing schedule against hand-computed values (reference TrainingSchedule arithmetic)."""

import pytest

from pggan.config import TrainConfig, make_config
from pggan.schedule import ScheduleEta, resolution_stretches, schedule
from pggan.train import ema_beta

CONFIG = TrainConfig(resolution=32, lod_training_kimg=600, lod_transition_kimg=600, minibatch_base=16,
                     minibatch_dict={32: 8}, g_lr=0.001, d_lr=0.002, lr_dict={16: 0.0015})


@pytest.mark.parametrize(("kimg", "lod", "resolution", "alpha", "minibatch", "g_lr", "d_lr"), [
    # log2(32) = 5, so lod starts at 5 − 2 = 3 (4×4); a phase is 600 + 600 = 1200 kimg.
    (0.0, 3.0, 4, 1.0, 16, 0.001, 0.002),  # phase 0, phase_kimg 0 → lod 3, res 2**(5−3) = 4
    (600.0, 3.0, 4, 1.0, 16, 0.001, 0.002),  # phase 0, max(600 − 600, 0)/600 = 0 → still 4×4, fade not begun
    (900.0, 2.5, 8, 0.5, 16, 0.001, 0.002),  # phase 0: lod 3 − (900 − 600)/600 = 2.5 → res 2**(5−2) = 8, α = 0.5
    (1200.0, 2.0, 8, 1.0, 16, 0.001, 0.002),  # phase 1, phase_kimg 0 → lod 3 − 1 = 2, res 8, α 1
    (2250.0, 1.25, 16, 0.75, 16, 0.0015, 0.0015),  # phase 1, kimg 1050: lod 2 − 450/600 = 1.25 → res 16, α .75
    (3300.0, 0.5, 32, 0.5, 8, 0.001, 0.002),  # phase 2 (3300/1200 = 2.75), kimg 900 → lod 1 − 0.5; mb dict 32→8
    (10000.0, 0.0, 32, 1.0, 8, 0.001, 0.002),  # phase 8 → lod 3 − 8 < 0, clamped to 0
])
def test_schedule_matches_hand_computed_values(kimg, lod, resolution, alpha, minibatch, g_lr, d_lr):
    state = schedule(kimg, CONFIG)
    assert state.lod == pytest.approx(lod, abs=1e-12)
    assert (state.resolution, state.minibatch) == (resolution, minibatch)
    assert state.alpha == pytest.approx(alpha, abs=1e-12)
    assert (state.g_lr, state.d_lr) == (g_lr, d_lr)


def test_no_growing_trains_at_full_resolution_throughout():
    config = CONFIG.replace(progressive=False)
    for kimg in (0.0, 900.0, 5000.0):
        state = schedule(kimg, config)
        assert (state.lod, state.resolution, state.alpha) == (0.0, 32, 1.0)


def test_zero_transition_jumps_resolution():
    # training 100, transition 0: phase = floor(kimg / 100); at kimg 150 → phase 1 → lod 3 − 1 = 2 → 8×8, α 1.
    state = schedule(150.0, CONFIG.replace(lod_training_kimg=100, lod_transition_kimg=0))
    assert (state.lod, state.resolution, state.alpha) == (2.0, 8, 1.0)


@pytest.mark.parametrize(("preset", "per_step_decay"), [("a", 0.999**20), ("b", 0.999**20), ("c", 0.999**5),
                                                       ("d", 0.999), ("g", 0.999), ("h", 0.999)])
def test_ema_half_life_gives_the_references_per_step_decay_of_every_row(preset, per_step_decay):
    # The reference's decays: 0.999 per G step of 16 images in (d)–(h), raised to the 20th power for 64 × 5 images
    # per G step in (a)–(b) and the 5th for 16 × 5 in (c): one half-life in images, 16 · ln ½ / ln 0.999.
    config = make_config(preset)
    images_per_g_step = config.minibatch_base * config.n_critic
    assert ema_beta(config, images_per_g_step, 10**9) == pytest.approx(per_step_decay, rel=1e-12)


def test_ema_rampup_caps_the_half_life_and_zero_is_raw_g():
    config = make_config("g", ema_rampup=0.05)
    # After 1,600 images the half-life is 0.05 · 1,600 = 80 images: β = 0.5^(16/80).
    assert ema_beta(config, 16, 1600) == pytest.approx(0.5 ** (16 / 80), rel=1e-15)
    assert ema_beta(config, 16, 10**9) == pytest.approx(0.999, rel=1e-12)  # the cap no longer binds
    assert ema_beta(config, 16, 0) == 0.0  # the first step copies G
    assert ema_beta(make_config("g", ema_kimg=0.0), 16, 10**6) == 0.0


@pytest.mark.parametrize("lengths", [(600, 600), (100, 0), (0, 100), (250, 700)])
@pytest.mark.parametrize("progressive", [True, False])
def test_resolution_stretches_follow_the_schedule(lengths, progressive):
    config = CONFIG.replace(lod_training_kimg=lengths[0], lod_transition_kimg=lengths[1], total_kimg=5000,
                            progressive=progressive)
    stretches = resolution_stretches(config)
    assert stretches[0][0] == 0 and stretches[-1][1] == 5000
    assert all(stretches[index][1] == stretches[index + 1][0] for index in range(len(stretches) - 1))
    for kimg in [step * 7.3 for step in range(1, 685)]:  # up to 5000, never on a boundary
        resolution = next(size for start, end, size in stretches if start <= kimg < end)
        assert resolution == schedule(kimg, config).resolution, kimg


class FakeClock:
    """Time that moves only when the test says."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_eta_charges_each_resolution_its_own_cost_per_image():
    # The quick budget's schedule (4×4 to 8 kimg, 8×8 to 24, 16×16 to 40, 32×32 to 64), scripted with a fake clock:
    # every image costs 1, 2, 5 and 12 ms at 4, 8, 16 and 32 px; one record per 64 images, as the loop makes. The
    # first step of each resolution costs 3 s more (start-up, new layers): left out of the measurement.
    config = make_config("g", "quick")
    cost = {4: 0.001, 8: 0.002, 16: 0.005, 32: 0.012}
    assert resolution_stretches(config) == [(0.0, 8.0, 4), (8.0, 24.0, 8), (24.0, 40.0, 16), (40.0, 64.0, 32)]
    clock = FakeClock()
    eta = ScheduleEta(config, clock=clock)
    assert eta.seconds_left(0.0) == float("inf")  # nothing measured yet
    seen = {}
    for step in range(1000):
        kimg = step * 0.064
        resolution = schedule(kimg, config).resolution
        clock.now += 64 * cost[resolution] + (3 if resolution not in eta.started else 0)
        eta.record(resolution, 64)
        seen[round(kimg + 0.064, 3)] = eta.seconds_left(kimg + 0.064)
    true_left = {kimg: sum(max(end - max(start, kimg), 0) * 1000 * cost[size] for start, end, size in
                           resolution_stretches(config)) for kimg in seen}
    # At 4×4 only: 8×8 and above modelled by the pixel count, 4× per doubling (pessimistic here).
    assert seen[4.032] == pytest.approx((8 - 4.032) * 1 + 16 * 4 + 16 * 16 + 24 * 64)
    # 4 and 8 seen: 2× per doubling measured, so 16×16 at 4 ms and 32×32 at 8 ms (the truth: 5 and 12).
    assert seen[12.032] == pytest.approx((24 - 12.032) * 2 + 16 * 4 + 24 * 8)
    # 16 seen: 2.5× per doubling → 32×32 at 12.5 ms.
    assert seen[32.0] == pytest.approx((40 - 32) * 5 + 24 * 12.5)
    # Every resolution seen: the ETA is the time left, where a constant rate is far too hopeful.
    assert seen[48.0] == pytest.approx(true_left[48.0]) == pytest.approx(16 * 12)
    constant_rate = (64 - 16.0) / (16.0 / (8 * 1 + 8 * 2))  # at 16 kimg, the average rate so far
    assert constant_rate < true_left[16.0] / 3
    assert seen[64.0] == 0
