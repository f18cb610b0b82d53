"""Precision/recall and density/coverage on random features: ganeval against torch-fidelity's prc and prdc.

Each implementation runs in a fresh subprocess on the same features (float32 N(0, 1), 2048-d by default, the two
sets from different seeds), so that each one's peak memory is its own: the child reads its resident size before the
call (/proc/self/statm) and its peak after it (getrusage ru_maxrss), and reports the difference. Only the call is
timed. Repeats alternate the implementations (rotating their order), so load from other processes on a shared
machine falls on all of them; the table gives the fastest repeat and the spread, and `uptime` is printed before and
after. The implementations:
  * ganeval-pr / ganeval-dc: `precision_recall_from_features(k=3)` / `density_coverage_from_features(k=5)` (float64,
    exact, in blocks);
  * torch-fidelity-prc: `prc_features_to_metric` (k = 3) with its defaults (the full distance matrices, float32
    distances through torch.cdist), and again on the features as float64 (the same precision as ganeval's);
  * prdc: `prdc.compute_prdc(real, fake, nearest_k=5)` on the float32 features, as its docstring asks (sklearn
    computes the distances in float64 and returns them as float32; the peer of both metrics: it gives all four).
Numbers are checked: ganeval's precision/recall against torch-fidelity's on float64 features, density/coverage
against prdc's; differing decisions of the float32 runs are reported, not hidden.

    python benchmarks/bench_prdc.py --count 10000 --repeats 2
    python benchmarks/bench_prdc.py --count 50000 --only ganeval-pr ganeval-dc --repeats 1
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's ganeval

IMPLEMENTATIONS = ("ganeval-pr", "ganeval-dc", "torch-fidelity-prc", "torch-fidelity-prc-float64", "prdc")
PEERS_OF = {"ganeval-pr": ("torch-fidelity-prc", "prdc"), "ganeval-dc": ("prdc",)}


def features(count: int, dim: int, seed: int) -> np.ndarray:
    """count × dim float32 N(0, 1) features (drawn directly in float32: no float64 copy inflates the peak)."""
    return np.random.default_rng(seed).standard_normal((count, dim), dtype=np.float32)


def resident_mib() -> float:
    """This process's resident memory now."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def implementation(name: str) -> Callable[[np.ndarray, np.ndarray], dict[str, float]]:
    """One implementation, its modules imported (imports are neither timed nor counted in its peak memory)."""
    import torch

    if name == "ganeval-pr":
        from ganeval.kernels.neighbours import precision_recall_from_features

        return lambda real, fake: {name.removeprefix("pr_"): value  # the peers' names, to compare
                                   for name, value in precision_recall_from_features(real, fake, k=3).items()}
    if name == "ganeval-dc":
        from ganeval.kernels.neighbours import density_coverage_from_features

        return lambda real, fake: {name.removeprefix("dc_"): value
                                   for name, value in density_coverage_from_features(real, fake, k=5).items()}
    if name.startswith("torch-fidelity-prc"):
        from torch_fidelity.metric_prc import prc_features_to_metric

        dtype = torch.float64 if name.endswith("float64") else torch.float32

        def torch_fidelity_prc(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
            theirs = prc_features_to_metric(torch.from_numpy(fake).to(dtype), torch.from_numpy(real).to(dtype),
                                            prc_neighborhood=3, prc_batch_size=10000, save_cpu_ram=False,
                                            verbose=False)
            return {"precision": theirs["precision"], "recall": theirs["recall"]}

        return torch_fidelity_prc
    import prdc

    def compute_prdc(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the set sizes
            theirs = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=5)
        return {key: float(value) for key, value in theirs.items()}

    return compute_prdc


def worker(args: argparse.Namespace) -> None:
    """In the child: make the features, time one call, print seconds, peak memory and the numbers as JSON."""
    import torch

    torch.set_num_threads(args.threads)
    call = implementation(args.worker)
    real, fake = features(args.count, args.dim, seed=1), features(args.count, args.dim, seed=2)
    before = resident_mib()
    start = time.perf_counter()
    numbers = call(real, fake)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak - before, "inputs_mib": (real.nbytes + fake.nbytes) / 2**20,
                      "numbers": numbers}))


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores, {platform.machine()}"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000, help="Features per set.")
    parser.add_argument("--dim", type=int, default=2048, help="Feature dimension.")
    parser.add_argument("--repeats", type=int, default=2, help="Runs of each implementation, alternating.")
    parser.add_argument("--threads", type=int, default=2, help="torch threads in every child.")
    parser.add_argument("--only", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    parser.add_argument("--worker", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"machine: {machine()}; torch threads {args.threads}; {args.count} + {args.count} features of "
          f"dimension {args.dim} (float32 N(0, 1))")
    print(f"before: {uptime()}")
    runs: dict[str, list[dict]] = {name: [] for name in args.only}
    for repeat in range(args.repeats):
        order = args.only[repeat % len(args.only):] + args.only[:repeat % len(args.only)]
        for name in order:
            command = [sys.executable, __file__, "--worker", name, "--count", str(args.count), "--dim",
                       str(args.dim), "--threads", str(args.threads)]
            completed = subprocess.run(command, capture_output=True, text=True)
            if completed.returncode != 0:
                print(f"{name}: failed\n{completed.stderr[-2000:]}", file=sys.stderr)
                continue
            runs[name].append(json.loads(completed.stdout.splitlines()[-1]))
            print(f"  repeat {repeat + 1} {name}: {runs[name][-1]['seconds']:.1f} s  ({uptime()})", flush=True)
    print(f"after: {uptime()}")
    done = {name: sorted(results, key=lambda run: run["seconds"]) for name, results in runs.items() if results}
    print("\n| implementation | fastest s | all runs s | peak memory above the inputs MiB | precision | recall | "
          "density | coverage |\n|---|---|---|---|---|---|---|---|")
    for name, results in done.items():
        numbers = results[0]["numbers"]
        cells = [f"{numbers[key]:.6f}" if key in numbers else "" for key in ("precision", "recall", "density",
                                                                                "coverage")]
        timings = ", ".join(f"{run['seconds']:.1f}" for run in results)
        print(f"| {name} | {results[0]['seconds']:.1f} | {timings} | {max(run['peak_mib'] for run in results):.0f} | "
              f"{' | '.join(cells)} |")
    print(f"\ninputs: {next(iter(done.values()))[0]['inputs_mib']:.0f} MiB (both sets, float32)")
    for ours, peers in PEERS_OF.items():
        for peer in peers:
            if ours in done and peer in done:
                ratio = done[peer][0]["seconds"] / done[ours][0]["seconds"]
                print(f"{ours} vs {peer}: {ratio:.2f}× faster (fastest runs)")
    compare(done)


def compare(done: dict[str, list[dict]]) -> None:
    """Print whether ganeval's numbers equal the peers' (to 1e-12), and by how much they differ if not."""
    pairs = [("ganeval-pr", "torch-fidelity-prc-float64", ("precision", "recall")),
             ("ganeval-pr", "torch-fidelity-prc", ("precision", "recall")),
             ("ganeval-dc", "prdc", ("precision", "recall", "density", "coverage"))]
    for ours, peer, keys in pairs:
        if ours in done and peer in done:
            mine, theirs = done[ours][0]["numbers"], done[peer][0]["numbers"]
            # torch-fidelity averages in float32: its shares are the counts / N rounded to float32.
            tolerance = 1e-7 if peer.startswith("torch-fidelity") else 1e-12
            differences = {key: mine[key] - theirs[key] for key in keys}
            equal = all(abs(value) <= tolerance * max(1.0, abs(mine[key])) for key, value in differences.items())
            print(f"{ours} = {peer}: {'yes' if equal else 'NO'} (differences "
                  f"{', '.join(f'{key} {value:+.2e}' for key, value in differences.items())})")


if __name__ == "__main__":
    main()
