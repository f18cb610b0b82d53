"""Kept only for benchmarks/bench_evaluate.py and benchmarks/bench_fid.py, which import these three helpers by this
name. They live in tests/helpers.py (the fixtures in tests/conftest.py); no test module imports this one. Delete
this file once the benchmarks import `tests.helpers`."""

from tests.helpers import make_images, random_state_dict, write_folder

__all__ = ["make_images", "random_state_dict", "write_folder"]
