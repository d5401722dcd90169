"""Measured serving runs (a benchmark CSV) read into configuration arrays for the physics.

The columns are InferenceX's (data/inferencex/README.md), so a user can score the
planner on their own benchmark logs written the same way:

- deployment: ``hardware`` (a catalog chip, any case: h200, B200, mi355x...), ``framework``
  (sglang, trt, vllm, atom, and orchestrators over them: dynamo-sglang, dynamo-trt,
  mori-sglang), ``model`` (dsr1 or a catalog model name), ``precision`` (fp8 or fp4
  weights), ``spec_method`` (none or mtp), ``disagg`` (True/False), ``prefill_tp``,
  ``prefill_ep``, ``prefill_dp_attention``, ``prefill_num_workers``, ``decode_tp``,
  ``decode_ep``, ``decode_dp_attention``, ``decode_num_workers``, ``num_prefill_gpu``,
  ``num_decode_gpu``;
- workload: ``isl``, ``osl`` (tokens per request), ``conc`` (concurrent requests);
- measured (optional for prediction): ``tput_per_gpu``, ``median_tpot``,
  ``median_ttft``, ``median_intvty``.

A row the physics cannot express (an unknown chip or model, a weight precision it has
no bytes for, missing numbers, weights that do not fit in HBM) keeps its place with a
``status`` that says why; nothing is dropped silently.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from probmodel import catalog
from probmodel.errors import UsageError
from probmodel.serving import deployment

#: The measured metrics a calibration fits and a backtest scores (InferenceX's names).
METRICS = ("tput_per_gpu", "median_tpot", "median_ttft", "median_intvty")
#: Metrics the likelihood uses (interactivity is ~1/TPOT: the same information).
FITTED = ("tput_per_gpu", "median_tpot", "median_ttft")
REQUIRED = ("hardware", "framework", "precision", "spec_method", "disagg", "prefill_tp",
            "prefill_num_workers", "decode_tp", "decode_num_workers", "num_prefill_gpu",
            "num_decode_gpu", "isl", "osl", "conc")
#: Model aliases used by benchmark files.
MODEL_ALIASES = {"dsr1": "deepseek-r1", "dsv3": "deepseek-v3"}
#: Bytes per routed-expert weight by precision: FP4 blocks carry one FP8 scale per 16
#: values (NVFP4; AMD's MXFP4 has one per 32: 0.53), FP8 1 byte.
EXPERT_BYTES = {"fp8": 1.0, "fp4": 0.5625, "bf16": 2.0}
#: Draft tokens per step with MTP, as InferenceX's launch scripts set them: TensorRT-LLM
#: nextn 1 with DP attention and 3 without, SGLang (EAGLE) 2 steps; other engines 2.
MTP_DRAFT_TOKENS = {"trt": (3, 1), "sglang": (2, 2)}
MTP_DRAFT_DEFAULT = 2


def draft_tokens(eng: str, dp_attention: bool) -> int:
    """Draft tokens per decode step with MTP for a serving engine."""
    no_dp, dp = MTP_DRAFT_TOKENS.get(eng, (MTP_DRAFT_DEFAULT, MTP_DRAFT_DEFAULT))
    return dp if dp_attention else no_dp


def kv_element_bytes(eng: str, generation: str) -> float:
    """Bytes per KV-cache element: FP8 where InferenceX's launch scripts set it.

    TensorRT-LLM everywhere and SGLang on Blackwell keep an FP8 KV cache; SGLang on
    Hopper, ATOM and SGLang on AMD keep BF16 (their defaults for MLA).
    """
    if eng == "trt" or (eng == "sglang" and generation.startswith("blackwell")):
        return 1.0
    return 2.0
ORCHESTRATORS = ("dynamo-", "mori-", "llm-d-")


def engine(framework: str) -> str:
    """The serving engine under an orchestrator name: dynamo-trt -> trt."""
    f = framework.strip().lower()
    for prefix in ORCHESTRATORS:
        if f.startswith(prefix):
            f = f[len(prefix):]
    return {"trtllm": "trt", "tensorrt-llm": "trt"}.get(f, f)


def _chip_names() -> dict[str, str]:
    return {name.lower(): name for name in catalog.entries("chip")}


def _model_names() -> dict[str, str]:
    names = {name.lower(): name for name in catalog.entries("model")}
    names.update({k: v for k, v in MODEL_ALIASES.items() if v in catalog.entries("model")})
    return names


def _point(table: dict) -> float:
    if "value" in table:
        return float(table["value"])
    return float(table["point"])


def chip_constants(name: str) -> dict[str, float]:
    """A catalog chip's numbers (point values) and its vendor and generation."""
    tables = catalog.entries("chip")[name]
    out = {k: _point(v) for k, v in tables.items()}
    meta = catalog.entry_meta("chip", name)
    out["vendor"] = meta.get("vendor", "nvidia")
    out["generation"] = meta.get("generation", name)
    out.setdefault("chip_fp4_flops", out.get("chip_fp8_flops", out["chip_peak_flops"]))
    out.setdefault("chip_scaleup_domain", 8.0)
    out.setdefault("chip_scaleout_bandwidth", 50e9)
    return out


#: DeepSeek-V3/R1 MLA: attention weights per layer (q_a 7168x1536, q_b 1536x24576, kv_a
#: 7168x576, kv_b 512x32768, o 16384x7168 = 187M) x 61 layers, when the catalog gives none.
_DEFAULT_ATTENTION_PARAMS = 11.4e9


def model_constants(name: str) -> dict[str, float]:
    """A catalog model's numbers (point values)."""
    tables = catalog.entries("model")[name]
    out = {k: _point(v) for k, v in tables.items()}
    out.setdefault("hidden_size", 7168.0)
    out.setdefault("moe_layers", out["model_layers"] if out["routed_expert_params"] else 0.0)
    out.setdefault("attention_params", _DEFAULT_ATTENTION_PARAMS)
    return out


def _flag(text: str) -> bool | None:
    t = text.strip().lower()
    if t in ("true", "1", "yes"):
        return True
    if t in ("false", "0", "no", ""):
        return False
    return None


def _num(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        return math.nan
    return x


@dataclass
class Measurements:
    """Benchmark rows: the text columns, the configuration arrays and each row's status."""

    path: Path
    header: list[str]
    records: list[dict[str, str]]
    status: list[str]
    config: dict[str, np.ndarray] = field(default_factory=dict)
    chip: list[str] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)
    measured: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def ok(self) -> np.ndarray:
        """Rows the physics can predict."""
        return np.array([s == "predicted" for s in self.status])

    def __len__(self) -> int:
        return len(self.records)


def read(path: str | Path, length_scale: float = 1.0) -> Measurements:
    """Read a benchmark CSV into configuration arrays (one element per row).

    Parameters
    ----------
    path : path
        The CSV (columns in this module's docstring).
    length_scale : float
        Mean realised length over nominal ``isl``/``osl``: InferenceX draws each
        request's lengths uniformly in [0.8, 1] x nominal, a mean of 0.9; 1 for logs
        that state the realised lengths.

    Raises
    ------
    UsageError
        For a missing file, a file that is not CSV or lacks a required column: one line
        naming the file and the problem.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError, OSError) as exc:
        raise UsageError(f"{path}: cannot read ({type(exc).__name__})") from None
    reader = csv.DictReader(text.splitlines())
    header = list(reader.fieldnames or [])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise UsageError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} (see docs/validation.md for the format)")
    records = [dict(r) for r in reader]
    if not records:
        raise UsageError(f"{path}: no rows")
    return _arrays(p, header, records, length_scale)


def _arrays(path: Path, header, records, length_scale) -> Measurements:
    chips, models = _chip_names(), _model_names()
    n = len(records)
    status = ["predicted"] * n
    cols: dict[str, list[float]] = {k: [] for k in (
        "isl", "osl", "conc", "aggregated", "decode_width", "prefill_width",
        "decode_workers", "prefill_workers", "decode_dp", "n_draft", "gpus",
        "decode_gpus", "expert_bytes", "kv_bytes_per_token", "matmul_peak",
        "decode_weight_bytes", "decode_context")}
    chip_of, model_of, stack_of = [], [], []
    const_c, const_m = {}, {}
    for i, r in enumerate(records):
        reason = None
        hw = (r.get("hardware") or "").strip().lower()
        chip = chips.get(hw)
        mname = models.get((r.get("model") or "dsr1").strip().lower())
        prec = (r.get("precision") or "").strip().lower()
        agg = _flag(r.get("disagg", ""))
        nums = {k: _num(r.get(k, "")) for k in (
            "prefill_tp", "prefill_num_workers", "decode_tp", "decode_num_workers",
            "num_prefill_gpu", "num_decode_gpu", "isl", "osl", "conc")}
        if chip is None:
            reason = f"unknown chip '{r.get('hardware', '')}' (known: {catalog.known('chip')})"
        elif mname is None:
            reason = f"unknown model '{r.get('model', '')}'"
        elif prec not in EXPERT_BYTES:
            reason = f"unknown weight precision '{prec}' (known: {', '.join(EXPERT_BYTES)})"
        elif agg is None:
            reason = f"disagg '{r.get('disagg')}' is not True/False"
        elif not all(math.isfinite(v) and v > 0 for k, v in nums.items()
                     if k not in ("prefill_num_workers", "decode_num_workers")):
            bad = [k for k, v in nums.items() if not (math.isfinite(v) and v > 0)
                   and k not in ("prefill_num_workers", "decode_num_workers")]
            reason = f"{bad[0]} is missing or not a positive number"
        elif agg and not all(nums[k] >= 1 for k in ("prefill_num_workers",
                                                     "decode_num_workers")):
            reason = "a disaggregated row needs prefill_num_workers and decode_num_workers >= 1"
        spec = (r.get("spec_method") or "none").strip().lower()
        if reason is None and spec not in ("none", "mtp", ""):
            reason = f"spec_method '{spec}' is not none or mtp"
        if reason is not None:
            status[i] = reason
            chip, mname = chip or next(iter(catalog.entries("chip"))), \
                mname or "deepseek-r1"
            nums = {k: (v if math.isfinite(v) and v > 0 else 1.0) for k, v in nums.items()}
            agg = bool(agg)
            prec = prec if prec in EXPERT_BYTES else "fp8"
        disagg = bool(agg)
        c = const_c.setdefault(chip, chip_constants(chip))
        m = const_m.setdefault(mname, model_constants(mname))
        eng = engine(r.get("framework", ""))
        chip_of.append(chip)
        model_of.append(mname)
        stack_of.append(f"{eng}-{c['vendor']}")
        if disagg:
            dw = nums["num_decode_gpu"] / max(nums["decode_num_workers"], 1.0)
            pw = nums["num_prefill_gpu"] / max(nums["prefill_num_workers"], 1.0)
            dworkers, pworkers = max(nums["decode_num_workers"], 1.0), \
                max(nums["prefill_num_workers"], 1.0)
            gpus = nums["num_prefill_gpu"] + nums["num_decode_gpu"]
            dgpus = nums["num_decode_gpu"]
        else:
            # aggregated: one replica of decode_tp GPUs (the file's GPU count is tp x ep
            # when ep > 1, but its throughput per GPU divides by tp)
            dw = pw = nums["decode_tp"]
            dworkers = pworkers = 1.0
            gpus = dgpus = nums["decode_tp"]
        dp = _flag(r.get("decode_dp_attention", "")) or False
        kv_elem = kv_element_bytes(eng, c["generation"] if c["vendor"] == "nvidia" else "")
        kv = m["kv_bytes_per_token"] * kv_elem / 2.0
        eb = EXPERT_BYTES[prec]
        peak = c["chip_fp4_flops"] if prec == "fp4" else (
            c["chip_fp8_flops"] if prec == "fp8" else c["chip_peak_flops"])
        # FP8 dense weights, the experts at the row's precision (as a scenario states it)
        wbytes = float(deployment.weight_bytes_per_gpu({
            "decode_tp": dw, "total_params": m["total_params"],
            "routed_expert_params": m["routed_expert_params"],
            "attention_params": m["attention_params"], "weight_bytes_per_param": 1.0,
            "expert_bytes_per_param": eb, "decode_dp_attention": float(dp)}))
        isl, osl = nums["isl"] * length_scale, nums["osl"] * length_scale
        for k, v in (("isl", isl), ("osl", osl), ("conc", nums["conc"]),
                     ("aggregated", not disagg), ("decode_width", dw),
                     ("prefill_width", pw), ("decode_workers", dworkers),
                     ("prefill_workers", pworkers), ("decode_dp", dp),
                     ("n_draft", draft_tokens(eng, dp) if spec == "mtp" else 0),
                     ("gpus", gpus), ("decode_gpus", dgpus), ("expert_bytes", eb),
                     ("kv_bytes_per_token", kv), ("matmul_peak", peak),
                     ("decode_weight_bytes", wbytes), ("decode_context", isl + osl / 2.0)):
            cols[k].append(float(v))
        if status[i] == "predicted":
            have = c["chip_hbm_capacity"]
            need = wbytes + (isl + osl) * kv
            if need > have:
                status[i] = (f"does not fit: {chip} needs {need / 1e9:.1f} GB per GPU for "
                             f"weights and one sequence, has {have / 1e9:.1f} GB")
    config = {k: np.asarray(v) for k, v in cols.items()}
    for k in ("aggregated", "decode_dp"):
        config[k] = config[k].astype(bool)
    for k, v in _constants(chip_of, const_c, model_of, const_m).items():
        config[k] = v
    measured = {k: np.array([_num(r.get(k, "")) for r in records]) for k in METRICS
                if k in header}
    return Measurements(path=path, header=header, records=records, status=status,
                        config=config, chip=chip_of, stack=stack_of, measured=measured)


#: Chip and model constants copied into each row (``c.`` and ``m.`` prefixes).
CHIP_KEYS = ("chip_peak_flops", "chip_fp8_flops", "chip_fp4_flops", "chip_hbm_bandwidth",
             "chip_hbm_capacity", "chip_link_bandwidth", "chip_scaleup_domain",
             "chip_scaleout_bandwidth")
MODEL_KEYS = ("active_params", "total_params", "routed_expert_params", "experts_routed",
              "experts_active", "model_layers", "moe_layers", "hidden_size",
              "attention_params", "prefill_attention_flops", "decode_attention_flops")


def _constants(chips, const_c, models, const_m) -> dict[str, np.ndarray]:
    out = {}
    for k in CHIP_KEYS:
        out[f"c.{k}"] = np.array([const_c[c][k] for c in chips], dtype=float)
    for k in MODEL_KEYS:
        out[f"m.{k}"] = np.array([const_m[m][k] for m in models], dtype=float)
    return out


def split(config: dict[str, np.ndarray]):
    """(rows, chip constants, model constants) as the physics takes them."""
    rows = {k: v for k, v in config.items() if "." not in k}
    c = {k[2:]: v for k, v in config.items() if k.startswith("c.")}
    m = {k[2:]: v for k, v in config.items() if k.startswith("m.")}
    return rows, c, m


def subset(config: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    """The configuration arrays of the rows where ``mask`` is true."""
    return {k: v[mask] for k, v in config.items()}
