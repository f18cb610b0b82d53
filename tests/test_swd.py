"""SWD: the fast torch/numpy path against the plain oracle (tests/oracle_swd.py) on the same random choices."""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.ndimage
import scipy.stats
import torch

import ganeval
from ganeval.accumulators.swd import SWDDescriptors
from ganeval.api import reference_statistics
from ganeval.defaults import STREAM_DIRECTIONS, STREAM_FAKE, STREAM_REAL
from ganeval.errors import GanevalInputError
from ganeval.kernels import pyramid, sorting
from ganeval.kernels.sorting import radix_sort
from ganeval.kernels.wasserstein import quantile_coupling, random_directions, sliced_wasserstein
from ganeval.stats import save_stats
from tests import oracle_swd
from tests.helpers import smooth_images

# float32 arithmetic on 0-255 pixels: a 5-tap pass adds at most a few ulp of 255 (2^-23·255 ≈ 3e-5);
# 1e-5 of the pixel range (2.55e-3) bounds the two passes of pyr_down/pyr_up with room to spare.
PIXEL_TOLERANCE = 1e-5 * 255


@pytest.mark.parametrize("size", [16, 32, 20, 17])
def test_pyr_down_matches_scipy_mirror_convolution(size):
    images = np.random.default_rng(1).uniform(0, 255, (2, 3, size, size + 4))
    ours = pyramid.pyr_down(torch.from_numpy(images).float()).numpy()
    np.testing.assert_allclose(ours, oracle_swd.pyr_down(images), rtol=0, atol=PIXEL_TOLERANCE)


@pytest.mark.parametrize("size", [8, 16, 5])
def test_pyr_up_matches_zero_insertion_then_convolution(size):
    images = np.random.default_rng(2).uniform(-128, 255, (2, 3, size, size + 2))
    ours = pyramid.pyr_up(torch.from_numpy(images).float()).numpy()
    np.testing.assert_allclose(ours, oracle_swd.pyr_up(images), rtol=0, atol=PIXEL_TOLERANCE)


def test_laplacian_pyramid_matches_oracle_and_reconstructs():
    images = smooth_images(3, 64)
    ours = pyramid.laplacian_pyramid(torch.from_numpy(images), 3)
    oracle = oracle_swd.laplacian_pyramid(images, 3)
    assert [level.shape[-1] for level in ours] == [64, 32, 16]
    for level_ours, level_oracle in zip(ours, oracle):
        np.testing.assert_allclose(level_ours.numpy(), level_oracle, rtol=0, atol=PIXEL_TOLERANCE)
    # Collapsing the pyramid gives the image back (the Laplacian pyramid is exactly invertible).
    rebuilt = ours[2]
    for level in reversed(ours[:2]):
        rebuilt = level + pyramid.pyr_up(rebuilt)
    np.testing.assert_allclose(rebuilt.numpy(), images, rtol=0, atol=PIXEL_TOLERANCE)


def test_positions_cover_exactly_the_reference_range():
    # The reference draws randint(3, size - 3): centres 3 … size − 4, so a 7×7 patch stays inside.
    positions = pyramid.sample_positions([0, 0, 0], np.arange(400), 16, 20, 128, 7)
    assert positions[..., 0].min() == 3 and positions[..., 0].max() == 16 - 4
    assert positions[..., 1].min() == 3 and positions[..., 1].max() == 20 - 4


def splitmix64_uniform(stream: int, counter: int) -> float:
    """SplitMix64 (Steele, Lea and Flood 2014) in plain Python integers: output number counter + 1 of the generator
    whose state starts at `stream`, its top 53 bits as a float in [0, 1)."""
    mask = 2**64 - 1
    state = (stream + (counter + 1) * 0x9E3779B97F4A7C15) & mask
    state = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & mask
    state = ((state ^ (state >> 27)) * 0x94D049BB133111EB) & mask
    state ^= state >> 31
    return (state >> 11) / 2**53


def test_keyed_uniforms_are_splitmix64_of_the_image_counter():
    key = [7, 1, 2]
    stream = int(np.random.SeedSequence(key).generate_state(1, np.uint64)[0])
    indices = np.array([0, 1, 5, 2**31 + 3])
    ours = pyramid.keyed_uniforms(key, indices, 6)
    expected = [[splitmix64_uniform(stream, index * 6 + j) for j in range(6)] for index in indices.tolist()]
    assert ours.tolist() == expected  # bit for bit: integer arithmetic modulo 2**64, then one exact scaling


def test_keyed_uniforms_are_uniform_and_do_not_depend_on_the_split():
    values = pyramid.keyed_uniforms([3, 0, 1], np.arange(4000), 64)
    assert scipy.stats.kstest(values.ravel(), "uniform").pvalue > 1e-3  # 256,000 draws: uniform on [0, 1)
    # An image's row depends on its index alone: the odd images drawn by themselves get the rows they get in the set.
    np.testing.assert_array_equal(pyramid.keyed_uniforms([3, 0, 1], np.arange(1, 4000, 2), 64), values[1::2])
    assert not np.array_equal(values, pyramid.keyed_uniforms([3, 0, 2], np.arange(4000), 64))  # another key


def test_descriptors_equal_oracle_neighbourhoods():
    level = np.random.default_rng(3).normal(size=(4, 3, 16, 24)).astype(np.float32)
    positions = pyramid.sample_positions([4], np.arange(4), 16, 24, 10, 7)
    ours = pyramid.extract_descriptors(torch.from_numpy(level), torch.from_numpy(positions), 7).numpy()
    np.testing.assert_array_equal(ours, oracle_swd.descriptors(level, positions))


def oracle_swd_x1e3(real, fake, seed, nhoods=128, dir_repeats=4, dirs_per_repeat=128):
    """The whole protocol in the oracle, drawing positions and directions from ganeval's seeded streams."""
    num_levels = len(oracle_swd.level_heights(real.shape[2]))
    results = []
    for level in range(num_levels):
        sets = []
        for images, stream in ((real, STREAM_REAL), (fake, STREAM_FAKE)):
            pixels = oracle_swd.laplacian_pyramid(images, num_levels)[level]
            positions = pyramid.sample_positions([seed, stream, level], np.arange(len(images)),
                                                 pixels.shape[2], pixels.shape[3], nhoods, 7)
            sets.append(oracle_swd.normalize(oracle_swd.descriptors(pixels, positions))[0])
        rng = np.random.default_rng([seed, STREAM_DIRECTIONS, level])
        directions = [random_directions(rng, sets[0].shape[1], dirs_per_repeat).astype(np.float64)
                      for _ in range(dir_repeats)]
        results.append(1e3 * oracle_swd.sliced_wasserstein(sets[0], sets[1], directions))
    return results


@pytest.mark.parametrize("height, width, resolutions", [(32, 32, [32, 16]), (64, 32, [64, 32, 16]),
                                                      (32, 64, [32, 16]), (32, 14, [32, 16])])
def test_swd_equals_oracle_on_the_same_positions_and_directions(height, width, resolutions):
    # Portrait 64×32 has the reference's three levels, 64×32, 32×16 and 16×8 (counted from the height, not
    # from min(H, W) = 32, which would give two); landscape 32×64 has two, as min(H, W) = H always gave;
    # 32×14 ends on a 16×7 level, the narrowest that holds a 7×7 neighbourhood.
    real, fake = smooth_images(12, height, seed=5, width=width), smooth_images(12, height, seed=6, width=width)
    fake[:, 0] = fake[:, 0] // 2  # a colour shift, so the sets really differ
    ours = ganeval.swd(real, fake, seed=7, batch_size=5, device="cpu")
    assert ours["resolutions"] == resolutions == [h for h, _ in oracle_swd.pyramid_shapes(height, width)]
    # Relative 1e-5: float32 projections of unit-variance descriptors carry ~1e-6 relative error, far below
    # the distances (≥1e-3 after normalisation), and the final means are taken in float64.
    np.testing.assert_allclose(ours["swd_x1e3"], oracle_swd_x1e3(real, fake, seed=7), rtol=1e-5)
    assert ours["swd_x1e3_avg"] == pytest.approx(np.mean(ours["swd_x1e3"]), rel=1e-12)


def test_unequal_set_sizes_equal_scipy_wasserstein_per_direction():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(300, 6)).astype(np.float32), rng.normal(0.3, 1.2, size=(170, 6)).astype(np.float32)
    directions = [random_directions(rng, 6, 5) for _ in range(2)]
    expected = oracle_swd.sliced_wasserstein(a.astype(np.float64), b.astype(np.float64),
                                             [d.astype(np.float64) for d in directions])
    for sort_method in ("numpy", "radix", "torch"):
        ours = sliced_wasserstein(torch.from_numpy(a), torch.from_numpy(b), directions, sort_method=sort_method)
        assert ours == pytest.approx(expected, rel=1e-5)


def test_quantile_coupling_weights_are_a_partition_of_unit_mass():
    index_a, index_b, weights = quantile_coupling(7, 3)
    assert weights.sum() == pytest.approx(1.0, abs=1e-15)
    # Each sample of a set carries mass 1/n: the weights attached to each index sum to exactly that.
    np.testing.assert_allclose(np.bincount(index_a, weights), np.full(7, 1 / 7))
    np.testing.assert_allclose(np.bincount(index_b, weights), np.full(3, 1 / 3))


def test_every_sort_method_gives_the_same_distances_on_cpu():
    real, fake = smooth_images(6, 16, seed=9), smooth_images(6, 16, seed=10)
    levels = []
    for images, stream in ((real, STREAM_REAL), (fake, STREAM_FAKE)):
        accumulator = SWDDescriptors(seed=0, stream=stream)
        accumulator.update(torch.from_numpy(images))
        levels.append(accumulator.compute())
    from ganeval.kernels.wasserstein import swd_from_descriptors
    with_numpy = swd_from_descriptors(*levels, sort_method="numpy")
    # numpy and radix share the numpy projections and sort to the same values: equal to the last bit.
    assert swd_from_descriptors(*levels, sort_method="radix") == with_numpy
    # torch projects with its own BLAS (different float32 rounding of each projection, ~1e-7 relative).
    np.testing.assert_allclose(swd_from_descriptors(*levels, sort_method="torch"), with_numpy, rtol=1e-6)


@pytest.mark.parametrize("size", [1, 2, 1000, 40_000])
def test_radix_sort_equals_np_sort_bit_for_bit(size):
    rng = np.random.default_rng(25)
    scratch = np.empty(size + 3, np.float32)  # longer than needed, reused across calls
    for _ in range(2):
        values = (rng.standard_normal(size) * rng.choice([1e-30, 1e-3, 1.0, 1e30], size)).astype(np.float32)
        specials = [np.inf, -np.inf, 0.0, -0.0, np.finfo(np.float32).tiny, -np.finfo(np.float32).max, 1e-45]
        values[:len(specials)] = specials[:size]
        expected = np.sort(values)
        radix_sort(values, scratch)
        np.testing.assert_array_equal(values, expected)
        nonzero = expected != 0  # -0.0 and +0.0 compare equal, so np.sort may order them either way
        assert np.array_equal(values.view(np.int32)[nonzero], expected.view(np.int32)[nonzero])


def test_radix_sort_of_equal_keys_and_of_one_shared_high_byte():
    values = np.full(5000, 3.5, np.float32)
    radix_sort(values)
    assert np.all(values == 3.5)  # every pass is skipped: all keys share every digit
    values = np.random.default_rng(26).uniform(1.0, 1.001, 5000).astype(np.float32)  # top digits shared
    expected = np.sort(values)
    radix_sort(values)
    np.testing.assert_array_equal(values, expected)


def test_radix_sort_refuses_what_it_cannot_sort():
    with pytest.raises(ValueError, match="contiguous 1-D float32"):
        radix_sort(np.zeros(10, np.float64))
    with pytest.raises(ValueError, match="contiguous 1-D float32"):
        radix_sort(np.zeros((4, 4), np.float32)[:, 1])
    with pytest.raises(ValueError, match="scratch at least as long"):
        radix_sort(np.zeros(10, np.float32), np.zeros(9, np.float32))


def test_swd_of_a_set_against_itself_is_zero_with_shared_draws():
    images = torch.from_numpy(smooth_images(8, 32, seed=11))
    levels = []
    for _ in range(2):
        accumulator = SWDDescriptors(seed=3, stream=STREAM_REAL)
        accumulator.update(images)
        levels.append(accumulator.compute())
    from ganeval.kernels.wasserstein import swd_from_descriptors
    assert swd_from_descriptors(*levels) == [0.0, 0.0]


def test_swd_grows_monotonically_as_one_set_is_blurred_more():
    real = smooth_images(16, 32, seed=12)
    averages = []
    for sigma in (0.0, 0.7, 1.4, 2.8):
        blurred = scipy.ndimage.gaussian_filter(real.astype(np.float64), sigma=(0, 0, sigma, sigma))
        fake = np.clip(np.rint(blurred), 0, 255).astype(np.uint8)
        averages.append(ganeval.swd(real, fake, seed=0, device="cpu")["swd_x1e3_avg"])
    assert all(later > earlier for earlier, later in zip(averages, averages[1:])), averages


def test_same_seed_same_number_and_batching_does_not_matter():
    real, fake = smooth_images(10, 16, seed=13), smooth_images(10, 16, seed=14)
    first = ganeval.swd(real, fake, seed=21, batch_size=3, device="cpu")
    again = ganeval.swd(real, fake, seed=21, batch_size=64, device="cpu")
    other = ganeval.swd(real, fake, seed=22, batch_size=3, device="cpu")
    assert first["swd_x1e3"] == again["swd_x1e3"]
    assert first["swd_x1e3"] != other["swd_x1e3"]


def test_real_normalisation_option_uses_real_moments_for_both_sets():
    real, fake = smooth_images(8, 16, seed=15), smooth_images(8, 16, seed=16)
    fake = (fake // 2).astype(np.uint8)  # half as bright: per-set normalisation hides it, real-moments does not
    per_set = ganeval.swd(real, fake, device="cpu")["swd_x1e3_avg"]
    with_real = ganeval.swd(real, fake, device="cpu", normalize="real")["swd_x1e3_avg"]
    assert with_real > 5 * per_set


def test_a_flat_set_is_refused_with_the_way_out():
    real, flat = smooth_images(4, 16, seed=29), np.full((4, 3, 16, 16), 128, np.uint8)
    with pytest.raises(GanevalInputError, match="FAKE: colour channel 0 of pyramid level 0 is constant .* "
                                                "normalize='real'"):
        ganeval.swd(real, flat, device="cpu")
    assert all(np.isfinite(ganeval.swd(real, flat, device="cpu", normalize="real")["swd_x1e3"]))
    with pytest.raises(GanevalInputError, match="REAL: colour channel 0 of pyramid level 0 is constant"):
        ganeval.swd(flat, real, device="cpu", normalize="real")


def test_stats_file_gives_the_same_number_and_refuses_other_settings(tmp_path):
    real, fake = smooth_images(8, 32, seed=17), smooth_images(8, 32, seed=18)
    save_stats(tmp_path / "real.npz", *reference_statistics(real, ("swd",), seed=4, device="cpu"))
    direct = ganeval.swd(real, fake, seed=4, device="cpu")
    reused = ganeval.swd(tmp_path / "real.npz", fake, seed=4, device="cpu")
    assert reused["swd_x1e3"] == direct["swd_x1e3"] and reused["num_images"] == [8, 8]
    with pytest.raises(GanevalInputError, match="nhoods_per_image=128 but nhoods_per_image=64"):
        ganeval.swd(tmp_path / "real.npz", fake, device="cpu", nhoods_per_image=64)


def test_a_stats_file_with_the_old_portrait_levels_is_refused(tmp_path):
    # Before levels were counted from the height, 64×32 images had two levels (32, 16) instead of three.
    real, fake = smooth_images(4, 64, seed=31, width=32), smooth_images(4, 64, seed=32, width=32)
    arrays, protocol = (part["swd"] for part in reference_statistics(real, ("swd",), device="cpu"))
    assert protocol["resolutions"] == [64, 32, 16]
    old_arrays = {"level0": arrays["level1"], "level1": arrays["level2"]}
    save_stats(tmp_path / "old.npz", {"swd": old_arrays}, {"swd": {**protocol, "resolutions": [32, 16]}})
    with pytest.raises(GanevalInputError, match=r"REAL has pyramid levels \[32, 16\] but FAKE.* \[64, 32, 16\].*"
                                                "recompute it"):
        ganeval.swd(tmp_path / "old.npz", fake, device="cpu")


def test_unequal_set_sizes_through_the_public_api():
    result = ganeval.swd(smooth_images(10, 16, seed=19), smooth_images(6, 16, seed=20), device="cpu")
    assert result["num_images"] == [10, 6] and all(np.isfinite(result["swd_x1e3"]))


def test_float_tensors_in_minus_one_one_equal_their_uint8_images():
    real, fake = smooth_images(4, 16, seed=23), smooth_images(4, 16, seed=24)
    as_float = torch.from_numpy(fake).float() / 127.5 - 1.0
    from_uint8 = ganeval.swd(real, fake, device="cpu")
    from_float = ganeval.swd(real, as_float, device="cpu", value_range=(-1, 1))
    assert from_float["swd_x1e3"] == from_uint8["swd_x1e3"]


def test_generator_callable_is_drawn_until_num_images():
    calls = []

    def generator(batch_size):
        calls.append(batch_size)
        return torch.rand(batch_size, 3, 16, 16) * 2 - 1

    result = ganeval.swd(smooth_images(10, 16), generator, num_images=10, batch_size=4, value_range=(-1, 1),
                         device="cpu")
    assert calls == [4, 4, 2] and result["num_images"] == [10, 10]


@pytest.mark.parametrize("size, message", [(8, "height of at least 16 px"), (33, "divisible by 2")])
def test_images_the_pyramid_cannot_take_are_refused(size, message):
    images = smooth_images(2, size)
    with pytest.raises(GanevalInputError, match=message):
        ganeval.swd(images, images, device="cpu")


@pytest.mark.parametrize("height", [8, 16, 24, 32, 48, 64, 128])
def test_pyramid_levels_are_the_oracles_and_refused_where_it_has_none(height):
    # Every width from 4 to beyond 2 × the height: ganeval scores exactly the sizes on which the reference's
    # pyramid and neighbourhood sampling work (tests/oracle_swd.pyramid_shapes), with the same levels.
    for width in range(4, 2 * height + 9):
        shapes = oracle_swd.pyramid_shapes(height, width)
        if shapes is None:
            with pytest.raises(GanevalInputError):
                pyramid.pyramid_resolutions(height, width)
        else:
            assert pyramid.pyramid_resolutions(height, width) == [h for h, _ in shapes], (height, width)


@pytest.mark.parametrize("height, width, message", [
    (128, 32, r"128×32: .*\(\[128, 64, 32, 16\]\), and level 3 would be 16×4, narrower than the 7×7 neighbourhood "
              r".*pass min_resolution=32 to stop at the level above, or .* at least 56 px"),
    (16, 6, r"16×6: .* level 0 would be 16×6, narrower than the 7×7 neighbourhood .*; resize or pad the images to a "
            r"narrow side of at least 7 px"),
])
def test_a_portrait_level_narrower_than_the_neighbourhood_is_refused_with_the_way_out(height, width, message):
    with pytest.raises(GanevalInputError, match=message):
        pyramid.pyramid_resolutions(height, width)


def test_the_narrow_level_check_follows_the_nhood_size_setting():
    images = smooth_images(2, 64, seed=30, width=16)  # levels 64×16, 32×8, 16×4
    with pytest.raises(GanevalInputError, match="level 2 would be 16×4, narrower than the 7×7 neighbourhood"):
        ganeval.swd(images, images, device="cpu")
    with pytest.raises(GanevalInputError, match="level 1 would be 32×8, narrower than the 9×9 neighbourhood"):
        ganeval.swd(images, images, device="cpu", nhood_size=9)
    assert ganeval.swd(images, images, device="cpu", min_resolution=32)["resolutions"] == [64, 32]


def test_sets_of_different_image_sizes_are_refused():
    with pytest.raises(GanevalInputError, match="SWD compares sets of one size"):
        ganeval.swd(smooth_images(2, 32), smooth_images(2, 16), device="cpu")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_path_agrees_with_cpu_path():
    real, fake = smooth_images(16, 32, seed=25), smooth_images(16, 32, seed=26)
    on_cpu = ganeval.swd(real, fake, device="cpu")
    on_cuda = ganeval.swd(torch.from_numpy(real).cuda(), torch.from_numpy(fake).cuda())
    assert on_cuda["device"].startswith("cuda")
    np.testing.assert_allclose(on_cuda["swd_x1e3"], on_cpu["swd_x1e3"], rtol=1e-4)


@pytest.fixture
def sort_not_yet_measured():
    """`fastest_cpu_sort` measures once per process (lru_cache): forget its answer before the test and after it, so
    that no other test gets the answer of a patched measurement."""
    measure = sorting.fastest_cpu_sort  # itself, whatever a test patches into the module
    measure.cache_clear()
    yield sorting
    measure.cache_clear()


def test_the_c_radix_sort_is_built_and_the_measurement_runs(sort_not_yet_measured):
    # The extension is optional for users without a C compiler; a development install must have built it.
    sorting = sort_not_yet_measured
    assert sorting._radix is not None
    assert sorting.fastest_cpu_sort() in ("radix", "numpy")  # the real measurement: both sorts run


class NumpyWithSort:
    """numpy, except that `ndarray.sort` is `sort` (np.ndarray's own attributes cannot be patched)."""

    def __init__(self, sort) -> None:
        self.ndarray = SimpleNamespace(sort=sort)

    def __getattr__(self, name: str):
        return getattr(np, name)


@pytest.mark.parametrize("slower, faster", [("numpy", "radix"), ("radix", "numpy")])
def test_the_cpu_default_is_the_sort_that_measured_faster(sort_not_yet_measured, monkeypatch, slower, faster):
    # A fake clock that only the sorts move: each row sorted costs 1 s, 3 s by the slower method.
    sorting = sort_not_yet_measured
    clock = {"now": 0.0}
    rows = {"radix": 0, "numpy": 0}
    seconds_per_row = {faster: 1.0, slower: 3.0}

    def timed(method, sort):
        def sort_and_tick(row, *args):
            sort(row, *args)
            assert np.all(row[:-1] <= row[1:]), method  # it really sorted
            rows[method] += 1
            clock["now"] += seconds_per_row[method]
        return sort_and_tick

    monkeypatch.setattr(sorting, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))
    monkeypatch.setattr(sorting, "radix_sort", timed("radix", sorting.radix_sort))
    monkeypatch.setattr(sorting, "np", NumpyWithSort(timed("numpy", np.ndarray.sort)))
    assert sorting.fastest_cpu_sort() == faster
    assert rows["radix"] >= 2 and rows["numpy"] >= 2  # both measured: a warm-up row and timed rows
    assert sorting.default_sort_method(torch.device("cpu")) == faster
    assert sorting.default_sort_method(torch.device("cuda")) == "torch"
    measured = dict(rows)
    assert sorting.fastest_cpu_sort() == faster and rows == measured  # once per process: nothing sorted again


def test_without_the_c_extension_the_cpu_default_is_numpy_unmeasured(monkeypatch):

    def measure():
        raise AssertionError("the sorts were timed without the C extension")

    monkeypatch.setattr(sorting, "_radix", None)
    monkeypatch.setattr(sorting, "fastest_cpu_sort", measure)
    assert sorting.default_sort_method(torch.device("cpu")) == "numpy"
    assert sorting.default_sort_method(torch.device("cuda")) == "torch"


def test_without_the_c_extension_numpy_sorts_and_radix_sort_says_why(monkeypatch):
    monkeypatch.setattr(sorting, "_radix", None)
    assert sorting.default_sort_method(torch.device("cpu")) == "numpy"
    assert sorting.default_sort_method(torch.device("cuda")) == "torch"
    with pytest.raises(GanevalInputError, match="C radix sort was not built"):
        radix_sort(np.zeros(10, np.float32))
    real, fake = smooth_images(4, 16, seed=27), smooth_images(4, 16, seed=28)
    with_numpy = ganeval.swd(real, fake, device="cpu")["swd_x1e3"]
    monkeypatch.undo()
    assert ganeval.swd(real, fake, device="cpu")["swd_x1e3"] == with_numpy
