"""The grids `pggan ablation` trains and tabulates: Table 1 of Karras et al. (2018), MSG-GAN's switches (Karnewar & Wang
2020), Table 1 of StyleGAN (Karras et al. 2019) and Table 1 of StyleGAN2 (Karras et al. 2020). A grid's row is a
preset and the settings that make it that row, with its label; a grid may carry the trends its paper states and the
paper's own figures, read beside the measured table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pggan.config import CONFIG_ORDER, TrainConfig, make_config
from pggan.errors import ConfigError


@dataclass(frozen=True)
class Grid:
    """Rows (name → preset and its row settings) in table order, their labels, the files' stem and title, and the
    paper's trends (what, measure, row, reference row, direction of row − reference) and figures per row."""

    name: str
    title: str
    stem: str  # the tables are STEM.md, STEM.csv, STEM.json and STEM_per_seed.csv
    rows: dict[str, tuple[str, dict[str, Any]]]
    labels: dict[str, str]
    trends: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    # Row → (SWD ×10³ per level, average, MS-SSIM) as the paper reports them (no values of ours).
    paper: dict[str, tuple[list[float], float, float]] = field(default_factory=dict)
    # Row → {data set: FID} as the paper reports them, and where (for a paper that reports FID, not SWD).
    paper_fid: dict[str, dict[str, float]] = field(default_factory=dict)
    paper_fid_source: str = ""
    # The PPL column's space and sampling (StyleGAN §3.2): Z with t ~ U(0, 1) wherever a row has no mapping network;
    # StyleGAN2's Table 1 measures its "path length" in W between path endpoints.
    ppl_space: str = "z"
    ppl_sampling: str = "full"

    def config(self, row: str, budget: str | None, **settings: Any) -> TrainConfig:
        """Row `row`'s TrainConfig: its preset with `budget` and `settings` (shared by every row), then the row's
        own settings, which `settings` may not change."""
        if row not in self.rows:
            raise ConfigError("configs", f"{row!r} is no row of the {self.name} grid ({', '.join(self.rows)})")
        preset, own = self.rows[row]
        clash = sorted(set(settings) & set(own))
        if clash:
            raise ConfigError(clash[0], f"{clash[0]} is what the {self.name} grid's rows differ in; it cannot be set "
                                        "for every row")
        return make_config(preset, budget, **{**settings, **own})


# Table 1 (§6.1), each row a preset of pggan/config.py.
ROW_LABELS = {
    "a": "(a) Gulrajani et al. (2017)", "b": "(b) + Progressive growing", "c": "(c) + Small minibatch",
    "d": "(d) + Revised training parameters", "e_star": "(e*) + Minibatch discrimination",
    "e": "(e) Minibatch stddev", "f": "(f) + Equalized learning rate", "g": "(g) + Pixelwise normalization",
    "h": "(h) Converged",
}
# Karras et al. 2018, Table 1, CelebA column at 128×128: SWD ×10³ at 128, 64, 32, 16 px, their average, and
# MS-SSIM — transcribed from the paper for side-by-side reading; they are not ours and not comparable in scale
# to other data sets or resolutions.
PAPER_CELEBA = {
    "a": ([12.99, 7.79, 7.62, 8.73], 9.28, 0.2854), "b": ([4.62, 2.64, 3.78, 6.06], 4.28, 0.2838),
    "c": ([75.42, 41.33, 41.62, 26.57], 46.23, 0.4065), "d": ([9.20, 6.53, 4.71, 11.84], 8.07, 0.3027),
    "e_star": ([10.76, 6.28, 6.04, 16.29], 9.84, 0.3057), "e": ([13.94, 5.67, 2.82, 5.71], 7.04, 0.2950),
    "f": ([4.42, 3.28, 2.32, 7.52], 4.39, 0.2902), "g": ([4.06, 3.04, 2.02, 5.13], 3.56, 0.2845),
    "h": ([2.42, 2.17, 2.24, 4.99], 2.96, 0.2828),
}
# The trends the paper states for Table 1 (§6.1), each as (what, measure, row, reference row, the paper's direction
# of row − reference): checked on the measured numbers below every table.
TRENDS = [
    ("progressive growing beats the baseline", "swd_x1e3_avg", "b", "a", -1),
    ("a small minibatch hurts before the revised parameters", "swd_x1e3_avg", "c", "b", +1),
    ("the revised training parameters recover", "swd_x1e3_avg", "d", "c", -1),
    ("minibatch discrimination does not help", "swd_x1e3_avg", "e_star", "d", +1),
    ("minibatch stddev improves SWD", "swd_x1e3_avg", "e", "d", -1),
    ("minibatch stddev lowers MS-SSIM", "msssim", "e", "d", -1),
    ("the equalized learning rate improves SWD", "swd_x1e3_avg", "f", "e", -1),
    ("pixelwise normalization improves SWD", "swd_x1e3_avg", "g", "f", -1),
    ("training longer (h) improves SWD", "swd_x1e3_avg", "h", "g", -1),
]
TABLE1 = Grid("table1", "Table 1", "table1", {name: (name, {}) for name in CONFIG_ORDER}, ROW_LABELS, TRENDS,
              PAPER_CELEBA)

# MSG-GAN's switches on (g), one at a time: no connections (PGGAN's networks without growing), then which scales
# are connected (pggan.config.msg_scales), then the combine function φ with every scale connected.
# The trends the paper states (Karnewar & Wang 2020, Tables 4 and 5, for MSG-ProGAN; its numbers are of other
# networks and data, so none are shown beside ours): multi-scale gradients help, every connection at least as good
# as a subset, φ simple at least as good as the other two, and MSG-ProGAN at least as good as ProGAN at equal kimg.
MSG_LEARNING_RATES = (0.003, 0.005, 0.01)  # with R4's 0.001: the four rates of the robustness rows R7
MSG_TRENDS = [
    ("multi-scale gradients beat no connections", "swd_x1e3_avg", "R4", "R1", -1),
    ("all scales connected at least as good as the coarse ones", "swd_x1e3_avg", "R4", "R2", -1),
    ("all scales connected at least as good as the middle ones", "swd_x1e3_avg", "R4", "R3", -1),
    ("φ simple at least as good as lin_cat", "swd_x1e3_avg", "R4", "R5", -1),
    ("φ simple at least as good as cat_lin", "swd_x1e3_avg", "R4", "R6", -1),
    ("MSG (all, simple) at least as good as progressive growing at equal kimg", "swd_x1e3_avg", "R4", "R0", -1),
]
MSG = Grid("msg", "MSG-GAN grid", "msg_grid", {
    "R0": ("g", {}),
    "R1": ("msg", {"msg_connections": "none"}),
    "R2": ("msg", {"msg_connections": "coarse"}),
    "R3": ("msg", {"msg_connections": "middle"}),
    "R4": ("msg", {"msg_connections": "all", "msg_combine": "simple"}),
    "R5": ("msg", {"msg_connections": "all", "msg_combine": "lin_cat"}),
    "R6": ("msg", {"msg_connections": "all", "msg_combine": "cat_lin"}),
    # The robustness claim (Table 3): R4 at other learning rates (R4 itself has (g)'s 0.001) still converges.
    **{f"R7_lr{rate}": ("msg", {"msg_connections": "all", "msg_combine": "simple", "g_lr": rate, "d_lr": rate})
       for rate in MSG_LEARNING_RATES},
}, {
    "R0": "R0 (g) progressive growing", "R1": "R1 MSG, no connections", "R2": "R2 MSG, coarse scales",
    "R3": "R3 MSG, middle scales", "R4": "R4 MSG, all scales, simple", "R5": "R5 MSG, all scales, lin_cat",
    "R6": "R6 MSG, all scales, cat_lin",
    **{f"R7_lr{rate}": f"R7 R4 at learning rate {rate}" for rate in MSG_LEARNING_RATES},
}, MSG_TRENDS)

# StyleGAN's Table 1 (Karras et al. 2019): the baseline Progressive GAN, then its generator changes one at a time,
# cumulative (presets stylegan_b … stylegan_f of pggan/config.py; (A) is Table 1 (g) of Progressive GAN).
STYLEGAN_LABELS = {
    "A": "(A) Baseline Progressive GAN", "B": "(B) + Tuning (incl. bilinear up/down)",
    "C": "(C) + Add mapping and styles", "D": "(D) + Remove traditional input", "E": "(E) + Add noise inputs",
    "F": "(F) + Mixing regularization",
}
# Its FID per row, CelebA-HQ and FFHQ at 1024×1024, transcribed for reading trends side by side (not ours, and not
# comparable in value to any SWD or to other data). The paper trains CelebA-HQ with WGAN-GP and FFHQ with the
# logistic loss and R1 from (B) on, as rows B–F here: the FFHQ column is the one these rows follow.
PAPER_STYLEGAN_FID = {
    "A": {"CelebA-HQ": 7.79, "FFHQ": 8.04}, "B": {"CelebA-HQ": 6.11, "FFHQ": 5.25},
    "C": {"CelebA-HQ": 5.34, "FFHQ": 4.85}, "D": {"CelebA-HQ": 5.07, "FFHQ": 4.88},
    "E": {"CelebA-HQ": 5.06, "FFHQ": 4.42}, "F": {"CelebA-HQ": 5.17, "FFHQ": 4.40},
}
# The trends its Table 1 and §2 state, on our SWD (FID needs Inception weights; SWD is what every run measures).
STYLEGAN_TRENDS = [
    ("tuning (binomial resampling, logistic loss with R1) beats the baseline", "swd_x1e3_avg", "B", "A", -1),
    ("the mapping network and styles improve on the tuned baseline", "swd_x1e3_avg", "C", "B", -1),
    ("the learned constant input at least as good as the traditional input", "swd_x1e3_avg", "D", "C", -1),
    ("noise inputs improve", "swd_x1e3_avg", "E", "D", -1),
    ("mixing regularisation does not hurt", "swd_x1e3_avg", "F", "E", -1),
    ("the style-based generator (F) beats the baseline", "swd_x1e3_avg", "F", "A", -1),
]
STYLEGAN = Grid("stylegan", "StyleGAN Table 1", "stylegan_table1", {
    "A": ("g", {}), "B": ("stylegan_b", {}), "C": ("stylegan_c", {}), "D": ("stylegan_d", {}),
    "E": ("stylegan_e", {}), "F": ("stylegan_f", {}),
}, STYLEGAN_LABELS, STYLEGAN_TRENDS, paper_fid=PAPER_STYLEGAN_FID,
    paper_fid_source="Karras et al. 2019, Table 1, at 1024×1024")

# StyleGAN2's Table 1 (Karras et al. 2020): StyleGAN (row F of its Table 1), then the changes one at a time,
# cumulative (presets stylegan2_a … stylegan2_f of pggan/config.py).
STYLEGAN2_LABELS = {
    "A": "(A) Baseline StyleGAN", "B": "(B) + Weight demodulation", "C": "(C) + Lazy regularization",
    "D": "(D) + Path length regularization", "E": "(E) + No growing, new G & D arch.", "F": "(F) + Large networks",
}
# Its FID per row on FFHQ at 1024×1024, for reading trends side by side (not ours). F's 2.84 is the published
# headline figure; A–E are from memory of the table, unverified (docs/pggan/stylegan2.md says so, with the path
# lengths).
PAPER_STYLEGAN2_FID = {
    "A": {"FFHQ": 4.40}, "B": {"FFHQ": 4.39}, "C": {"FFHQ": 4.38}, "D": {"FFHQ": 4.34}, "E": {"FFHQ": 3.31},
    "F": {"FFHQ": 2.84},
}
# The trends its Table 1 and §2–4 state, on our SWD. Path length regularisation's own effect — a lower perceptual
# path length (D below C) — is not among them: PPL is measured only where LPIPS's VGG-16 weights are at hand, and a
# trend must be checkable on every run.
STYLEGAN2_TRENDS = [
    ("weight demodulation does not hurt", "swd_x1e3_avg", "B", "A", -1),
    # §2.1–2.2: AdaIN makes droplets, demodulation removes them (pggan.droplets): the share of the top resolution's
    # maps above the droplet threshold. Not the p99 peak ratio itself, which differs between the two rows' measuring
    # points before any training (AdaIN's post-activation input against the conv's output: 10.9 against 5.1 at
    # 32×32 in untrained generators, benchmarks/droplets_at_init.py).
    ("weight demodulation removes the droplets", "droplet_fraction", "B", "A", -1),
    ("lazy regularisation does not hurt", "swd_x1e3_avg", "C", "B", -1),
    ("path length regularisation does not hurt", "swd_x1e3_avg", "D", "C", -1),
    ("no growing with the skip G and residual D improves", "swd_x1e3_avg", "E", "D", -1),
    ("large networks improve", "swd_x1e3_avg", "F", "E", -1),
    ("StyleGAN2 (F) beats StyleGAN (A)", "swd_x1e3_avg", "F", "A", -1),
]
STYLEGAN2 = Grid("stylegan2", "StyleGAN2 Table 1", "stylegan2_table1", {
    row: (f"stylegan2_{row.lower()}", {}) for row in STYLEGAN2_LABELS
}, STYLEGAN2_LABELS, STYLEGAN2_TRENDS, paper_fid=PAPER_STYLEGAN2_FID,
    paper_fid_source="Karras et al. 2020, Table 1, FFHQ at 1024×1024; A–E unverified", ppl_space="w",
    ppl_sampling="end")

GRIDS = {grid.name: grid for grid in (TABLE1, MSG, STYLEGAN, STYLEGAN2)}
