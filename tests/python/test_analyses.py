"""Each analysis function against the CLI command on a small file: the same summary and
examples, except wall-clock fields and the paths of the outputs. The function runs the command's
own C++ entry in this process, so the numbers are expected to be bitwise equal."""
import json
import os

import pytest

import reasonscope
from conftest import THREADS, read_outputs

WALL_CLOCK = {"seconds", "read_seconds", "scan_seconds", "prompts_per_second", "timing", "n_resumed",
              "load_seconds", "elapsed_seconds", "wall_seconds", "tokens_per_second"}
PATHS = {"out", "data", "vector", "model_dir", "report", "examples", "calibration_out"}


def normalise(x):
    if isinstance(x, dict):
        return {k: normalise(v) for k, v in x.items()
                if k not in WALL_CLOCK and k not in PATHS and not k.endswith("_seconds")}
    if isinstance(x, list):
        return [normalise(v) for v in x]
    return x


# The smallest inputs that still exercise each function against its command (CI time, issue 21):
# 4 problems give 8 chains of thought, 2 of each label per fold; 6 questions give 4 calibration
# and 2 test rows (as in test_shard_merge.sh and test_interrupt.sh).
@pytest.fixture(scope="module")
def data(cli, tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    cli("data", "make", "prontoqa", "--n", "4", "--seed", "5", "--hops", "1-3", "--out", d / "pq.jsonl")
    cli("data", "make", "cot-pairs", "--from", d / "pq.jsonl", "--seed", "5", "--out", d / "cot.jsonl")
    cli("data", "make", "prontoqa", "--n", "6", "--seed", "11", "--hops", "1,3", "--out", d / "qk.jsonl")
    cli("data", "make", "babi15", "--n", "12", "--seed", "3", "--out", d / "b.jsonl")
    cli("data", "make", "pairs", "--from", d / "b.jsonl", "--seed", "3", "--out", d / "pairs.jsonl")
    cli("data", "make", "twohop", "--n", "18", "--seed", "3", "--out", d / "twohop.jsonl")
    cli("data", "make", "instructions", "--n", "24", "--seed", "4", "--tasks", "3", "--distributions", "2",
        "--out", d / "instr.jsonl")
    return d


@pytest.fixture(scope="module")
def cli_vector(cli, model_path, data, tmp_path_factory):
    """`steer train` by the CLI, once: the reference of steer_train and the vector generate uses."""
    out = tmp_path_factory.mktemp("vec") / "v_cli.gguf"
    cli("steer", "train", "--model", model_path, "--threads", THREADS, "--data", data / "pairs.jsonl",
        "--layers", "8-10", "--out", out)
    return out


def rows_of(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def compare_dir_command(cli, model_path, tmp_path, words, fn, data_arg, options, cli_options, rows=None):
    out = tmp_path / "cli"
    args = list(words) + (["--data", data_arg] if data_arg else []) + ["--model", model_path, "--threads", THREADS]
    cli(*args, *cli_options, "--out", out)
    ref_summary, ref_examples = read_outputs(out)
    summary, examples = fn(rows if rows is not None else data_arg, model=model_path, threads=THREADS, **options)
    assert normalise(summary) == normalise(ref_summary)
    assert normalise(examples) == normalise(ref_examples)
    assert len(examples) == len(ref_examples)
    return summary, examples


def test_verify_spectral(cli, model_path, data, tmp_path):
    # rows given as dicts: written to a temporary JSONL by the function
    s, ex = compare_dir_command(cli, model_path, tmp_path, ["verify", "spectral"], reasonscope.verify_spectral,
                                data / "cot.jsonl", dict(layers="0-3", folds=2, max_tokens=64),
                                ["--layers", "0-3", "--folds", "2", "--max-tokens", "64"],
                                rows=rows_of(data / "cot.jsonl"))
    assert len(ex) == len(rows_of(data / "cot.jsonl"))


def test_verify_qk(cli, model_path, data, tmp_path):
    compare_dir_command(cli, model_path, tmp_path, ["verify", "qk"], reasonscope.verify_qk, data / "qk.jsonl",
                        dict(calib=4, ensemble=3, batch_size=2, bootstrap=50),
                        ["--calib", "4", "--ensemble", "3", "--batch-size", "2", "--bootstrap", "50"])


def test_steer_train_and_eval(cli, model_path, data, cli_vector, tmp_path):
    summary, ex = reasonscope.steer_train(data / "pairs.jsonl", model=model_path, threads=THREADS, layers="8-10",
                                          out=tmp_path / "v_py.gguf")
    ref = json.load(open(cli_vector.with_name("v_cli.summary.json")))
    assert normalise(summary) == normalise(ref) and ex == []
    assert (tmp_path / "v_py.gguf").read_bytes() == cli_vector.read_bytes()
    compare_dir_command(cli, model_path, tmp_path, ["steer", "eval"], reasonscope.steer_eval, data / "b.jsonl",
                        dict(vector=cli_vector, layer=9, alpha=[2], calib=3, bootstrap=50, limit=6),
                        ["--vector", cli_vector, "--layer", "9", "--alpha", "2", "--calib", "3",
                         "--bootstrap", "50", "--limit", "6"])


def test_generate_with_steer_matches_cli(model, cli, model_path, cli_vector):
    vec = cli_vector  # bitwise the vector of reasonscope.steer_train (test_steer_train_and_eval)
    prompt = "Mary went to the kitchen. Where is Mary?"
    ref = json.loads(cli("generate", "--model", model_path, "--threads", THREADS, "--weights", "dequant", "--json",
                         "-n", "8", "--prompt", prompt, "--steer", vec, "--steer-layer", "9", "--steer-alpha", "4").stdout)
    g = model.generate(prompt, max_new_tokens=8, do_sample=False, steer=[(str(vec), 9, 4.0)], return_type="generations")
    assert g[0]["tokens"] == ref["tokens"]


def test_cluster_analyze(cli, model_path, data, tmp_path):
    compare_dir_command(cli, model_path, tmp_path, ["cluster", "analyze"], reasonscope.cluster_analyze,
                        data / "instr.jsonl", dict(label_field="task", text_field="instruction", batch=4, limit=12),
                        ["--label-field", "task", "--text-field", "instruction", "--batch", "4", "--limit", "12"])


def test_patch(cli, model_path, data, tmp_path):
    compare_dir_command(cli, model_path, tmp_path, ["patch"], reasonscope.patch, data / "twohop.jsonl",
                        dict(category="all", limit=2, components="resid", positions="last"),
                        ["--category", "all", "--limit", "2", "--components", "resid", "--positions", "last"])


def test_lens(cli, model_path, tmp_path):
    prompt = "The Eiffel Tower is in the city of"
    out = tmp_path / "cli"
    cli("lens", "--model", model_path, "--threads", THREADS, "--prompt", prompt, "--answers", "Paris,France",
        "--out", out)
    ref = read_outputs(out)
    s, ex = reasonscope.lens({"prompt": prompt, "answers": ["Paris", "France"]}, model=model_path, threads=THREADS)
    assert normalise(s) == normalise(ref[0]) and normalise(ex) == normalise(ref[1]) and ex


def test_creme_fit_and_generate_with_edit(model, cli, model_path, data, tmp_path):
    opts = ["--category", "all", "--split", "all", "--limit", "2", "--layers", "8-9", "--templates", "1"]
    ref = json.loads(cli("edit", "creme", "--model", model_path, "--threads", THREADS, "--data",
                         data / "twohop.jsonl", *opts, "--out", tmp_path / "e_cli.safetensors").stdout)
    s, ex = reasonscope.creme_fit(data / "twohop.jsonl", model=model_path, threads=THREADS, category="all",
                                  split="all", limit=2, layers="8-9", templates=1, out=tmp_path / "e_py.safetensors")
    assert normalise(s) == normalise(ref) and ex == []
    assert (tmp_path / "e_py.safetensors").read_bytes() == (tmp_path / "e_cli.safetensors").read_bytes()
    # generate(edit=...) is `generate --edit`, and the weights come back exactly afterwards
    prompt = rows_of(data / "twohop.jsonl")[0].get("prompt") or "The capital of France is"
    tokens = model.to_tokens(prompt)
    before = model(tokens)
    ref_g = json.loads(cli("generate", "--model", model_path, "--threads", THREADS, "--weights", "dequant", "--json",
                           "-n", "6", "--prompt", prompt, "--edit", tmp_path / "e_cli.safetensors").stdout)
    g = model.generate(prompt, max_new_tokens=6, do_sample=False, edit=str(tmp_path / "e_cli.safetensors"),
                       return_type="generations")
    assert g[0]["tokens"] == ref_g["tokens"]
    assert (model(tokens) == before).all()


def test_analysis_errors_are_the_cli_messages(cli, model_path, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": 1}\n{not json\n')
    p = cli("verify", "spectral", "--model", model_path, "--data", bad, "--out", tmp_path / "o", check=False)
    with pytest.raises(reasonscope.Error) as e:
        reasonscope.verify_spectral(bad, model=model_path)
    assert str(e.value) == p.stderr.strip().splitlines()[-1][len("error: "):]
    assert e.value.exit_code == p.returncode == 3
