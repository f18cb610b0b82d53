"""The `ganeval` command: GAN metrics on folders, arrays or stats files; a thin layer over the library."""

from __future__ import annotations

from pathlib import Path

import click

import ganeval
from ganeval import registry
from ganeval.defaults import MAX_DEMO_RESOLUTION, MIN_RESOLUTION
from ganeval_cli.common import SEED, CommandGroup, DeviceType, OutputPath, at_least, emit
from ganeval_cli.metric_commands import metric_commands


def overview() -> str:
    """`ganeval --help`: the commands, one line each (the metric commands from the registry), inputs, exit codes."""
    metric_lines = []
    for name, cls in registry.metrics().items():
        sets = " ".join("--generator M:F" if cls.reads_generator() else argument.upper()
                        if set_name not in cls.optional_sets else f"[{argument.upper()}]"
                        for argument, set_name in cls.sets.items())
        line = f"ganeval {name} {sets}"
        metric_lines.append(line.ljust(27) + cls.title if len(line) < 27 else f"{line}\n{'':27}{cls.title}")
    return "\n".join([
        "Evaluate GAN samples the way the papers do.", "", "\b",
        "ganeval eval REAL FAKE     every metric asked for (--metrics a,b,…) in one pass", *metric_lines,
        "ganeval stats REAL -o F    save the real set's statistics once, then pass F instead of REAL",
        "ganeval stats import FILE -o F --from pytorch-fid|clean-fid|torch-fidelity|ttur",
        "                           another tool's FID statistics as such a file",
        "ganeval demo               make two small image folders and score them (no data needed)", "",
        "REAL and FAKE are folders of images (png/jpg/bmp/webp/gif/tif, searched recursively), .npy/.npz arrays "
        "(NHWC or NCHW; uint8, or float with --value-range), or stats files.", "", "\b",
        "Exit codes: 0 ok, 2 bad input (one `error:` line says which option or file and why),",
        "1 an unexpected error (a bug: please report the traceback), 130 interrupted."])


@click.group(cls=CommandGroup, help=overview())
@click.version_option(ganeval.__version__, prog_name="ganeval")
def main() -> None:
    pass


@main.command()
@click.option("--out", default="ganeval-demo", show_default=True, type=OutputPath(folder=True),
              help="Folder to write real/ and fake/ into.")
@click.option("--num-images", type=at_least(2), default=256, show_default=True, help="Images per set.")
@click.option("--resolution", type=click.IntRange(MIN_RESOLUTION, MAX_DEMO_RESOLUTION), default=64,
              show_default=True, help="Side of the square images (SWD needs ≥ 16; the photographs allow ≤ 150).")
@click.option("--device", type=DeviceType(), default=None, help="cpu, cuda, … (default: cuda when available).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the crops and of the metrics.")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
def demo(out: str, num_images: int, resolution: int, device: str | None, seed: int, as_json: bool) -> None:
    """Write two small image folders from scikit-image's bundled photographs and score them with SWD.

    real/ holds random crops of the photographs; fake/ holds other crops, blurred (σ = 1 px) as an
    imperfect generator would. The SWD table shows the blur most at the finest pyramid level.
    """
    from ganeval.demo import write_demo_sets

    real_dir, fake_dir = write_demo_sets(Path(out), num_images=num_images, resolution=resolution, seed=seed)
    click.echo(f"wrote {num_images} real and {num_images} fake {resolution}×{resolution} images under {out}/",
               err=True)
    result = ganeval.swd(real_dir, fake_dir, device=device, seed=seed)
    result["real"], result["fake"] = str(real_dir), str(fake_dir)
    emit(result, as_json, registry.metric_class("swd")().rows(result))


for command in metric_commands():
    main.add_command(command)
