"""Figures: what was drawn (structure, labels), not pixels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from probmodel.analysis.sensitivity import Tornado
from probmodel.plots import run as prun
from probmodel.plots import sensitivity as ps


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _texts(fig):
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts] + [ax.get_title(), ax.get_xlabel()]
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
            out.append(leg.get_title().get_text())
    return out


def test_distributions_one_panel_per_output_with_p_profit():
    rng = np.random.default_rng(0)
    profit = rng.normal(1e4, 5e4, 20_000)
    draws = {"margin": profit / 1.3e5, "profit": profit,
             "chips_required": rng.lognormal(8, 0.3, 20_000)}
    fig = prun.plot_distributions(draws, 0.5793, 0.004, "T")
    assert len(fig.axes) == 3
    assert [a.get_xlabel() for a in fig.axes] == [
        "margin (%)", "profit ($k/day)", "chips_required (thousand chips)"]
    notes = [t for t in _texts(fig) if "P(profit > 0)" in t]
    assert len(notes) == 2  # margin and profit panels, not chips
    assert all("57.9% ± 0.4% (MCSE)" in t for t in notes)
    with pytest.raises(ValueError, match="none of"):
        prun.plot_distributions({"revenue": profit})


def test_exceedance_is_one_minus_the_cdf_and_marks_zero():
    x = np.arange(1, 1001, dtype=float) * 1000 - 300_000  # 300 of 1000 draws <= 0
    fig = prun.plot_exceedance(x)
    ax = fig.axes[0]
    line = ax.lines[0]
    xs, ys = line.get_xdata(), line.get_ydata()
    assert np.all(np.diff(xs) >= 0)
    assert np.all(np.diff(ys) <= 0)
    assert ax.get_xlabel() == "profit ($k/day)"
    # the marked point: P(profit > 0) = 700/1000 at x = 0
    assert any("70.0% ±" in t for t in _texts(fig))


def _tornado(scale=1.0):
    return Tornado("margin", 0.04, ("pay_rate", "gpu_price_per_hour", "dau"),
                   np.array([0.1507, 1.5, 1.67e7]), np.array([0.578, 2.67, 3.75e7]),
                   np.array([-1.2, 0.28, 0.04]) * scale, np.array([0.42, -0.28, 0.04]) * scale,
                   ("1", "USD/(GPU h)", "user"), "T")


def test_tornado_leaves_out_inputs_without_effect_and_labels_with_units():
    fig = ps.plot_tornado(_tornado())
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["pay_rate", "gpu_price_per_hour"]
    labels = [t.get_text() for t in ax.texts]
    assert "15.1%" in labels
    assert "57.8%" in labels
    assert "$1.50/GPU-h" in labels
    assert "$2.67/GPU-h" in labels
    assert any("dau" in t and "no effect" in t for t in _texts(fig))
    # the legend sits under the axes, not over a bar
    assert ax.get_legend().get_bbox_to_anchor().y0 < ax.get_window_extent().y0


def test_two_range_tornado_has_inner_bars_inside_outer_ones():
    outer, inner = _tornado(1.0), _tornado(0.6)
    fig = ps.plot_tornado_ranges(outer, inner)
    bars = fig.axes[0].patches
    assert len(bars) == 4 * 2  # outer low/high and inner low/high for 2 moving inputs
    widths = np.array([abs(b.get_width()) for b in bars]).reshape(4, 2)
    assert np.all(widths[2:] < widths[:2])


def test_spider_one_line_per_input_over_percentiles():
    pct = np.arange(5, 100, 10)
    med = {"pay_rate": np.linspace(-1, 0.4, 10), "v3_share": np.linspace(0.1, -0.1, 10)}
    fig = ps.plot_spider("margin", pct, med, 0.0, "T", per_bin=500)
    ax = fig.axes[0]
    names = [ln.get_label() for ln in ax.lines]
    assert names[:2] == ["pay_rate", "v3_share"]
    assert np.allclose(ax.lines[0].get_ydata(), med["pay_rate"] * 100)
    assert ax.get_xlabel() == "percentile of the input (%)"
    assert "500 draws per point" in ax.get_title()


def test_projection_margin_is_linear_with_the_50pct_band_in_view():
    from probmodel.analysis.projection import Fan
    from probmodel.plots import projection as pp

    years = np.arange(2025, 2031)
    q = np.array([[-30.0] * 6, [-4.0] * 6, [-2.0] * 6, [-0.5] * 6, [0.2] * 6])
    inside = np.full(6, -1.0)
    outside = np.array([-1.0, -1.0, -40.0, -1.0, -1.0, -1.0])  # below the 5% quantile
    fan = Fan("margin", years, (0.05, 0.25, 0.5, 0.75, 0.95), q, np.stack([inside, outside]))
    fig = pp.plot_fans([fan])
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    lo, hi = ax.get_ylim()
    assert -3000 < lo < -400  # 50% band (-400%) in view, the 5% quantile (-3000%) cut
    assert hi > 20
    paths = [ln for ln in ax.lines if ln.get_color() == pp.PATH_COLOUR]
    assert len(paths) == 1
    assert np.allclose(paths[0].get_ydata(), inside * 100)
    assert sum("5%: -3,000" in t.get_text() for t in ax.texts) == 6


def test_compare_forest_legend_is_outside_the_axes():
    import xarray as xr

    from probmodel.plots import compare as pc

    names = ["a", "b"]
    stats = ["q05", "q25", "q50", "q75", "q95"]
    vals = np.array([[-1.0, -0.5, 0.0, 0.3, 0.5], [0.1, 0.2, 0.3, 0.4, 0.5]])
    diff = np.zeros((2, 1, 5))
    diff[1, 0] = [0.1, 0.2, 0.3, 0.4, 0.5]
    ds = xr.Dataset(
        {"margin": (("scenario", "stat"), vals),
         "p_profitable": ("scenario", [0.5, 0.9]),
         "p_profitable_mcse": ("scenario", [0.01, 0.01]),
         "difference": (("scenario", "versus", "stat"), diff),
         "p_greater": (("scenario", "versus"), [[0.5], [0.8]]),
         "p_greater_mcse": (("scenario", "versus"), [[0.0], [0.01]])},
        coords={"scenario": names, "versus": ["a"], "stat": stats})
    fig = pc.plot_forest(ds, "margin")
    assert fig.axes[0].get_legend() is None
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "90% interval", "50% interval", "median"]


@pytest.mark.parametrize(("p", "se", "shown"), [
    (0.4895, 0.0003, "48.95% ± 0.03%"),     # 2^22 draws: never "± 0.0%"
    (0.4895, 0.00005, "48.950% ± 0.005%"),  # 1e8 draws
    (0.4895, 0.0011, "48.9% ± 0.1%"),
])
def test_figure_probability_never_rounds_a_nonzero_mcse_to_zero(p, se, shown):
    text = prun._p_text(p, se)
    assert shown in text
    assert "± 0.0%" not in text
    assert "± 0.00%" not in text


def test_probabilities_in_figures_keep_a_digit_of_their_mcse():
    from probmodel.report.numbers import probability

    assert probability(0.48952, 0.0004) == "0.4895 ± 0.0004"
    assert probability(0.48952, 0.012) == "0.490 ± 0.012"
    assert probability(0.5, 0.0) == "0.500"


# ------------------------------------------------------------ placement (bounding boxes)


def _drawn(fig):
    fig.canvas.draw()  # lays the figure out: window extents are final
    return fig.canvas.get_renderer()


def _points_inside(box, xy) -> int:
    """How many display points ``xy`` (n, 2) fall inside ``box``."""
    return int(np.sum((xy[:, 0] > box.x0) & (xy[:, 0] < box.x1)
                      & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1)))


def _curve(ax, line):
    """A line's vertices in display coordinates, densified (steps between vertices)."""
    xy = ax.transData.transform(line.get_xydata())
    t = np.linspace(0, 1, 8)[:, None, None]
    return (xy[:-1] * (1 - t) + xy[1:] * t).reshape(-1, 2)


def test_histogram_notes_and_legend_clear_the_tallest_bars():
    rng = np.random.default_rng(1)
    # left-skewed margin: the tallest bars at the right, where the notes are written
    profit = 5e4 - rng.lognormal(10.5, 0.9, 50_000)
    draws = {"margin": profit / 1.3e5, "profit": profit}
    fig = prun.plot_distributions(draws, 0.6, 0.002, "T")
    r = _drawn(fig)
    for ax in fig.axes:
        (stairs,) = [p for p in ax.patches if type(p).__name__ == "StepPatch"]
        counts, edges = stairs.get_data().values, stairs.get_data().edges
        tallest = np.argsort(counts)[-10:]
        boxes = [ax.texts[0].get_window_extent(r), ax.get_legend().get_window_extent(r)]
        for i in tallest:
            (x0, _), (x1, y1) = ax.transData.transform([(edges[i], 0), (edges[i + 1],
                                                                          counts[i])])
            for b in boxes:
                overlap_x = min(x1, b.x1) - max(x0, b.x0)
                assert overlap_x <= 0 or b.y0 >= y1, "a note covers one of the tallest bars"


def test_exceedance_labels_are_off_the_curve():
    rng = np.random.default_rng(2)
    fig = prun.plot_exceedance(rng.normal(0.0, 6e4, 100_000), 0.5, 0.0016, "T")
    r = _drawn(fig)
    ax = fig.axes[0]
    xy = _curve(ax, ax.lines[0])
    labels = [t for t in ax.texts if t.get_gid() == "quantile_label"]
    assert len(labels) == 3
    for t in [*labels, *(t for t in ax.texts if "P(profit > 0)" in t.get_text())]:
        box = t.get_window_extent(r)
        assert _points_inside(box, xy) == 0, t.get_text()
        assert ax.get_window_extent(r).contains(box.x0, box.y0)
        assert "± 0.0%" not in t.get_text()


def _sweep_summary(rows=(0.2, 0.3, 0.4, 0.5), cols=(0.5, 0.6, 0.7, 0.8)):
    import xarray as xr

    r, c = np.meshgrid(rows, cols, indexing="ij")
    p = np.clip((r - 0.3) * 3 + (c - 0.6) * 2, 0, 1)
    stats = ["q05", "q25", "q50", "q75", "q95"]
    med = (r - 0.34 + (c - 0.7))[..., None] + np.linspace(-0.4, 0.4, 5)
    return xr.Dataset({"p_profitable": (("pay_rate", "gpu_cost_share"), p),
                       "margin": (("pay_rate", "gpu_cost_share", "stat"), med)},
                      coords={"pay_rate": list(rows), "gpu_cost_share": list(cols),
                              "stat": stats}, attrs={"scenario": "T", "draws": 1000})


def test_heatmap_text_is_readable_colour_blind_safe_and_clear_of_the_50pct_line():
    from probmodel.plots import sweep as psw

    fig = psw.plot_profit_heatmap(_sweep_summary())
    r = _drawn(fig)
    ax = fig.axes[0]
    cells = [t for t in ax.texts if t.get_gid() == "cell_text"]
    assert len(cells) == 16
    assert min(t.get_fontsize() for t in cells) >= 9
    assert ax.images[0].get_cmap().name in ("cividis", "viridis")
    lines = [c for c in ax.collections if c.get_gid() == "p50_boundary"]
    assert lines  # the grid crosses 50%
    for coll in lines:
        for seg in coll.get_segments():
            (x0, y0), (x1, y1) = ax.transData.transform(seg)
            pts = np.linspace([x0, y0], [x1, y1], 50)
            for t in cells:
                assert _points_inside(t.get_window_extent(r), pts) == 0, t.get_text()
    out = psw.plot_output_heatmap(_sweep_summary(), "margin")
    assert out.axes[0].images[0].get_cmap().name in ("cividis", "viridis")
    assert min(t.get_fontsize() for t in out.axes[0].texts) >= 9


def test_fan_draws_the_break_even_interval_on_its_own_axis():
    import xarray as xr

    from probmodel.plots import sweep as psw

    x = np.linspace(0.15, 0.5, 8)
    q = (x - 0.34)[:, None] + np.linspace(-0.5, 0.3, 5)
    ds = xr.Dataset({"margin": (("pay_rate", "stat"), q),
                     "p_profitable": ("pay_rate", np.clip((x - 0.2) * 3, 0, 1)),
                     "p_profitable_mcse": ("pay_rate", np.full(8, 0.003))},
                    coords={"pay_rate": x, "stat": ["q05", "q25", "q50", "q75", "q95"]},
                    attrs={"scenario": "T", "draws": 1000})
    fig = psw.plot_fan(ds, "margin", {"value": 0.3388, "mcse": 0.0007},
                       {"q05": 0.227, "q50": 0.338, "q95": 0.525})
    assert len(fig.axes) == 3
    p_ax, be_ax = fig.axes[1], fig.axes[2]
    assert not any("break-even" in t for t in _texts_of(p_ax))
    assert any("break-even pay_rate" in t and "[22.7, 52.5] %" in t for t in _texts_of(be_ax))
    assert be_ax.get_xlabel() == "pay_rate (%)"
    assert any("33.88 ± 0.07 %" in t for t in _texts_of(p_ax))  # one digit of the MCSE


def _texts_of(ax):
    out = [t.get_text() for t in ax.texts]
    if ax.get_legend() is not None:
        out += [t.get_text() for t in ax.get_legend().get_texts()]
    return out


def test_compare_ecdf_note_and_legend_clear_the_curves():
    import xarray as xr

    from probmodel.plots import compare as pc

    levels = np.linspace(0.0005, 0.9995, 400)
    from scipy.stats import norm

    ds = xr.Dataset({"margin": (("scenario", "level"),
                                np.stack([norm.ppf(levels, 0.0, 0.5),
                                          norm.ppf(levels, 0.3, 0.4)]))},
                    coords={"scenario": ["a", "b"], "level": levels},
                    attrs={"draws": 1000})
    fig = pc.plot_ecdf(ds, "margin")
    r = _drawn(fig)
    ax = fig.axes[0]
    curves = np.concatenate([_curve(ax, ln) for ln in ax.lines[:2]])
    (note,) = [t for t in ax.texts if t.get_gid() == "loss_note"]
    assert _points_inside(note.get_bbox_patch().get_window_extent(r), curves) == 0
    assert _points_inside(ax.get_legend().get_window_extent(r), curves) == 0
    assert ax.lines[0].get_linestyle() != ax.lines[1].get_linestyle()


def test_prior_posterior_shows_a_narrow_posterior_over_many_bins():
    from probmodel.plots import calibration as pcal

    rng = np.random.default_rng(3)
    prior = {"pay_rate": rng.uniform(0.1, 0.6, 4000)}
    post = {"pay_rate": rng.normal(0.35, 0.002, 4000)}  # 1% of the prior's width
    fig = pcal.plot_prior_posterior(prior, post)
    ax = fig.axes[0]
    step = ax.patches[-1]  # the posterior's outline
    xs = np.unique(step.get_path().vertices[:, 0])
    assert xs.size >= 30  # bins across the posterior, not one or two of the prior's
    zooms = [a for a in ax.child_axes if a.get_gid() == "posterior_zoom"]
    assert len(zooms) == 1
    lo, hi = zooms[0].get_xlim()
    assert hi - lo < 5  # percent: the posterior's range, not the prior's 50


def test_spider_lines_differ_in_marker_and_style_too():
    pct = np.arange(5, 100, 10)
    med = {f"x{i}": np.linspace(-1, 1, 10) * (i + 1) / 10 for i in range(8)}
    fig = ps.plot_spider("margin", pct, med, 0.0)
    lines = fig.axes[0].lines[:8]
    keys = {(ln.get_marker(), str(ln.get_linestyle())) for ln in lines}
    assert len(keys) == 8
    assert len({ln.get_marker() for ln in lines}) == 8


def test_run_figures_take_their_numbers_from_the_summary(priors):
    # a run's figures are drawn from the kept (possibly thinned) draws, but the medians,
    # intervals and draw count they print are the summary's, over every draw
    import probmodel
    from probmodel import api, results
    from probmodel.fmt import show

    sc = probmodel.load_scenario(priors / "deepseek-adjusted.toml")
    _, ds, summary = api.summarise(sc, 20_000, 2)
    kept = {k: ds[k].values.ravel()[::4] for k in prun.DISTRIBUTION_OUTPUTS if k in ds}
    p, se = results.p_profitable(summary)
    fig = prun.plot_distributions(kept, p, se, "T", summary)
    assert "20,000 draws; histogram of 5,000 kept draws" in fig._suptitle.get_text()
    ax = fig.axes[[n for n in prun.DISTRIBUTION_OUTPUTS if n in kept].index("profit")]
    s = results.stat_dict(summary, "profit")
    assert f"median {s['q50'] / 1e3:,.3g}" in ax.get_title(loc="left")
    fig = prun.plot_exceedance(kept["profit"], p, se, "T", summary)
    labels = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "quantile_label"]
    assert any(f"above {show('profit', s['q50'])} $k/day" in t for t in labels), labels
    assert "20,000 draws; histogram of 5,000 kept draws" in fig.axes[0].get_title()
    plt.close("all")
