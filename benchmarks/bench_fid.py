"""FID speed and agreement: ganeval against torch-fidelity and pytorch-fid, same folders, same weights, same CPU.

All three run the same random-weight checkpoint in pytorch-fid's format (the published weights cannot be fetched
here; speed does not depend on the weight values). For each image size the script writes two folders of PNGs,
then times, per tool, the feature extraction of both folders (decode + resize + Inception + statistics) and the
end-to-end FID; at the end, each tool's Fréchet distance formula on the same full-rank 2048-d statistics (small
sets give rank-deficient covariances, which are not the case that costs time). Markdown tables on stdout.

    python benchmarks/bench_fid.py --sizes 128 299 --counts 60 20
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ganeval import fid  # noqa: E402
from ganeval.accumulators.features import FeatureStatistics  # noqa: E402
from ganeval.extractors.inception import load_inception  # noqa: E402
from ganeval.kernels.frechet import frechet_distance  # noqa: E402
from ganeval.sources import open_images  # noqa: E402
from tests.helpers import make_images, random_state_dict, write_folder  # noqa: E402


def timed(function, *args, **kwargs):
    """(result, seconds)."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def best_of_two(function) -> float:
    """Seconds of the faster of two calls: the first also pays one-time kernel set-up, and the CPU is shared."""
    return min(timed(function)[1] for _ in range(2))


def random_stats(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Full-rank 2048-d statistics, as from a large set, to time each tool's Fréchet distance formula."""
    samples = np.random.default_rng(seed).standard_normal((4096, 2048)) * 0.3 + 0.4
    return samples.mean(0), np.cov(samples, rowvar=False)


def bench_frechet() -> list[tuple[str, float]]:
    """Seconds each tool's Fréchet distance takes on full-rank 2048-d statistics (its value is checked too)."""
    stats1, stats2 = random_stats(1), random_stats(2)
    reference, seconds = timed(frechet_distance, *stats1, *stats2)
    rows = [("ganeval (symmetric eigh)", seconds, 0.0)]
    with contextlib.suppress(ImportError):
        from torch_fidelity.metric_fid import fid_statistics_to_metric

        value, seconds = timed(fid_statistics_to_metric, {"mu": stats1[0], "sigma": stats1[1]},
                               {"mu": stats2[0], "sigma": stats2[1]}, False)
        rows.append(("torch-fidelity (eigvals of Σ₁Σ₂)", seconds,
                     abs(value["frechet_inception_distance"] - reference) / reference))
    with contextlib.suppress(ImportError):
        from pytorch_fid.fid_score import calculate_frechet_distance

        value, seconds = timed(calculate_frechet_distance, *stats1, *stats2)
        rows.append(("pytorch-fid (scipy sqrtm)", seconds, abs(value - reference) / reference))
    return rows


def bench_size(size: int, count: int, weights: Path, root: Path, batch_size: int) -> list[dict]:
    """Extraction and end-to-end FID of every available tool on two folders of `count` images at size×size."""
    real = write_folder(root / f"real{size}", make_images(count, size, seed=1, style="blobs"))
    fake = write_folder(root / f"fake{size}", make_images(count, size, seed=2, style="noise"))
    rows = []

    extractor = load_inception(weights, device=torch.device("cpu"), allow_unverified_weights=True)

    def extract(folder: Path) -> None:
        statistics = FeatureStatistics(extractor)
        for batch in open_images(folder, batch_size=batch_size, device="cpu"):
            statistics.update(batch)
        statistics.compute()

    extract_seconds = best_of_two(lambda: [extract(folder) for folder in (real, fake)])
    result, seconds = timed(fid, real, fake, batch_size=batch_size, device="cpu", inception_weights=weights,
                            allow_unverified_weights=True)
    rows.append({"tool": "ganeval", "fid": result["fid"], "seconds": seconds, "extract_seconds": extract_seconds})

    try:
        import torch_fidelity
        from torch_fidelity.datasets import ImagesPathDataset
        from torch_fidelity.utils import create_feature_extractor, get_featuresdict_from_dataset
    except ImportError:
        print("torch-fidelity not installed: skipped", file=sys.stderr)
    else:
        their_extractor = create_feature_extractor("inception-v3-compat", ["2048"], cuda=False,
                                                   feature_extractor_weights_path=str(weights))
        extract_seconds = best_of_two(lambda: [get_featuresdict_from_dataset(
            ImagesPathDataset(sorted(str(p) for p in folder.glob("*.png"))), their_extractor, batch_size, False,
            False, False) for folder in (real, fake)])
        metrics, seconds = timed(torch_fidelity.calculate_metrics, input1=str(real), input2=str(fake), fid=True,
                                 batch_size=batch_size, feature_extractor_weights_path=str(weights), cuda=False,
                                 cache=False, verbose=False)
        rows.append({"tool": f"torch-fidelity {torch_fidelity.__version__}",
                     "fid": metrics["frechet_inception_distance"], "seconds": seconds,
                     "extract_seconds": extract_seconds})

    try:
        import pytorch_fid
        import pytorch_fid.inception
        from pytorch_fid.fid_score import calculate_fid_given_paths, compute_statistics_of_path
    except ImportError:
        print("pytorch-fid not installed: skipped", file=sys.stderr)
    else:
        pytorch_fid.inception.load_state_dict_from_url = lambda *args, **kwargs: random_state_dict()
        model = pytorch_fid.inception.InceptionV3([3]).eval()
        extract_seconds = best_of_two(lambda: [compute_statistics_of_path(str(folder), model, batch_size, 2048, "cpu",
                                                                       2) for folder in (real, fake)])
        value, seconds = timed(calculate_fid_given_paths, [str(real), str(fake)], batch_size, "cpu", 2048,
                               num_workers=2)
        rows.append({"tool": f"pytorch-fid {pytorch_fid.__version__}", "fid": value, "seconds": seconds,
                     "extract_seconds": extract_seconds})

    for row in rows:
        row["images_per_second"] = 2 * count / row["extract_seconds"]
        row["relative_to_ganeval"] = abs(row["fid"] - rows[0]["fid"]) / rows[0]["fid"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 299])
    parser.add_argument("--counts", type=int, nargs="+", default=[60, 20], help="Images per set, per size.")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        weights = root / "random-inception.pth"
        torch.save(random_state_dict(), weights)
        for size, count in zip(args.sizes, args.counts):
            rows = bench_size(size, count, weights, root, args.batch_size)
            print(f"\n### {count} + {count} images at {size}×{size}, batch {args.batch_size}, "
                  f"{args.threads} threads\n")
            print("| tool | FID (random weights) | rel. diff. to ganeval | extraction img/s (best of 2) "
                  "| end-to-end FID s |")
            print("|---|---|---|---|---|")
            for row in rows:
                print(f"| {row['tool']} | {row['fid']:.6f} | {row['relative_to_ganeval']:.1e} | "
                      f"{row['images_per_second']:.2f} | {row['seconds']:.1f} |")
            sys.stdout.flush()
        print("\n### Fréchet distance of full-rank 2048-d statistics\n")
        print("| tool | seconds | rel. diff. to ganeval |")
        print("|---|---|---|")
        for tool, seconds, difference in bench_frechet():
            print(f"| {tool} | {seconds:.1f} | {difference:.1e} |")


if __name__ == "__main__":
    main()
