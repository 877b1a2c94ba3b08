"""The CLI's analyses as functions: each returns (summary, examples), the contents of the
summary.json and examples.jsonl the command writes (plain dicts and lists).

This first version runs the command itself inside this process (the C++ entry point of
`reasonscope <command>`, not a subprocess) with --out in a temporary directory, then reads the
files back. So the numbers are the CLI's by construction: same code, same inputs, same threads.
Rows are Python dicts (written to a temporary JSONL file first) or a JSONL path. `model` is an
installed name, a path, or a HookedModel (its file, dtype, device and weights are used; the
command loads its own copy). Other options are the command's, with underscores for dashes:
``verify_qk(rows, model, heads="heads.json", batch_size=4)`` runs
``reasonscope verify qk --data ... --heads heads.json --batch-size 4``. True adds a flag; a list
becomes a comma list. keep_dir=PATH writes the outputs there (report.html too) instead.
"""
import json
import os
import tempfile

from ._api import _ext


def run_cli(*args):
    """Run `reasonscope ARGS...` in this process and return its exit status (0). Errors raise
    reasonscope.Error with the CLI's message and its exit status as .exit_code. The command's
    own messages go to this process's stderr/stdout."""
    return _ext().run_cli([str(a) for a in args])


_DTYPE_CLI = {"float32": "f32", "bfloat16": "bf16", "float16": "f16"}


def _model_args(model):
    if model is None:
        return []
    if isinstance(model, (str, os.PathLike)):
        return ["--model", os.fspath(model)]
    m = model._m  # a HookedModel
    dtype = _DTYPE_CLI.get(m.dtype.replace("torch.", "").lower(), None) or {
        "float": "f32", "bfloat16": "bf16", "half": "f16"}.get(m.dtype.lower(), "f32")
    return ["--model", m.path, "--device", m.device, "--dtype", dtype,
            "--weights", "native" if m.weights == "native" else "dequant"]


def _option_args(options):
    out = []
    for k, v in options.items():
        if v is None or v is False:
            continue
        flag = "--" + k.replace("_", "-")
        if v is True:
            out.append(flag)
        elif isinstance(v, (list, tuple)):
            out += [flag, ",".join(str(x) for x in v)]
        else:
            out += [flag, os.fspath(v) if isinstance(v, os.PathLike) else str(v)]
    return out


def _rows_path(rows, tmp, name="rows.jsonl"):
    if isinstance(rows, (str, os.PathLike)):
        return os.fspath(rows)
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def _read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _run_dir_command(words, data_opt, rows, model, keep_dir, options):
    with tempfile.TemporaryDirectory(prefix="reasonscope-") as tmp:
        out = os.fspath(keep_dir) if keep_dir else os.path.join(tmp, "out")
        args = list(words)
        if data_opt:
            args += [data_opt, _rows_path(rows, tmp)]
        args += _model_args(model) + _option_args(options) + ["--out", out]
        run_cli(*args)
        return _read_json(os.path.join(out, "summary.json")), _read_jsonl(os.path.join(out, "examples.jsonl"))


def verify_spectral(rows, model=None, keep_dir=None, **options):
    """`reasonscope verify spectral`: spectral features of attention graphs, cross-validated
    detector of invalid reasoning. rows: {"text", "label"} dicts or a JSONL path. Options as the
    command's (text_field, label_field, layers, laplacian, folds, calibration, ...)."""
    return _run_dir_command(["verify", "spectral"], "--data", rows, model, keep_dir, options)


def verify_qk(rows, model=None, keep_dir=None, **options):
    """`reasonscope verify qk`: QK-head verification scores (heads, calib, format, template,
    batch_size, bootstrap, ...)."""
    return _run_dir_command(["verify", "qk"], "--data", rows, model, keep_dir, options)


def steer_eval(rows, model=None, keep_dir=None, **options):
    """`reasonscope steer eval`: a control vector's effect on a task (vector=..., layer or
    layers, alpha, format, calib, ...)."""
    return _run_dir_command(["steer", "eval"], "--data", rows, model, keep_dir, options)


def patch(rows, model=None, keep_dir=None, **options):
    """`reasonscope patch`: activation patching over clean/corrupt pairs (components, window,
    positions, category, ...)."""
    return _run_dir_command(["patch"], "--data", rows, model, keep_dir, options)


def cluster_analyze(rows, model=None, keep_dir=None, **options):
    """`reasonscope cluster analyze`: clustering of residual states by label (label_field,
    text_field, position, layers, batch, ...). model: a model or a `cluster train` directory."""
    return _run_dir_command(["cluster", "analyze"], "--data", rows, model, keep_dir, options)


def lens(prompt, model=None, keep_dir=None, **options):
    """`reasonscope lens`: the logit lens at a prompt (answers, positions, layers, top_k,
    no_final_norm). prompt: the text, or a row {"prompt": ..., "answers": [...]} (one row: the
    command reads a single prompt)."""
    if isinstance(prompt, dict):
        options = dict(options)
        if "answers" in prompt and "answers" not in options:
            options["answers"] = prompt["answers"]
        prompt = prompt["prompt"]
    return _run_dir_command(["lens"], None, None, model, keep_dir, dict(prompt=prompt, **options))


def steer_train(rows, model=None, out=None, **options):
    """`reasonscope steer train`: a control vector from contrast pairs (method, layers, position,
    heldout, batch, ...). Writes the vector to `out` (a .gguf; default: a temporary file, gone
    afterwards) and returns (summary, []) where summary is VEC.summary.json (per-layer norms and
    held-out separation) with summary["vector"] = out."""
    with tempfile.TemporaryDirectory(prefix="reasonscope-") as tmp:
        path = os.fspath(out) if out else os.path.join(tmp, "vector.gguf")
        run_cli("steer", "train", "--data", _rows_path(rows, tmp), *_model_args(model),
                *_option_args(options), "--out", path)
        summary = _read_json(path[: -len(".gguf")] + ".summary.json")
        summary["vector"] = path if out else None
        return summary, []


def creme_fit(rows, model=None, out=None, **options):
    """`reasonscope edit creme`: CREME's rank-one W_O edits fitted on two-hop cases (layers,
    templates, category, split, ...). Writes the edit (.safetensors) to `out` (default: a
    temporary file, gone afterwards) and returns (summary, []) with the summary the command
    prints, plus summary["deltas"]: weight name -> the delta's shape."""
    with tempfile.TemporaryDirectory(prefix="reasonscope-") as tmp:
        path = os.fspath(out) if out else os.path.join(tmp, "edit.safetensors")
        captured = os.path.join(tmp, "stdout.json")
        _ext().run_cli_capture([str(a) for a in ["edit", "creme", "--data", _rows_path(rows, tmp),
                                                 *_model_args(model), *_option_args(options),
                                                 "--out", path]], captured)
        with open(captured, encoding="utf-8") as f:
            summary = json.loads(f.read())
        if not out:
            summary["out"] = None
        return summary, []
