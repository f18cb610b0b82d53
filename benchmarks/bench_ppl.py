"""PPL speed: ganeval against torch-fidelity, same generator, same LPIPS weights, same CPU.

Both compute LPIPS-VGG16 with the same VGG-16 weights — random ones (the published file cannot be fetched here; speed
does not depend on the values), written to a temporary torch hub cache where torchvision, lpips and torch-fidelity
look — and the lpips package's published linear layers (`pip install lpips`). The generator is pggan's Table 2
generator with random weights at --resolution. torch-fidelity is asked for the same work: no resize
(`ppl_sample_similarity_resize=None`), float input, ε = 1e-4, batches of --batch-size samples; its outlier rule is
off (torch-fidelity 0.4.0 calls `np.percentile(interpolation=…)`, which numpy 2 removed), which costs nothing. Each
tool runs --num-samples and twice as many; the marginal rate N / (t(2N) − t(N)) leaves out the one-time loading of
the weights. The tools take turns, --rounds times, and the best marginal rate of each is reported (the machine may
be shared). The means differ: each tool draws its own latents, and torch-fidelity steps linearly between
unnormalised latents where StyleGAN (and ganeval) slerp between normalised ones.

    python benchmarks/bench_ppl.py --resolution 64 --num-samples 32 --batch-size 16
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ganeval  # noqa: E402
from pggan.networks import Generator  # noqa: E402
from tests.helpers import full_vgg16_state_dict  # noqa: E402


def cpu_model() -> str:
    """The CPU's model name, family and model (from /proc/cpuinfo), or what platform knows."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    return f"{fields.get('model name')} (family {fields.get('cpu family')}, model {fields.get('model')})"


def load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


class ZeroTo255(torch.nn.Module):
    """The generator's [-1, 1] images scaled to [0, 255], as torch-fidelity's LPIPS takes them."""

    def __init__(self, sample) -> None:
        super().__init__()
        self.sample = sample

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.sample(z) + 1) * (255 / 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--num-samples", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import lpips
    import torch_fidelity

    hub = Path(tempfile.mkdtemp(prefix="bench-ppl-hub-"))
    try:
        (hub / "checkpoints").mkdir()
        torch.save(full_vgg16_state_dict(), hub / "checkpoints" / "vgg16-397923af.pth")
        shutil.copy(Path(lpips.__file__).parent / "weights" / "v0.1" / "vgg.pth",
                    hub / "checkpoints" / "weights-vgg16-lpips.pth")
        torch.hub.set_dir(str(hub))
        os.environ["GANEVAL_OFFLINE"] = "1"
        torch.manual_seed(0)
        network = Generator(args.resolution, 3, latent_size=512, fmap_base=4096, fmap_max=256).eval()

        def sample(z: torch.Tensor) -> torch.Tensor:
            return network(z, args.resolution)

        print(f"CPU: {cpu_model()}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
              f"torch-fidelity {torch_fidelity.__version__}; load average {load()} at start")
        print(f"pggan generator at {args.resolution}×{args.resolution}, latent 512; LPIPS-VGG16 at "
              f"{args.resolution}×{args.resolution}; batches of {args.batch_size} samples")

        def ours(count: int) -> float:
            return ganeval.ppl(sample, num_samples=count, latent_dim=512, value_range=(-1, 1), device="cpu",
                               batch_size=args.batch_size, allow_unverified_weights=True, lower_percentile=0.0,
                               upper_percentile=100.0)["ppl"]

        def theirs(count: int) -> float:
            model = torch_fidelity.GenerativeModelModuleWrapper(ZeroTo255(sample), 512, "normal", 0)
            return torch_fidelity.calculate_metrics(
                input1=model, input1_model_num_samples=count, ppl=True, ppl_epsilon=1e-4,
                ppl_sample_similarity_resize=None, ppl_sample_similarity_dtype="float32",
                ppl_discard_percentile_lower=None, ppl_discard_percentile_higher=None, batch_size=args.batch_size,
                cuda=False, verbose=False)["perceptual_path_length_mean"]

        best = {}
        for _ in range(args.rounds):
            for name, run in (("ganeval", ours), ("torch-fidelity", theirs)):
                times, means = [], []
                for count in (args.num_samples, 2 * args.num_samples):
                    start = time.perf_counter()
                    with torch.no_grad():
                        means.append(run(count))
                    times.append(time.perf_counter() - start)
                marginal = args.num_samples / (times[1] - times[0])
                best[name] = max(best.get(name, 0.0), marginal)
                print(f"{name:>14}: {args.num_samples} samples {times[0]:.1f} s, {2 * args.num_samples} samples "
                      f"{times[1]:.1f} s; {marginal:.2f} samples/s marginal; PPL of {2 * args.num_samples} "
                      f"{means[1]:.4g} (load {load()})", flush=True)
        print(f"best marginal rates: ganeval {best['ganeval']:.2f}, torch-fidelity {best['torch-fidelity']:.2f} "
              f"samples/s ({best['ganeval'] / best['torch-fidelity']:.2f}×); load average {load()} at end")
    finally:
        shutil.rmtree(hub, ignore_errors=True)


if __name__ == "__main__":
    main()
