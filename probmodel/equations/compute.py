"""Compute demand (report §3-4, tables 16-24): tokens, FLOP/s, chips, utilization."""

from __future__ import annotations

SECONDS_PER_DAY = 86400.0
FLOPS_PER_ACTIVE_PARAM_PER_TOKEN = 2.0  # Kaplan et al.: a forward pass ~ 2 FLOP/param/token


def tokens_per_day_from_usage(users, requests_per_user_per_day, tokens_per_request):
    """Tokens per day implied by usage.

    Notes
    -----
    tokens_per_day = users x requests_per_user_per_day x tokens_per_request  [token/day]

    References
    ----------
    Report table 20: 5e7 x 20 x 2e4 = 2e13 (20 trillion).
    """
    return users * requests_per_user_per_day * tokens_per_request


def tokens_per_second(tokens_per_day):
    """tokens_per_second = tokens_per_day / 86400 [token/s] (table 17: 776e9 -> 8.98e6)."""
    return tokens_per_day / SECONDS_PER_DAY


def flops_required(active_params, tokens_per_second, peak_factor):
    """Compute needed at the peak.

    Notes
    -----
    flops_required = 2 x active_params x tokens_per_second x peak_factor  [FLOP/s]

    References
    ----------
    Report table 17: 2 x 37e9 x 8.98e6 x 1.226 = 814,849 TFLOP/s; table 20: 68.5 EFLOP/s.
    """
    return FLOPS_PER_ACTIVE_PARAM_PER_TOKEN * active_params * tokens_per_second * peak_factor


def chips_required(flops_required, chip_peak_flops, utilization):
    """Chips needed to serve the peak.

    Notes
    -----
    chips_required = flops_required / (chip_peak_flops x utilization)  [chip]

    References
    ----------
    Report table 20: 6.85e19 / (148e12 x 0.70) = 661k H20; §4.4: about 8 million.
    """
    return flops_required / (chip_peak_flops * utilization)


def implied_utilization(flops_required, chip_peak_flops, gpus):
    """Utilization the fleet in use would need to deliver the required compute.

    Notes
    -----
    implied_utilization = flops_required / (chip_peak_flops x gpus)  [1]

    References
    ----------
    Report table 17: 814,849 TFLOP/s / (580 TFLOP/s x 1,814) = 77%.
    """
    return flops_required / (chip_peak_flops * gpus)


def requests_per_dau(tokens_per_day, dau, tokens_per_request):
    """requests_per_dau = tokens_per_day / (dau x tokens_per_request) (table 19: 1.55)."""
    return tokens_per_day / (dau * tokens_per_request)
