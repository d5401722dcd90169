"""Serving capacity from measured per-phase throughput (DeepSeek's disclosure, domain §1a).

The report converts tokens into FLOP/s and divides by a chip's peak FLOP/s times an
assumed utilization. DeepSeek disclosed what the fleet actually did instead: about
73.7k input tokens per second per H800 node in prefill (cache hits included) and 14.8k
output tokens per second per node in decode, averaged over the day. Those two rates
close the node-hour identity to 0.06% (608e9 / 73.7e3 + 168e9 / 14.8e3 = 5,445 node-h
against 226.75 x 24 = 5,442), so they are a better yardstick than a FLOP utilization.
"""

from __future__ import annotations

from probmodel.equations.compute import SECONDS_PER_DAY
from probmodel.equations.revenue import revenue_before_pay_rate


def phase_nodes(tokens_per_day, tokens_per_node_s):
    """Average nodes busy with one phase (prefill or decode).

    Notes
    -----
    phase_nodes = tokens_per_day / (tokens_per_node_s x 86400)  [node]

    References
    ----------
    DeepSeek 2025-02-27/28: 608e9 / (73.7e3 x 86400) = 95.5 prefill nodes;
    168e9 / (14.8e3 x 86400) = 131.4 decode nodes; sum 226.9 (disclosed 226.75).
    """
    return tokens_per_day / (tokens_per_node_s * SECONDS_PER_DAY)


def usage_tokens_per_day(dau, requests_per_user_per_day, tokens_per_request, pay_rate):
    """Tokens per day implied by daily active users of the free web/app plus paid API traffic.

    Notes
    -----
    usage_tokens_per_day = dau x requests_per_user_per_day x tokens_per_request
    / (1 - pay_rate)  [token/day]

    The report's pay rate is the paid (API) share of tokens; the web and app are free, so
    DAU account for the other 1 - pay_rate of the day's tokens (domain §5 constraint).
    """
    return dau * requests_per_user_per_day * tokens_per_request / (1.0 - pay_rate)


def h800_gpus_required(tokens_per_second, output_token_share, prefill_tokens_per_node_s,
                       decode_tokens_per_node_s, peak_factor, gpus_per_node):
    """H800 GPUs needed in the peak hour at DeepSeek's per-phase throughput.

    Notes
    -----
    h800_gpus_required = tokens_per_second x peak_factor x gpus_per_node
    x ((1 - output_token_share) / prefill_tokens_per_node_s
    + output_token_share / decode_tokens_per_node_s)  [GPU]
    """
    per_token = ((1.0 - output_token_share) / prefill_tokens_per_node_s
                 + output_token_share / decode_tokens_per_node_s)
    return tokens_per_second * peak_factor * gpus_per_node * per_token


def theoretical_revenue(input_tokens_per_day, output_tokens_per_day, cache_hit_rate, prices):
    """Revenue if every token were paid at R1's standard-window price (DeepSeek's headline).

    Notes
    -----
    theoretical_revenue = revenue_before_pay_rate(..., offpeak_share=0, v3_share=0)
    [USD/day]

    References
    ----------
    Report table 7 / DeepSeek: 342e9 x 0.14 + 266e9 x 0.55 + 168e9 x 2.19 = $562,100/day
    (DeepSeek states $562,027).
    """
    return revenue_before_pay_rate(input_tokens_per_day, output_tokens_per_day, cache_hit_rate,
                                   0.0, 0.0, prices)
