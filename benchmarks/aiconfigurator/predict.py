"""Run NVIDIA's aiconfigurator on each InferenceX DeepSeek-R1 measurement; record its predictions.

Runs inside benchmarks/aiconfigurator/.venv (made by setup.sh), never the project's .venv:

    benchmarks/aiconfigurator/.venv/bin/python benchmarks/aiconfigurator/predict.py [CSV]

For each row of the measurements CSV, the deployment is mapped onto ONE aiconfigurator
configuration and evaluated with ``aiconfigurator.cli.api.cli_estimate`` (its single-point
estimate: no search). Every input row gets one output row: the predicted metrics, or a
``status`` saying why there are none. Estimates are cached by their exact arguments in
benchmarks/aiconfigurator/.cache/ (identical configurations measured on different dates
are estimated once; an interrupted run resumes where it stopped).

Mapping (InferenceX -> aiconfigurator), each choice also written in README.md:
- hardware: h200 -> h200_sxm, b200 -> b200_sxm, gb200 -> gb200; mi300x/mi355x unsupported.
- framework: sglang, dynamo-sglang -> sglang; trt, dynamo-trt -> trtllm; atom and
  mori-sglang are AMD-only and unsupported. Backend version: the newest database
  aiconfigurator 0.12 resolves by default for that system and backend.
- precision: fp8 -> deepseek-ai/DeepSeek-R1 (fp8_block GEMM and MoE, as its checkpoint
  says); fp4 -> nvidia/DeepSeek-V3.1-NVFP4 (same DeepSeek-V3 architecture as R1; NVFP4
  MoE and GEMMs, attention projections excluded, as its quantisation config says;
  aiconfigurator ships no R1 NVFP4 config). KV cache fp8 wherever InferenceX's launch
  scripts ask for it (TensorRT-LLM everywhere, SGLang on B200/GB200), bfloat16 for SGLang
  on H200 (its script leaves the KV cache in the model dtype).
- parallelism per worker of g GPUs: DP attention -> attention tp 1 x dp g, else tp g;
  MoE expert parallel = ep, MoE tensor parallel = g / ep. Where the CSV's tp disagrees
  with its GPU count (some GB200 disaggregated rows list tp 1 for 4-48-GPU workers), g
  comes from the GPU count and DP-attention workers are wide-EP (ep = g).
- MTP (spec_method == mtp): nextn as InferenceX launches it: TensorRT-LLM 1 with DP
  attention, else 3; SGLang EAGLE 2 steps. aiconfigurator needs the accepted draft tokens
  per step: sum_{i=1..nextn} p^i with p = --mtp-accept (0.85, DeepSeek-V3's reported
  acceptance of the second token and aiconfigurator's own example value).
- batch: aiconfigurator's batch_size is per attention-DP rank; the CSV's conc is the whole
  deployment's. Decode ranks = decode workers x (g if DP attention else 1); batch =
  round(conc / ranks), at least 1; when that rounding changes the in-flight count
  (conc < ranks, or not divisible) throughput is scaled by conc / (batch x ranks) (Little's
  law at the predicted latency). Prefill batch 1 per rank (aiconfigurator's default
  prefill_max_batch_size). Aggregated rows are one server of tp GPUs.
- outputs: tput_per_gpu = seq/s x (isl + osl) / GPUs, GPUs = tp (aggregated) or
  num_prefill_gpu + num_decode_gpu (disaggregated), InferenceX's basis (input + output
  tokens/s over all GPUs); median_tpot and median_ttft in seconds; median_intvty =
  aiconfigurator's tokens/s/user.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_CSV = Path("data/inferencex/dsr1-measurements.csv")
FALLBACK_CSV = Path("../shared/data/inferencex/dsr1-measurements.csv")
DEFAULT_OUT = REPO / "benchmarks" / "results" / "aiconfigurator-dsr1.csv"
DEFAULT_CACHE = HERE / ".cache" / "estimates.jsonl"

SYSTEMS = {"h200": "h200_sxm", "b200": "b200_sxm", "gb200": "gb200"}
BACKENDS = {"sglang": "sglang", "dynamo-sglang": "sglang", "trt": "trtllm", "dynamo-trt": "trtllm"}
MODELS = {"fp8": "deepseek-ai/DeepSeek-R1", "fp4": "nvidia/DeepSeek-V3.1-NVFP4"}
METRICS = ["tput_per_gpu", "median_tpot", "median_ttft", "median_intvty"]
ID_COLUMNS = ["hardware", "framework", "precision", "spec_method", "disagg", "conc", "isl", "osl"]
STATUS_LEN = 120


def resolve_csv(arg: str | None) -> Path:
    """The measurements CSV: the argument, else data/..., else ../shared/data/... (repo root)."""
    if arg:
        return Path(arg)
    for candidate in (REPO / DEFAULT_CSV, REPO / FALLBACK_CSV):
        if candidate.exists():
            return candidate
    raise SystemExit(
        f"predict.py: no measurements CSV at {DEFAULT_CSV} or {FALLBACK_CSV} (pass its path)"
    )


class Unsupported(Exception):
    """A row that cannot be mapped onto aiconfigurator; the message becomes its status."""


def _worker(tp: int, ep: int, dp_attention: bool, gpus: int) -> dict:
    """aiconfigurator parallelism of one worker with `gpus` GPUs."""
    if gpus < 1:
        raise Unsupported(f"unmappable: worker of {gpus} GPUs")
    if tp != gpus:  # the CSV's tp is not the worker size: trust the GPU count
        ep = gpus if dp_attention else (ep if ep >= 1 and gpus % ep == 0 else 1)
    if ep < 1 or gpus % ep:
        raise Unsupported(f"unmappable: ep {ep} does not divide {gpus} GPUs")
    attn = {"tp": 1, "dp": gpus} if dp_attention else {"tp": gpus, "dp": 1}
    return {**attn, "moe_tp": gpus // ep, "moe_ep": ep}


def _flag(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def map_row(row: pd.Series, mtp_accept: float) -> tuple[dict, dict]:
    """(cli_estimate keyword arguments, bookkeeping) for one measurement row, or Unsupported."""
    hardware, framework, precision = row["hardware"], row["framework"], row["precision"]
    if hardware not in SYSTEMS:
        raise Unsupported(f"unsupported system: no {hardware} (AMD) in aiconfigurator 0.12")
    if framework not in BACKENDS:
        raise Unsupported(
            f"unsupported framework: {framework} (aiconfigurator models sglang, trtllm, vllm)"
        )
    if precision not in MODELS:
        raise Unsupported(f"unsupported precision: {precision}")
    system, backend = SYSTEMS[hardware], BACKENDS[framework]
    disagg = _flag(row["disagg"])
    isl, osl, conc = int(row["isl"]), int(row["osl"]), int(row["conc"])
    kv = "bfloat16" if (backend == "sglang" and hardware == "h200") else "fp8"
    kwargs = {
        "model_path": MODELS[precision],
        "system_name": system,
        "backend_name": backend,
        "isl": isl,
        "osl": osl,
        "kvcache_quant_mode": kv,
    }

    def sizes(side: str, gpus_total: int, workers: int) -> tuple[dict, int]:
        tp, ep, dpa = (
            int(row[f"{side}_tp"]),
            int(row[f"{side}_ep"]),
            _flag(row[f"{side}_dp_attention"]),
        )
        if workers < 1 or gpus_total % workers:
            raise Unsupported(f"unmappable: {side} {gpus_total} GPUs over {workers} workers")
        return _worker(tp, ep, dpa, gpus_total // workers), gpus_total // workers

    if disagg:
        pw, dw = int(row["prefill_num_workers"]), int(row["decode_num_workers"])
        p, _ = sizes("prefill", int(row["num_prefill_gpu"]), pw)
        d, _ = sizes("decode", int(row["num_decode_gpu"]), dw)
        total_gpus = int(row["num_prefill_gpu"]) + int(row["num_decode_gpu"])
        ranks = dw * d["dp"]
        decode_dpa = d["dp"] > 1
        kwargs["mode"] = "disagg"
        for side, cfg, workers in (("prefill", p, pw), ("decode", d, dw)):
            kwargs[f"{side}_tp_size"] = cfg["tp"]
            kwargs[f"{side}_attention_dp_size"] = cfg["dp"]
            kwargs[f"{side}_moe_tp_size"] = cfg["moe_tp"]
            kwargs[f"{side}_moe_ep_size"] = cfg["moe_ep"]
            kwargs[f"{side}_num_workers"] = workers
        kwargs["prefill_batch_size"] = 1
    else:
        g = int(row["prefill_tp"])
        a = _worker(g, int(row["prefill_ep"]), _flag(row["prefill_dp_attention"]), g)
        total_gpus, ranks, decode_dpa = g, a["dp"], a["dp"] > 1
        kwargs.update(
            mode="agg",
            tp_size=a["tp"],
            attention_dp_size=a["dp"],
            moe_tp_size=a["moe_tp"],
            moe_ep_size=a["moe_ep"],
        )
    batch = max(1, round(conc / ranks))
    kwargs["decode_batch_size" if disagg else "batch_size"] = batch
    if row["spec_method"] == "mtp":
        nextn = (1 if decode_dpa else 3) if backend == "trtllm" else 2
        kwargs["nextn"] = nextn
        kwargs["nextn_accepted"] = round(sum(mtp_accept**i for i in range(1, nextn + 1)), 6)
    elif row["spec_method"] != "none":
        raise Unsupported(f"unsupported spec_method: {row['spec_method']}")
    book = {
        "total_gpus": total_gpus,
        "scale": conc / (batch * ranks),
        "batch": batch,
        "ranks": ranks,
    }
    return kwargs, book


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


# aiconfigurator 0.12 picks fp8 FMHA for wide-EP MLA workers but ships no fp8 context-MLA
# table for some of them (GB200 trtllm); bfloat16 FMHA is what it falls back to elsewhere.
FMHA_RETRY = "context MLA data missing"


def _estimate_once(kwargs: dict, timeout_s: int):
    from aiconfigurator.cli.api import cli_estimate

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout_s)
    try:
        return cli_estimate(**kwargs), None
    except _Timeout:
        return None, f"timeout after {timeout_s} s"
    except Exception as e:  # any rejection (OOM, missing perf data, invalid config) is recorded
        text = " ".join(f"{type(e).__name__}: {e}".split())
        return None, re.sub(r" at /\S+", "", text)  # no local paths in the recorded text
    finally:
        signal.alarm(0)


def estimate(kwargs: dict, timeout_s: int) -> dict:
    """One aiconfigurator estimate: the numbers we keep, or an error string."""
    r, error = _estimate_once(kwargs, timeout_s)
    fallback = None
    if error and FMHA_RETRY in error and "fmha_quant_mode" not in kwargs:
        r, retry_error = _estimate_once({**kwargs, "fmha_quant_mode": "bfloat16"}, timeout_s)
        error = f"{error} (and with bfloat16 FMHA: {retry_error})" if retry_error else None
        fallback = "bfloat16 FMHA (no fp8 context-MLA data)"
    if error:
        return {"error": error, "retried": fallback is not None}
    raw = r.raw
    return {
        "ttft_ms": float(r.ttft),
        "tpot_ms": float(r.tpot),
        "seq_s": float(raw.get("seq/s", 0.0)),
        "tokens_s_user": float(raw.get("tokens/s/user", 0.0)),
        "num_total_gpus": int(raw.get("num_total_gpus", 0) or 0),
        "version": str(r.backend_version),
        "kv_warning": bool(r.kv_cache_warning),
        "fallback": fallback,
    }


def cache_key(kwargs: dict) -> str:
    return hashlib.sha1(json.dumps(kwargs, sort_keys=True).encode()).hexdigest()


def load_cache(path: Path) -> dict:
    cache = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:  # a line cut by an interrupted run
                continue
            cache[item["key"]] = item["result"]
    return cache


def predict_row(row: pd.Series, est: dict, book: dict) -> dict:
    if "error" in est:
        text = re.sub(r" at /\S+", "", est["error"])
        if "OOM" in text or "does not fit" in text:
            # "RuntimeError: OOM: the model 'M' does not fit in GPU memory on ... Try ..." -> middle
            text = re.sub(r"^.*?does not fit", "does not fit", text).split(". Try")[0]
            return {"status": f"oom: {text}, batch {book['batch']}/rank"[:STATUS_LEN]}
        return {"status": f"error: {text}"[:STATUS_LEN]}
    isl, osl = int(row["isl"]), int(row["osl"])
    seq_s = est["seq_s"] * book["scale"]
    out = {
        "tput_per_gpu": seq_s * (isl + osl) / book["total_gpus"],
        "median_tpot": est["tpot_ms"] / 1000.0,
        "median_ttft": est["ttft_ms"] / 1000.0,
        "median_intvty": est["tokens_s_user"],
        "aic_version": est["version"],
        "batch_per_rank": book["batch"],
    }
    notes = [est["fallback"]] if est.get("fallback") else []
    if est["kv_warning"]:
        notes.append("batch exceeds predicted KV-cache capacity")
    if abs(book["scale"] - 1) > 0.01:
        notes.append(f"throughput scaled x{book['scale']:.3g} for conc/rank rounding")
    out["status"] = ("ok; " + "; ".join(notes) if notes else "ok")[:STATUS_LEN]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "csv", nargs="?", help=f"measurements CSV (default {DEFAULT_CSV}, else {FALLBACK_CSV})"
    )
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="predictions CSV to write")
    ap.add_argument(
        "--cache", default=str(DEFAULT_CACHE), help="estimate cache (JSON lines; resumes)"
    )
    ap.add_argument(
        "--mtp-accept", type=float, default=0.85, help="MTP acceptance per draft position"
    )
    ap.add_argument("--timeout", type=int, default=300, help="seconds allowed per estimate")
    ap.add_argument(
        "--limit", type=int, default=None, help="estimate at most this many new configurations"
    )
    args = ap.parse_args(argv)

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)
    for name in ("aiconfigurator", "aiconfigurator_core"):
        logging.getLogger(name).setLevel(logging.ERROR)

    csv = resolve_csv(args.csv)
    measured = pd.read_csv(csv)
    cache_path = Path(args.cache)
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    cache = load_cache(cache_path)
    print(f"{csv}: {len(measured)} rows; {len(cache)} cached estimates", file=sys.stderr)

    t0, fresh, records = time.time(), 0, []
    with cache_path.open("a") as cache_file:
        for i, row in measured.iterrows():
            rec = {"row": i, **{c: row[c] for c in ID_COLUMNS}}
            try:
                kwargs, book = map_row(row, args.mtp_accept)
            except Unsupported as e:
                rec["status"] = str(e)[:STATUS_LEN]
                records.append(rec)
                continue
            key = cache_key(kwargs)
            stale = FMHA_RETRY in cache.get(key, {}).get("error", "") and not cache[key].get(
                "retried"
            )
            if key not in cache or stale:
                if args.limit is not None and fresh >= args.limit:
                    rec["status"] = "not run: --limit reached"
                    records.append(rec)
                    continue
                cache[key] = estimate(kwargs, args.timeout)
                cache_file.write(
                    json.dumps({"key": key, "kwargs": kwargs, "result": cache[key]}) + "\n"
                )
                cache_file.flush()
                fresh += 1
                if fresh % 20 == 0:
                    print(
                        f"  {fresh} new estimates, row {i}, {time.time() - t0:.0f} s",
                        file=sys.stderr,
                    )
            rec.update(predict_row(row, cache[key], book))
            records.append(rec)

    out = pd.DataFrame(records)
    columns = ["row", *ID_COLUMNS, *METRICS, "status", "aic_version", "batch_per_rank"]
    out = out.reindex(columns=columns)
    for c in ("median_tpot", "median_ttft"):
        out[c] = out[c].map(lambda v: v if pd.isna(v) else float(f"{v:.5g}"))
    for c in ("tput_per_gpu", "median_intvty"):
        out[c] = out[c].map(lambda v: v if pd.isna(v) else round(v, 2))
    out["batch_per_rank"] = out["batch_per_rank"].astype("Int64")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False)
    ok = out["status"].str.startswith("ok").sum()
    print(
        f"wrote {args.out}: {len(out)} rows, {ok} predicted; "
        f"{fresh} new estimates in {time.time() - t0:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
