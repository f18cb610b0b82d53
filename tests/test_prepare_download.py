"""`pggan prepare --download`: torchvision's downloaders, fed with raw files in the real formats written here (idx
.gz; CIFAR-10's pickled batches in a .tar.gz), whose MD5s replace torchvision's in its class attributes; its
mirrors point at 127.0.0.1 only (a local HTTP server, or a port nothing listens on), so no test reaches the
network."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torchvision
from click.testing import CliRunner

from ganeval.errors import GanevalInputError
from ganeval_cli.pggan_cli import DOWNLOADABLE
from ganeval_cli.pggan_cli import main as pggan_main
from pggan.data import prepare
from pggan.download import DATASETS, prepare_download
from tests.helpers import free_port

IDX_SETS = {"fashion-mnist": torchvision.datasets.FashionMNIST, "mnist": torchvision.datasets.MNIST}
CIFAR = torchvision.datasets.CIFAR10
CIFAR_BATCHES = [*(f"data_batch_{index}" for index in range(1, 6)), "test_batch"]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_idx_gz(path: Path, array: np.ndarray) -> None:
    """An idx file, gzipped: magic (0x0801 labels, 0x0803 images), then each dimension as big-endian uint32."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as file:
        file.write(struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
                   + array.tobytes())


def decode_idx_gz(path: Path) -> np.ndarray:
    """Plain numpy: the images of an idx3-ubyte .gz."""
    data = gzip.decompress(path.read_bytes())
    count, rows, cols = struct.unpack(">III", data[4:16])
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)


def idx_files(folder: Path, seed: int) -> list[tuple[str, str]]:
    """The four idx .gz files of an MNIST-like set (5 training and 3 test digits, random pixels) in `folder`;
    (name, MD5) of each, as torchvision's `resources` lists them."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", 5), ("t10k", 3)):
        write_idx_gz(folder / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (count, 28, 28), np.uint8))
        write_idx_gz(folder / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, count, np.uint8))
    return [(name, md5(folder / name)) for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")]


def cifar_archive(folder: Path, seed: int) -> dict[str, str]:
    """cifar-10-python.tar.gz in `folder`, as published (cifar-10-batches-py/: five training batches, a test batch,
    batches.meta; each a pickled dict, data a uint8 [n, 3072] of R, G, B planes); {member: MD5}."""
    rng = np.random.default_rng(seed)
    members = {name: pickle.dumps({"batch_label": name, "data": rng.integers(0, 256, (2, 3072), np.uint8),
                                   "labels": [1, 2]}) for name in CIFAR_BATCHES}
    members["batches.meta"] = pickle.dumps({"label_names": [f"class {index}" for index in range(10)]})
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / CIFAR.filename, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(f"{CIFAR.base_folder}/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return {name: hashlib.md5(content).hexdigest() for name, content in members.items()}


def unreachable() -> str:
    """A base URL on 127.0.0.1 where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder `served/` holding every data set's raw files; torchvision's MD5s patched to theirs and its URLs to a
    port nothing listens on (a test that serves them points them at its server)."""
    served = tmp_path / "served"
    for seed, (name, dataset) in enumerate(IDX_SETS.items()):
        monkeypatch.setattr(dataset, "resources", idx_files(served / name, seed))
        monkeypatch.setattr(dataset, "mirrors", [unreachable()])
    checksums = cifar_archive(served / "cifar10", 7)
    monkeypatch.setattr(CIFAR, "tgz_md5", md5(served / "cifar10" / CIFAR.filename))
    monkeypatch.setattr(CIFAR, "train_list", [[name, checksums[name]] for name in CIFAR_BATCHES[:5]])
    monkeypatch.setattr(CIFAR, "test_list", [["test_batch", checksums["test_batch"]]])
    monkeypatch.setattr(CIFAR, "meta", {**CIFAR.meta, "md5": checksums["batches.meta"]})
    monkeypatch.setattr(CIFAR, "url", unreachable() + CIFAR.filename)
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(variable, "127.0.0.1")
    return served


def expected_images(served: Path, name: str) -> np.ndarray:
    """What --download must write for `name`, decoded from the files the test wrote with plain numpy: idx digits
    padded by 2 black pixels a side, CIFAR's rows as NCHW."""
    if name == "cifar10":
        with tarfile.open(served / name / CIFAR.filename) as archive:
            batches = [pickle.load(archive.extractfile(f"{CIFAR.base_folder}/{batch}"))["data"]
                       for batch in CIFAR_BATCHES[:5]]
        return np.concatenate(batches).reshape(-1, 3, 32, 32)
    return np.pad(decode_idx_gz(served / name / "train-images-idx3-ubyte.gz"), ((0, 0), (2, 2), (2, 2)))[:, None]


def place(served: Path, name: str, root: Path) -> None:
    """Put `name`'s raw files where torchvision looks for them below `root`, as a user without a network would."""
    folder = root / IDX_SETS[name].__name__ / "raw" if name in IDX_SETS else root
    folder.mkdir(parents=True, exist_ok=True)
    for path in (served / name).iterdir():
        (folder / path.name).write_bytes(path.read_bytes())


def run(*arguments: str | Path) -> tuple[int, str]:
    """`pggan prepare --download …` in process: (exit code, stderr)."""
    result = CliRunner().invoke(pggan_main, ["prepare", "--download", *map(str, arguments)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


@pytest.fixture
def server(files: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 serving `files`' folder: (its base URL, the paths requested so far)."""
    requested: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            requested.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=str(files)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", requested
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def serve(monkeypatch: pytest.MonkeyPatch, base: str, name: str) -> None:
    """Point torchvision's URLs for `name` at `base`/`name`/."""
    if name == "cifar10":
        monkeypatch.setattr(CIFAR, "url", f"{base}cifar10/{CIFAR.filename}")
    else:
        monkeypatch.setattr(IDX_SETS[name], "mirrors", [f"{base}{name}/"])


@pytest.mark.parametrize("name", ["fashion-mnist", "mnist", "cifar10"])
def test_files_already_in_the_root_are_prepared_without_a_download(files, tmp_path, name):
    root = tmp_path / "raw"
    place(files, name, root)
    code, stderr = run(name, root, tmp_path / "out.npz")  # the URLs lead nowhere: a download would fail
    assert code == 0, stderr
    with np.load(tmp_path / "out.npz") as written:
        assert list(written.keys()) == ["images"]
        images = written["images"]
    assert images.dtype == np.uint8 and np.array_equal(images, expected_images(files, name))


@pytest.mark.parametrize("name", ["fashion-mnist", "mnist"])
def test_idx_sets_give_the_bytes_prepare_gives_from_the_same_files(files, tmp_path, name):
    root = tmp_path / "raw"
    place(files, name, root)
    for suffix in (".npy", ".npz"):
        assert run(name, root, tmp_path / f"downloaded{suffix}")[0] == 0
        prepare(files / name / "train-images-idx3-ubyte.gz", tmp_path / f"local{suffix}")
    assert (tmp_path / "downloaded.npy").read_bytes() == (tmp_path / "local.npy").read_bytes()
    with np.load(tmp_path / "downloaded.npz") as downloaded, np.load(tmp_path / "local.npz") as local:
        # an .npz is a zip whose entries carry the time they were written: the array's bytes are compared
        assert downloaded["images"].tobytes() == local["images"].tobytes()
        assert downloaded["images"].shape == local["images"].shape


@pytest.mark.parametrize("name", ["fashion-mnist", "cifar10"])
def test_the_download_path_fetches_from_the_mirror_then_reuses_the_files(files, server, tmp_path, monkeypatch,
                                                                         name):
    base, requested = server
    serve(monkeypatch, base, name)
    root = tmp_path / "raw"
    code, stderr = run(name, root, tmp_path / "out.npy", "--max-images", "4")
    assert code == 0, stderr
    fetched = {path.rpartition("/")[2] for path in requested}
    assert fetched == {path.name for path in (files / name).iterdir()}
    assert np.array_equal(np.load(tmp_path / "out.npy"), expected_images(files, name)[:4])
    requested.clear()
    assert run(name, root, tmp_path / "again.npy")[0] == 0
    assert not requested  # torchvision found the downloaded files, checked them, and fetched nothing


def test_a_file_that_fails_its_checksum_is_named(files, server, tmp_path, monkeypatch):
    base, _ = server
    serve(monkeypatch, base, "mnist")
    resources = list(torchvision.datasets.MNIST.resources)
    resources[1] = (resources[1][0], "0" * 32)  # what the mirror serves is not what torchvision expects
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)
    code, stderr = run("mnist", tmp_path / "raw", tmp_path / "out.npz")
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]  # after torchvision's bars
    assert code == 2 and len(errors) == 1 and "Traceback" not in stderr
    assert "File not found or corrupted" in stderr and f"{base}mnist/train-labels-idx1-ubyte.gz" in stderr
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize("name", ["fashion-mnist", "mnist", "cifar10"])
def test_offline_is_one_line_naming_the_urls_and_where_to_put_which_files(files, tmp_path, name):
    root = tmp_path / "raw"
    code, stderr = run(name, root, tmp_path / "out.npz")
    assert code == 2 and "Traceback" not in stderr
    assert stderr.count("\n") == 1 and stderr.startswith(f"error: --download {name}: could not download")
    assert "Connection refused" in stderr
    title, dataset = DATASETS[name]
    base = dataset.url.rpartition("/")[0] + "/" if name == "cifar10" else dataset.mirrors[0]
    assert title in stderr
    if name == "cifar10":
        assert f"tried {dataset.url})" in stderr
        assert f"fetch {dataset.filename} from {base} on another machine, put it in {root}/ and run" in stderr
    else:
        files_needed = ", ".join(file for file, _ in dataset.resources)
        assert f"tried {base}train-images-idx3-ubyte.gz)" in stderr
        assert (f"fetch {files_needed} from {base} on another machine, put them in "
                f"{root / dataset.__name__ / 'raw'}/ and run this again") in stderr
    assert not (tmp_path / "out.npz").exists()


def test_only_the_files_still_missing_are_named(files, tmp_path):
    root = tmp_path / "raw"
    place(files, "mnist", root)
    (root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    code, stderr = run("mnist", root, tmp_path / "out.npz")
    assert code == 2 and "fetch t10k-labels-idx1-ubyte.gz from" in stderr and "put it in" in stderr


def test_bad_names_list_the_choices(tmp_path):
    code, stderr = run("imagenet", tmp_path, tmp_path / "out.npz")
    assert code == 2 and stderr.count("\n") == 1
    assert all(name in stderr for name in DATASETS)
    with pytest.raises(GanevalInputError, match="choose from fashion-mnist, mnist, cifar10"):
        prepare_download("imagenet", tmp_path, tmp_path / "out.npz")
    assert DOWNLOADABLE == list(DATASETS)  # the command line names them without importing torchvision


def test_an_output_that_is_one_of_the_raw_files_is_refused(files, tmp_path):
    root = tmp_path / "raw"
    place(files, "fashion-mnist", root)
    os.symlink(root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz", tmp_path / "link.npz")
    with pytest.raises(GanevalInputError, match="destroy what is being read"):
        prepare_download("fashion-mnist", root, tmp_path / "link.npz")


def test_resolution_and_max_images_work_as_for_a_local_array(files, tmp_path):
    root = tmp_path / "raw"
    place(files, "cifar10", root)
    info = prepare_download("cifar10", root, tmp_path / "out.npy", resolution=16, max_images=3)
    assert info == {"path": str(tmp_path / "out.npy"), "num_images": 3, "num_channels": 3, "resolution": 16}
    np.save(tmp_path / "cifar.npy", expected_images(files, "cifar10"))
    prepare(tmp_path / "cifar.npy", tmp_path / "local.npy", resolution=16, max_images=3)
    assert (tmp_path / "out.npy").read_bytes() == (tmp_path / "local.npy").read_bytes()


@pytest.mark.parametrize("damage", [lambda data: data[:100], lambda data: b"\xff" * len(data)],
                         ids=["truncated", "bad-header"])
def test_unpacked_files_that_are_damaged_are_named(files, tmp_path, damage):
    root = tmp_path / "raw"
    place(files, "fashion-mnist", root)
    folder = root / "FashionMNIST" / "raw"
    for packed in folder.glob("*.gz"):  # torchvision trusts unpacked files that exist: it checks the .gz only
        packed.with_suffix("").write_bytes(gzip.decompress(packed.read_bytes()))
    unpacked = folder / "train-images-idx3-ubyte"
    unpacked.write_bytes(damage(unpacked.read_bytes()))
    code, stderr = run("fashion-mnist", root, tmp_path / "out.npz")
    assert code == 2 and stderr.count("\n") == 1 and "Traceback" not in stderr
    assert f"files in {folder} are there but could not be read" in stderr and "delete them" in stderr


def test_a_recompressed_copy_is_named_and_taken_once_unpacked(files, tmp_path, monkeypatch):
    root = tmp_path / "raw"
    place(files, "fashion-mnist", root)
    folder = root / "FashionMNIST" / "raw"
    packed = folder / "train-images-idx3-ubyte.gz"
    packed.write_bytes(gzip.compress(gzip.decompress(packed.read_bytes()), compresslevel=1, mtime=0))  # as Debian's
    code, stderr = run("fashion-mnist", root, tmp_path / "out.npz")
    assert code == 2 and stderr.count("\n") == 1
    assert "fetch train-images-idx3-ubyte.gz from" in stderr
    assert "(train-images-idx3-ubyte.gz in it fails torchvision's MD5 check" in stderr and "gunzip -k *.gz" in stderr
    for each in folder.glob("*.gz"):  # gunzip -k *.gz
        each.with_suffix("").write_bytes(gzip.decompress(each.read_bytes()))
    assert run("fashion-mnist", root, tmp_path / "out.npz")[0] == 0
    with np.load(tmp_path / "out.npz") as written:
        assert np.array_equal(written["images"], expected_images(files, "fashion-mnist"))
