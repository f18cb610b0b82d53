"""`ganeval stats import FILE -o F --from TOOL`: another tool's FID statistics as a ganeval stats file."""

from __future__ import annotations

import click

from ganeval.defaults import CLEAN_FID_MODES, IMPORT_SOURCES
from ganeval_cli.common import OutputPath, emit


@click.command("import")
@click.argument("source", metavar="FILE")
@click.option("-o", "--output", required=True, type=OutputPath(suffixes=(".npz",)),
              help="The stats file to write (.npz); written atomically, its folder checked first.")
@click.option("--from", "tool", required=True, type=click.Choice(IMPORT_SOURCES),
              help="The tool that wrote FILE.")
@click.option("--mode", type=click.Choice(CLEAN_FID_MODES), default=None,
              help="clean-fid's mode, when FILE's name does not say it ({name}_{mode}_{split}_{res}.npz).")
@click.option("--tool-version", default=None, help="The tool's version that wrote FILE, recorded as given (the "
                                                   "files do not say).")
@click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
              help="The Inception weights file the tool ran with, if not the published one (its SHA-256 is "
                   "recorded; the statistics are then not comparable to published numbers).")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
def import_command(source: str, output: str, tool: str, mode: str | None, tool_version: str | None,
                   inception_weights: str | None, as_json: bool) -> None:
    """Convert another tool's FID reference statistics, FILE, into a ganeval stats file for `ganeval fid`.

    Reads pytorch-fid's `--save-stats` .npz, clean-fid's statistics .npz ({name}_{mode}_{split}_{res}.npz),
    torch-fidelity's cached {input}-inception-v3-compat-stat-fid-2048.pt or TTUR's fid_stats_*.npz; the mean and
    covariance are kept bit for bit. The file records where they came from and the tool's protocol, which
    `ganeval fid OUTPUT FAKE` must then match: pytorch-fid's and clean-fid's legacy_pytorch statistics need
    --resize pytorch-fid, clean-fid's clean mode --resize clean; clean-fid's legacy_tensorflow, torch-fidelity's
    and TTUR's statistics follow the TF protocol (--resize tf, the default), the only ones comparable to published
    numbers. The precomputed fid_stats_*.npz that pytorch-fid's README points to are TTUR's (TensorFlow): import
    them --from ttur, not --from pytorch-fid. FID only: without features, KID needs the real images.

    \b
    Example:  ganeval stats import cifar10_legacy_tensorflow_train_32.npz -o cifar10.npz --from clean-fid
              ganeval fid cifar10.npz samples/
    """
    from ganeval.stats_import import import_stats

    record = import_stats(source, output, tool=tool, mode=mode, tool_version=tool_version,
                          inception_weights=inception_weights)
    imported, settings = record["imported"], record["settings"]
    result = {"metric": "stats-import", "output": str(output), "resize": settings["resize"],
              "weights_sha256": settings["weights_sha256"],
              "comparable_to_published": record["comparable_to_published"], **imported}
    emit(result, as_json, [
        ("wrote", str(output)), ("from", tool + (f" {tool_version}" if tool_version else "")
                                 + (f" (mode {imported['mode']})" if imported["mode"] else "")),
        ("protocol", imported["protocol"]), ("use with", f"ganeval fid {output} FAKE --resize {settings['resize']}"),
        ("comparable to published", "yes" if record["comparable_to_published"] else "no"),
        ("source sha256", imported["source_sha256"][:16] + "…")])
