"""Serving cost (report §2, table 6; §3 total cost)."""

from __future__ import annotations

HOURS_PER_DAY = 24.0


def gpus(nodes_avg, gpus_per_node):
    """GPUs in use on average.

    Notes
    -----
    gpus = nodes_avg x gpus_per_node  [GPU]

    References
    ----------
    Report table 6: 226.75 nodes x 8 = 1,814 GPUs.
    """
    return nodes_avg * gpus_per_node


def gpu_cost(gpus, gpu_price_per_hour):
    """GPU rental cost per day.

    Notes
    -----
    gpu_cost = gpus x gpu_price_per_hour x 24  [USD/day]

    References
    ----------
    Report table 6: 1,814 x $2 x 24 = $87,072/day.
    """
    return gpus * gpu_price_per_hour * HOURS_PER_DAY


def total_cost(gpu_cost, gpu_cost_share):
    """Total serving cost when GPU rental is only a share of it.

    Notes
    -----
    total_cost = gpu_cost / gpu_cost_share  [USD/day]

    References
    ----------
    Report §3: $87,072 / 0.70 = $124,388.6/day.
    """
    return gpu_cost / gpu_cost_share
