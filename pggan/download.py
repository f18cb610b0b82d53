"""`pggan prepare --download`: Fashion-MNIST, MNIST and CIFAR-10 fetched by torchvision's own downloaders (which
check each file's MD5, and download nothing that is already there) and prepared as `pggan.data.prepare` prepares
the same files."""

from __future__ import annotations

import os
from pathlib import Path

import torchvision
from torchvision.datasets.utils import check_integrity

from ganeval.errors import GanevalInputError
from ganeval.files import refuse_overwriting_input
from pggan.data import array_images, check_prepare_options, idx_images, write_prepared

DATASETS: dict[str, tuple[str, type[torchvision.datasets.VisionDataset]]] = {
    "fashion-mnist": ("Fashion-MNIST", torchvision.datasets.FashionMNIST),
    "mnist": ("MNIST", torchvision.datasets.MNIST),
    "cifar10": ("CIFAR-10", torchvision.datasets.CIFAR10),
}


def _downloads(name: str, root: Path) -> tuple[Path, dict[str, list[str]]]:
    """(the folder torchvision keeps data set `name`'s downloads in below `root`, {file: the URLs it is fetched
    from} for each download)."""
    dataset = DATASETS[name][1]
    if issubclass(dataset, torchvision.datasets.MNIST):
        return root / dataset.__name__ / "raw", {file: [mirror + file for mirror in dataset.mirrors]
                                                  for file, _ in dataset.resources}
    return root, {dataset.filename: [dataset.url]}


def _read_files(name: str, root: Path) -> list[Path]:
    """Every file torchvision downloads, unpacks or reads for data set `name` below `root`."""
    folder, downloads = _downloads(name, root)
    dataset = DATASETS[name][1]
    if issubclass(dataset, torchvision.datasets.MNIST):
        return [folder / file for file in downloads] + [folder / file.removesuffix(".gz") for file in downloads]
    unpacked = [file for file, _ in dataset.train_list + dataset.test_list] + [dataset.meta["filename"]]
    return [folder / file for file in downloads] + [root / dataset.base_folder / file for file in unpacked]


def _missing(name: str, root: Path) -> list[str]:
    """The downloads of data set `name` torchvision still lacks below `root` (the same checks as its own)."""
    folder, downloads = _downloads(name, root)
    dataset = DATASETS[name][1]
    if issubclass(dataset, torchvision.datasets.MNIST):
        checksums = dict(dataset.resources)
        return [file for file in downloads if not (folder / file.removesuffix(".gz")).is_file()
                and not check_integrity(folder / file, checksums[file])]
    unpacked = all(check_integrity(root / dataset.base_folder / file, checksum)
                   for file, checksum in dataset.train_list + dataset.test_list)
    return [] if unpacked or check_integrity(folder / dataset.filename, dataset.tgz_md5) else [dataset.filename]


def _fetch_failed(name: str, root: Path, error: BaseException) -> str:
    """One line: what failed, the URLs tried and which files to place in which folder to do without a network."""
    title = DATASETS[name][0]
    folder, downloads = _downloads(name, root)
    reason = (str(error).strip().splitlines() or [type(error).__name__])[-1]  # torchvision's lists every mirror's
    missing = _missing(name, root)
    if not missing:
        return (f"--download {name}: {title}'s files in {folder} are there but could not be read ({reason}); "
                "delete them and run this again to download them anew")
    tried = downloads[missing[0]]  # torchvision fetches the files in order: the first one missing failed
    places = " or ".join(url.rpartition("/")[0] + "/" for url in tried)
    message = (f"--download {name}: could not download {title} ({reason}; tried {', '.join(tried)}). Without a "
               f"network, fetch {', '.join(missing)} from {places} on another machine, put "
               f"{'it' if len(missing) == 1 else 'them'} in {folder}/ and run this again")
    differing = [file for file in missing if (folder / file).is_file()]
    if differing and issubclass(DATASETS[name][1], torchvision.datasets.MNIST):
        message += (f" ({', '.join(differing)} in it fail{'s' if len(differing) == 1 else ''} torchvision's MD5 "
                    "check; a re-compressed copy, e.g. Debian's, is taken unpacked instead: run `gunzip -k *.gz` "
                    "there, torchvision takes unpacked files as they are)")
    elif differing:
        message += f" ({', '.join(differing)} in it fails torchvision's MD5 check)"
    return message


def prepare_download(name: str, root: str | os.PathLike, out_path: str | os.PathLike, *,
                     resolution: int | None = None, max_images: int | None = None) -> dict:
    """Write `out_path` from data set `name`'s training images, downloaded into `root` by torchvision if not there."""
    if name not in DATASETS:
        raise GanevalInputError(f"--download {name}: unknown data set; choose from {', '.join(DATASETS)}")
    root, out_path = Path(root), Path(out_path)
    check_prepare_options(out_path, resolution, max_images)
    if root.exists() and not root.is_dir():
        raise GanevalInputError(f"{root}: is a file, expected the folder to keep the downloads in")
    refuse_overwriting_input(out_path, [(f"--download {name}", path) for path in _read_files(name, root)])
    dataset_class = DATASETS[name][1]
    try:
        dataset = dataset_class(root, train=True, download=True)
    except Exception as error:  # only torchvision runs here: failed downloads, checksums, archives; damaged files
        raise GanevalInputError(_fetch_failed(name, root, error)) from None
    label = f"{name} in {root}"
    if issubclass(dataset_class, torchvision.datasets.MNIST):
        images = idx_images(dataset.data.numpy(), resolution, label)
    else:
        images = array_images(dataset.data, resolution, label)
    return write_prepared(out_path, images, max_images, label)
