"""A projection's supply cap: the chips that can be had per year, and the demand served.

:func:`supply_caps` draws each path's cap per year; :func:`apply_supply` evaluates the
outputs again on the demand a capped fleet serves (the rest goes unserved). Used by
:mod:`probmodel.analysis.projection`.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from probmodel import distributions as dists
from probmodel.model import evaluate
from probmodel.sampling import name_id
from probmodel.spec.projection import Projection


def apply_supply(values: Mapping, out: Mapping, cap, chips: str, driver: str, xp=np) -> dict:
    """Outputs of the demand a supply-capped fleet serves.

    Parameters
    ----------
    values : mapping
        The inputs the demand outputs ``out`` were evaluated from.
    out : mapping
        Every output of the full demand.
    cap : array
        Chips that can be had, shape (paths, years).
    chips : str
        The fleet the cap bounds (``chips_required`` or ``chips_required_roofline``).
    driver : str
        The input that carries the demand (``users`` or ``tokens_per_day``).

    Returns
    -------
    dict
        Every output evaluated again on the served demand, with ``chips`` at most
        ``cap`` in every path and year, plus the supply outputs
        (:data:`probmodel.analysis.projection.SUPPLY_OUTPUTS`); ``driver`` keeps the
        demand's value.

    Notes
    -----
    served_share = min(1, cap / chips_demanded). Every output in tokens, chips, revenue
    or cost is linear in the driver, so the outputs of driver x served_share are those
    of the served tokens: revenue on served tokens only, cost on the capped fleet;
    margin and cost and revenue per token are unchanged by the cap.
    """
    demand = out[chips]
    share = xp.minimum(1.0, cap / demand)
    served = dict(values)
    served[driver] = values[driver] * share
    res = dict(evaluate(served))
    # rounding of driver x share may leave the fleet an ulp above the cap
    res[chips] = xp.minimum(res[chips], cap)
    res[driver] = values[driver]
    res["supply_cap"] = cap
    res["chips_demanded"] = demand
    res["served_share"] = share
    res["cap_binds"] = xp.where(demand > cap, 1.0, 0.0)
    res["unserved_tokens_per_day"] = xp.maximum(out["tokens_per_day"] - res["tokens_per_day"],
                                                0.0)
    return res


def supply_caps(proj: Projection, key, n: int, take: int | None = None) -> np.ndarray:
    """The supply cap of every path and year, shape (n, years).

    One uniform per path (id ``projection.supply.cap``) through each year's inverse CDF:
    the caps of a path are comonotone, ample or scarce in every year alike.
    """
    take = n if take is None else take
    u = np.asarray(jax.random.uniform(jax.random.fold_in(key, name_id("projection.supply.cap")),
                                      (n,), jnp.float64))
    u = np.clip(u[:take], np.finfo(np.float64).tiny, 1.0 - np.finfo(np.float64).epsneg)
    caps = np.empty((n, len(proj.years)), np.float32)
    for j, v in enumerate(proj.supply.caps):
        caps[:, j] = v.point
        if v.dist is not None:
            caps[:take, j] = dists.quantile(v.dist, v.param_dict, u)
    return caps
