"""Token revenue, profit and margin (report §2 tables 7-8, §3 tables 11-15)."""

from __future__ import annotations

import numpy as np

#: Price table axes, in the order of the `prices` array: window x model x class.
WINDOWS = ("standard", "offpeak")
MODELS = ("v3", "r1")
CLASSES = ("cache_hit", "cache_miss", "output")

TOKENS_PER_PRICE_UNIT = 1e6  # prices are USD per 1M tokens


def revenue_before_pay_rate(
    input_tokens_per_day, output_tokens_per_day, cache_hit_rate, offpeak_share, v3_share, prices
):
    """Revenue per day if every token were billed, under a model mix and an off-peak window.

    Parameters
    ----------
    input_tokens_per_day, output_tokens_per_day : array_like
        Tokens per day [token/day].
    cache_hit_rate : array_like
        Share of input tokens that hit the KV cache [1].
    offpeak_share : array_like
        Share of every token class served in the off-peak window [1].
    v3_share : array_like
        Share of tokens served by V3; R1 takes the rest [1].
    prices : array_like, shape (..., 2, 2, 3)
        USD per 1M tokens, window (standard, offpeak) x model (v3, r1) x class
        (cache_hit, cache_miss, output).

    Notes
    -----
    revenue_before_pay_rate = sum_{w,m,c} tokens_c x share_w x share_m x price[w,m,c] / 1e6
    with tokens_hit = input x cache_hit_rate, tokens_miss = input x (1 - cache_hit_rate),
    share_standard = 1 - offpeak_share, share_v3 = v3_share.  [USD/day]

    References
    ----------
    Report table 7 (all tokens at R1's USD list price: $562,100/day) and table 14
    (35/65 V3/R1 mix, 8/24 off-peak: about $370k/day).
    """
    # Written out per class and cell rather than as stacked arrays and an einsum: the
    # same sum, but elementwise on the draw axis (an einsum or a reduction over the tiny
    # window x model axes is ~10x slower on CPU, where it dominates a Monte Carlo chunk).
    # NumPy arrays (point mode, float64) and JAX arrays (the Monte Carlo) alike: index
    # whatever array arrives; only a nested list needs converting.
    p = prices if hasattr(prices, "shape") else np.asarray(prices)

    def blended(c):
        """Price of class c averaged over window and model shares."""
        std = v3_share * p[..., 0, 0, c] + (1.0 - v3_share) * p[..., 0, 1, c]
        off = v3_share * p[..., 1, 0, c] + (1.0 - v3_share) * p[..., 1, 1, c]
        return (1.0 - offpeak_share) * std + offpeak_share * off

    hit = input_tokens_per_day * cache_hit_rate
    miss = input_tokens_per_day * (1.0 - cache_hit_rate)
    total = hit * blended(0) + miss * blended(1) + output_tokens_per_day * blended(2)
    return total / TOKENS_PER_PRICE_UNIT


def revenue(revenue_before_pay_rate, pay_rate):
    """Revenue actually paid.

    Notes
    -----
    revenue = pay_rate x revenue_before_pay_rate  [USD/day]

    References
    ----------
    Report §3 C: 0.35 x $370k = about $130k/day.
    """
    return pay_rate * revenue_before_pay_rate


def profit(revenue, total_cost):
    """Profit per day: revenue - total_cost [USD/day] (report §2: $475,028)."""
    return revenue - total_cost


def margin(profit, revenue):
    """Margin on revenue: profit / revenue [1].

    References
    ----------
    Report table 8 (84.5%), table 14 (66%), table 15 (grid over pay rate and GPU share).
    """
    return profit / revenue


def cost_profit_ratio(profit, total_cost):
    """DeepSeek's headline ratio: profit / total_cost [1] (545% when gpu_cost_share = 1)."""
    return profit / total_cost
