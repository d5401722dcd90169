"""Checks of command-line settings that need no numerical library.

Commands run them right after reading the scenario and before importing JAX, xarray
or matplotlib, so a bad flag is reported in a fraction of a second (the heavy imports
take 1.5-2 s; benchmarks/bench_startup.py).
"""

from __future__ import annotations

from probmodel.errors import ScenarioError, UsageError

#: Draws per compiled chunk. ~1e5 keeps the working set in cache on CPU (measured:
#: chunks of 1e5 ran 8.3 M draws/s, 1e6 6.4 M/s, 1e7 3.3 M/s). Fixed, so that draw j
#: does not depend on the total number of draws.
CHUNK = 1 << 17

#: Most draws the engine can index: chunk ids are int32 (with room for one call's ids
#: past the last chunk on up to 8,192 devices).
MAX_DRAWS = (2**31 - 2**16) * CHUNK


def check_draws_seed(draws: int, seed: int) -> None:
    """Refuse draw counts below 2 or beyond :data:`MAX_DRAWS`, and bad seeds.

    One draw has no Monte Carlo standard error (the sample variance needs two).
    """
    if not isinstance(draws, int) or isinstance(draws, bool) or draws < 2:
        raise UsageError(f"--draws: must be a whole number of at least 2 (the Monte Carlo "
                         f"standard error needs two draws), not {draws!r}")
    if draws > MAX_DRAWS:
        raise UsageError(f"--draws: at most {MAX_DRAWS:,} (the engine numbers chunks of "
                         f"{CHUNK:,} draws with 32-bit integers), not {draws:,}")
    if not isinstance(seed, int) or not (0 <= seed < 2**63):
        raise UsageError(f"--seed: must be a whole number in [0, 2^63), not {seed!r}")


def check_nuts_settings(chains: int, warmup: int, samples: int, seed: int) -> None:
    """Refuse non-positive NUTS counts and bad seeds with the flag's name."""
    for flag, v, lo in (("--chains", chains, 1), ("--warmup", warmup, 1),
                        ("--samples", samples, 1)):
        if not isinstance(v, int) or v < lo:
            raise UsageError(f"{flag}: must be a whole number >= {lo}, not {v!r}")
    if not isinstance(seed, int) or not (0 <= seed < 2**31):
        raise UsageError(f"--seed: must be a whole number in [0, 2^31), not {seed!r}")


#: How NUTS chains run (``auto``: one XLA host device per chain when there are enough).
CHAIN_METHODS = ("auto", "parallel", "vectorized", "sequential")


def check_chain_method(method: str) -> None:
    """Refuse an unknown --chain-method."""
    if method not in CHAIN_METHODS:
        raise UsageError(f"--chain-method: '{method}' is not one of {', '.join(CHAIN_METHODS)}")


def check_precision(precision: float | None) -> None:
    """Refuse a --precision outside (0, 1)."""
    if precision is not None and not (0 < precision < 1):
        raise UsageError(f"--precision: must be a number in (0, 1), not {precision!r}")


#: Inputs of the decode chips' weight bytes (equations/roofline.py) and the chip's HBM.
_WEIGHT_INPUTS = ("total_params", "routed_expert_params", "experts_routed",
                  "decode_experts_per_chip", "weight_bytes_per_param", "chip_hbm_capacity")


def _catalog_pick(param, kind: str) -> str | None:
    """The catalog entry a parameter came from (``chip H20``), or None if stated otherwise."""
    desc = getattr(param, "description", "") or ""
    prefix = f"from the {kind} catalog ("
    if desc.startswith(prefix) and ")" in desc:
        return desc[len(prefix):desc.index(")", len(prefix))]
    return None


def check_weights_fit(scenario) -> None:
    """Refuse a roofline scenario whose model weights do not fit in a decode chip's HBM.

    Such a scenario has a decode batch of 0, so decode throughput 0 and infinitely many
    chips: no answer, and no valid JSON. The check uses point values (NumPy only, no
    JAX), so ``point`` and ``run`` refuse the same input with the same line (exit 2).

    Raises
    ------
    UsageError
        Naming the chip, the bytes of weights each decode chip needs and the bytes of
        HBM it has for them.
    """
    params = scenario.parameters
    _check_deployment_fits(scenario)
    if not all(n in params for n in _WEIGHT_INPUTS):
        return
    from probmodel.equations import roofline as rl

    v = {n: float(params[n].point) for n in _WEIGHT_INPUTS}
    need = float(rl.decode_weight_bytes_per_chip(
        v["total_params"], v["routed_expert_params"], v["experts_routed"],
        v["decode_experts_per_chip"], v["weight_bytes_per_param"]))
    hbm = v["chip_hbm_capacity"]
    usable = rl.HBM_USABLE_FRACTION * hbm
    if need < usable:
        return
    chip = _catalog_pick(params["chip_hbm_capacity"], "chip")
    model = _catalog_pick(params["total_params"], "model")
    chip_text = f"chip {chip}" if chip else f"the chip (chip_hbm_capacity {hbm:g} B)"
    at_point = (" at the point values" if any(not params[n].is_fixed for n in _WEIGHT_INPUTS)
                else "")
    from probmodel.errors import file_label

    raise UsageError(
        f"{file_label(scenario.path)}: weights do not fit{at_point}: {chip_text} has "
        f"{usable:,.0f} B for weights and KV cache ({rl.HBM_USABLE_FRACTION:g} x "
        f"{hbm / 1e9:g} GB of HBM), the weights need {need:,.0f} B per decode chip"
        f"{f' ({model})' if model else ''}; pick a chip with more HBM (--set chip=NAME), "
        "fewer bytes per weight or fewer experts per decode chip")


def _check_deployment_fits(scenario) -> None:
    """Refuse a deployment whose weights and one full-length sequence exceed a GPU's HBM.

    The physics would give a KV capacity below one sequence: no batch, no answer. Point
    values (NumPy only), like the roofline check.
    """
    from probmodel.serving import deployment as dep

    params = scenario.parameters
    names = ("decode_tp", "total_params", "routed_expert_params", "attention_params",
             "weight_bytes_per_param", "kv_bytes_per_token", "chip_hbm_capacity",
             "input_length", "output_length")
    if not all(n in params for n in names):
        return
    v = {**dep.OPTIONAL, **{n: float(p.point) for n, p in params.items()
                            if isinstance(p.point, int | float)}}
    weights = float(dep.weight_bytes_per_gpu(v))
    kv = float(dep.kv_bytes(v)) * (v["input_length"] + v["output_length"])
    hbm = v["chip_hbm_capacity"]
    if weights + kv <= hbm:
        return
    from probmodel.errors import file_label

    chip = _catalog_pick(params["chip_hbm_capacity"], "chip")
    chip_text = f"{chip}" if chip else "the chip"
    layout = (f"decode_tp {v['decode_tp']:g}"
              + (", DP attention" if v["decode_dp_attention"] > 0.5 else ""))
    raise UsageError(
        f"{file_label(scenario.path)}: the deployment does not fit: {chip_text} needs "
        f"{(weights + kv) / 1e9:.1f} GB per GPU for its weights and one sequence "
        f"({weights / 1e9:.1f} GB of weights at {layout}, {kv / 1e9:.2f} GB of KV cache), "
        f"has {hbm / 1e9:.1f} GB; spread the weights wider (--set decode_tp=N), use fewer "
        "bytes per weight or a chip with more HBM")


def check_sobol_n(n_base: int) -> None:
    """Refuse a Sobol base sample size that is not a power of two (>= 2)."""
    if not isinstance(n_base, int) or n_base < 2 or n_base & (n_base - 1):
        raise UsageError(f"--sobol-n: must be a power of two (>= 2), not {n_base}")


def check_projection(scenario):
    """The scenario's validated projection, checked against its parameters.

    Returns
    -------
    Projection

    Raises
    ------
    UsageError
        When the scenario has no ``[projection]`` table.
    ScenarioError
        When a law moves a parameter the scenario does not define, or grows a
        non-positive base value exponentially.
    """
    label = str(scenario.path)
    if not scenario.projection:
        raise UsageError(f"{label}: no [projection] table (see docs/project.md for the "
                         "format)")
    proj = scenario.projection  # parsed and checked with the scenario file
    missing = [(label, f"projection.growth.{law.name}",
                f"'{law.name}' is not a parameter of the scenario; add "
                f"[parameters.{law.name}] (its value is the base-year value)")
               for law in proj.laws if law.name not in scenario.parameters]
    if missing:
        raise ScenarioError(missing)
    for law in proj.laws:
        if law.kind == "exponential" and scenario.parameters[law.name].point <= 0:
            raise ScenarioError([(label, f"projection.growth.{law.name}",
                                  "exponential growth needs a positive base value")])
    return proj


def check_calibratable(scenario) -> None:
    """Refuse a scenario ``calibrate`` cannot use, with located lines (no JAX needed).

    Correlations (not supported by the NUTS model yet), no observations, no uncertain
    parameter, or observations the model cannot compute.
    """
    from probmodel.spec import check_observations

    label = str(scenario.path)
    if scenario.correlations:
        raise ScenarioError([(label, "correlations", "calibrate does not support "
                              "[[correlations]] yet (the numpyro model draws its priors "
                              "independently); calibrate a scenario without them")])
    if not scenario.observations:
        raise ScenarioError([(label, "observations", "missing: nothing to calibrate against "
                                                     "(add [observations.NAME] tables)")])
    if not scenario.uncertain:
        raise ScenarioError([(label, "parameters", "no uncertain parameter: nothing to "
                                                   "calibrate")])
    problems = check_observations(scenario)
    if problems:
        raise ScenarioError(problems)
