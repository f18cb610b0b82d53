"""One pass against separate calls and against torch-fidelity: FID, KID and IS (and SWD, MS-SSIM) on the same folders.

For two folders of PNGs the script times, in one process on the same CPU threads:
  * `ganeval.evaluate(real, fake, metrics=("fid", "kid", "is"))` — each image decoded and run through Inception once;
  * the separate calls `ganeval.fid`, `ganeval.kid`, `ganeval.inception_score` — each reads its sets again;
  * `torch_fidelity.calculate_metrics(isc=True, fid=True, kid=True)` — torch-fidelity's own one-pass computation
    (no cache), with the same weights file;
  * the five metrics together, `evaluate(..., metrics=("swd", "msssim", "fid", "kid", "is"))`, against five calls.
All run a random-weight checkpoint in pytorch-fid's format (the published weights cannot be fetched here; speed does
not depend on the weight values). Each timing is the faster of two runs; the numbers are checked equal (ganeval's
one pass and separate calls) or printed side by side (torch-fidelity's: FID and KID agree to ~1e-6 relative,
IS to ~1e-8 without its shuffling).

    python benchmarks/bench_evaluate.py --count 50 --size 128
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ganeval  # noqa: E402
from tests.helpers import make_images, random_state_dict, write_folder  # noqa: E402


def best_of_two(function):
    """(result, seconds of the faster of two calls)."""
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - start)
    return result, min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="Images per set.")
    parser.add_argument("--size", type=int, default=128, help="Side of the square images.")
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    subset_size, splits = min(50, args.count), 5
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        weights = root / "random-inception.pth"
        torch.save(random_state_dict(), weights)
        real = write_folder(root / "real", make_images(args.count, args.size, seed=1, style="blobs"))
        fake = write_folder(root / "fake", make_images(args.count, args.size, seed=2, style="blobs"))
        inception = {"inception_weights": weights, "allow_unverified_weights": True, "device": "cpu",
                     "batch_size": args.batch_size}
        print(f"machine: {platform.machine()}, torch threads {torch.get_num_threads()}; {args.count} + "
              f"{args.count} images at {args.size}², batch {args.batch_size}")

        one_pass, one_pass_seconds = best_of_two(lambda: ganeval.evaluate(
            real, fake, metrics=("fid", "kid", "is"), subset_size=subset_size, splits=splits, **inception))
        separate, separate_seconds = best_of_two(lambda: {
            "fid": ganeval.fid(real, fake, **inception),
            "kid": ganeval.kid(real, fake, subset_size=subset_size, **inception),
            "is": ganeval.inception_score(fake, splits=splits, **inception)})
        assert one_pass == separate, "the one pass must give the separate calls' dicts"
        rows = [("ganeval.evaluate, one pass", one_pass_seconds, one_pass),
                ("ganeval.fid + kid + inception_score", separate_seconds, separate)]
        try:
            import torch_fidelity
        except ImportError:
            print("torch-fidelity not installed: skipped", file=sys.stderr)
        else:
            theirs, seconds = best_of_two(lambda: torch_fidelity.calculate_metrics(
                input1=str(fake), input2=str(real), isc=True, fid=True, kid=True, batch_size=args.batch_size,
                kid_subset_size=subset_size, isc_splits=splits, samples_shuffle=False, cuda=False, cache=False,
                verbose=False, feature_extractor_weights_path=str(weights)))
            rows.append((f"torch_fidelity.calculate_metrics {torch_fidelity.__version__}", seconds, {
                "fid": {"fid": theirs["frechet_inception_distance"]},
                "kid": {"kid_mean": theirs["kernel_inception_distance_mean"]},
                "is": {"inception_score_mean": theirs["inception_score_mean"]}}))
        print("\n| FID + KID + IS | seconds | vs one pass | FID | KID mean | IS mean |\n|---|---|---|---|---|---|")
        for label, seconds, result in rows:
            print(f"| {label} | {seconds:.1f} | {seconds / one_pass_seconds:.2f}× | {result['fid']['fid']:.6f} | "
                  f"{result['kid']['kid_mean']:.6e} | {result['is']['inception_score_mean']:.6f} |")

        everything = ("swd", "msssim", "fid", "kid", "is")
        _, all_seconds = best_of_two(lambda: ganeval.evaluate(real, fake, metrics=everything, subset_size=subset_size,
                                                              splits=splits, **inception))
        _, five_seconds = best_of_two(lambda: (
            ganeval.swd(real, fake, device="cpu", batch_size=args.batch_size),
            ganeval.msssim(fake, device="cpu", batch_size=args.batch_size),
            ganeval.fid(real, fake, **inception), ganeval.kid(real, fake, subset_size=subset_size, **inception),
            ganeval.inception_score(fake, splits=splits, **inception)))
        print(f"\nall five metrics: one pass {all_seconds:.1f} s, five calls {five_seconds:.1f} s "
              f"({five_seconds / all_seconds:.2f}×)")


if __name__ == "__main__":
    main()
