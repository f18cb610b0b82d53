"""Score a generated image folder against a real one: SWD and MS-SSIM (no weights needed), and FID, KID, precision/
recall when the Inception weights are at hand — every metric in one pass over each folder.

    python examples/score_two_folders.py REAL_FOLDER FAKE_FOLDER
    python examples/score_two_folders.py            # makes two small folders from the bundled photographs first
"""

from __future__ import annotations

import sys
from pathlib import Path

import ganeval
from ganeval.demo import write_demo_sets
from ganeval.errors import GanevalInputError
from ganeval.extractors.inception import INCEPTION_WEIGHTS


def main() -> None:
    if len(sys.argv) == 3:
        real, fake = sys.argv[1], sys.argv[2]
    else:
        real, fake = write_demo_sets(Path("example-folders"), num_images=64, resolution=64)
    metrics = ["swd", "msssim"]
    try:
        INCEPTION_WEIGHTS.find(download=False)  # $GANEVAL_INCEPTION_WEIGHTS or the torch hub cache; no download
        metrics += ["fid", "kid", "pr"]
    except GanevalInputError as missing:
        print(f"(FID, KID and precision/recall left out: {missing})")
    results = ganeval.evaluate(real, fake, metrics=metrics, subset_size=50)
    swd = results["swd"]
    print(f"SWD ×10³ per level {dict(zip(swd['resolutions'], [round(v, 2) for v in swd['swd_x1e3']]))}, "
          f"average {swd['swd_x1e3_avg']:.2f}")
    print(f"MS-SSIM of the fake set {results['msssim']['msssim']:.4f} over {results['msssim']['num_pairs']} pairs")
    for name, key in (("fid", "fid"), ("kid", "kid_mean"), ("pr", "pr_precision")):
        if name in results:
            print(f"{name}: {results[name][key]:.4f}")


if __name__ == "__main__":
    main()
