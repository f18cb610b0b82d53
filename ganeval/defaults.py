"""The protocol constants that the command line shows in --help, in a module that imports nothing.

The metric definitions, kernels and accumulators take their defaults from here, and so does the command line, so
that `--help` and argument errors answer without importing torch and numpy (about 2–5 s on a small CPU).
"""

VERSION = "0.1.0"  # ganeval's version (`ganeval --version`, recorded in every stats file)

# Seeds: numpy's RandomState (KID's subsets) takes seeds below 2**32; every seed here shares its range.
MAX_SEED = 2**32 - 1

# SWD (the defaults of progressive_growing_of_gans/metrics/sliced_wasserstein.py).
NHOODS_PER_IMAGE = 128  # 7×7 neighbourhoods drawn per image and pyramid level
NHOOD_SIZE = 7
DIR_REPEATS = 4  # sets of random directions averaged per level
DIRS_PER_REPEAT = 128  # random unit directions per set
MIN_RESOLUTION = 16  # the coarsest pyramid level
# Seed streams: SWD's neighbourhood positions of each set and its directions, a generator callable's images; every
# random choice is drawn from (seed, stream, …), so the streams never share draws.
STREAM_REAL, STREAM_FAKE, STREAM_DIRECTIONS, STREAM_GENERATOR = 0, 1, 2, 3

# MS-SSIM (Wang et al. 2003, as the PGGAN reference code): five levels and their weights, the Gaussian window, the
# SSIM constants and the 0–255 value range.
MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
FILTER_SIZE = 11
FILTER_SIGMA = 1.5
K1, K2 = 0.01, 0.03
MAX_VALUE = 255.0
# MS-SSIM: how images are paired.
PAIRINGS = ("consecutive", "random")
DEFAULT_PAIRS = "consecutive"

# KID: subsets the estimate is averaged over, images drawn per subset.
DEFAULT_NUM_SUBSETS = 100
DEFAULT_SUBSET_SIZE = 1000

# Improved precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020): the k of the
# k-nearest-neighbour spheres, as in the papers.
DEFAULT_PR_K = 3
DEFAULT_DC_K = 5

# Inception Score: consecutive splits (the CIFAR-10 protocol).
DEFAULT_SPLITS = 10

# The Inception network of FID, KID and IS: input resizes, and where its weights file is found.
RESIZE_MODES = ("tf", "clean", "pytorch-fid")
DEFAULT_RESIZE = "tf"
PRECISIONS = ("fp32", "tf32")  # float32 arithmetic of the extractors on CUDA: full, or TF32 allowed
DEFAULT_PRECISION = "fp32"
WEIGHTS_FILE_NAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS_FILE_NAME
WEIGHTS_ENV = "GANEVAL_INCEPTION_WEIGHTS"
OFFLINE_ENV = "GANEVAL_OFFLINE"

# `ganeval stats import`: the tools whose FID statistics files it reads, and clean-fid's modes (its file names say
# which, as `{name}_{mode}_{split}_{res}.npz`).
IMPORT_SOURCES = ("pytorch-fid", "clean-fid", "torch-fidelity", "ttur")
CLEAN_FID_MODES = ("clean", "legacy_tensorflow", "legacy_pytorch")

# `ganeval demo`: the smallest bundled photograph, halved, is 150 px high.
MAX_DEMO_RESOLUTION = 150

# Feature extractors of FID, KID, precision/recall and density/coverage (IS needs Inception's class logits).
FEATURE_EXTRACTORS = ("inception-v3-tf", "dinov2-vit-l14", "vgg16-fc2")
DEFAULT_FEATURES = "inception-v3-tf"
DINOV2_FILE_NAME = "dinov2_vitl14_pretrain.pth"  # the official release's name (torch hub's cache keeps it)
DINOV2_URL = "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/" + DINOV2_FILE_NAME
DINOV2_TIMM_HUB_ID = "timm/vit_large_patch14_dinov2.lvd142m"  # the same weights as timm publishes them
DINOV2_WEIGHTS_ENV = "GANEVAL_DINOV2_WEIGHTS"

# Perceptual path length (Karras et al. 2019, StyleGAN §3, as NVlabs' stylegan and stylegan2-ada-pytorch compute it):
# pairs of latents a step ε apart, the LPIPS distance of their images over ε², the 1st–99th percentile kept.
PPL_NUM_SAMPLES = 50_000
PPL_EPSILON = 1e-4
PPL_SPACES = ("z", "w")  # slerp between normalised latents, or lerp between mapped ones (mapping + synthesis)
DEFAULT_PPL_SPACE = "z"
PPL_SAMPLINGS = ("end", "full")  # t = 0, or t ~ U(0, 1)
DEFAULT_PPL_SAMPLING = "end"
PPL_LOWER_PERCENTILE, PPL_UPPER_PERCENTILE = 1.0, 99.0  # numpy 'lower' and 'higher' interpolation
PPL_MAX_SIZE = 256  # larger images are box-averaged down by size // 256 (VGG-16 was built for 224 px)
# LPIPS v0.1 (Zhang et al. 2018) on VGG-16: the torchvision ImageNet backbone and the linear layers that ship in the
# `lpips` wheel (lpips/weights/v0.1/vgg.pth; torch-fidelity caches the same tensors as weights-vgg16-lpips.pth).
VGG16_FILE_NAME = "vgg16-397923af.pth"
VGG16_URL = "https://download.pytorch.org/models/" + VGG16_FILE_NAME
VGG16_WEIGHTS_ENV = "GANEVAL_VGG16_WEIGHTS"
LPIPS_FILE_NAME = "vgg.pth"
TORCH_FIDELITY_LPIPS_FILE_NAME = "weights-vgg16-lpips.pth"

# Linear separability (Karras et al. 2019, StyleGAN §4.2): samples, the most confident half per attribute, a linear SVM.
LS_NUM_SAMPLES = 200_000

# Seed streams of the metrics that draw their own latents: PPL's pairs and t, LS's latents (per sample index).
STREAM_PPL, STREAM_LS = 4, 5
