"""The model API: TransformerLens's names and conventions over reasonscope's engine.

Every computation runs in C++ (reasonscope._C) with the GIL released; only Python hook callbacks
take it back, for their own call. Tensors are torch tensors that share storage with the engine's
(no copies at the boundary).
"""
import contextlib
import importlib
import threading

import torch  # before the extension: it links this torch's libtorch

_ext_module = None
_ext_lock = threading.Lock()


def _ext():
    """The compiled engine, imported on first use (after torch)."""
    global _ext_module
    if _ext_module is None:
        with _ext_lock:
            if _ext_module is None:
                try:
                    _ext_module = importlib.import_module("reasonscope._C")
                except ImportError as e:
                    raise ImportError(
                        "reasonscope's compiled module (reasonscope._C) is missing: install the "
                        "package with `pip install .` from the repository, or put a CMake build's "
                        "python/ folder (build/release/python) on PYTHONPATH. " + str(e)) from e
    return _ext_module


_DTYPES = {
    "float32": "f32", "f32": "f32", "float": "f32", torch.float32: "f32",
    "bfloat16": "bf16", "bf16": "bf16", torch.bfloat16: "bf16",
    "float16": "f16", "f16": "f16", "half": "f16", torch.float16: "f16",
}


def load(path_or_name, dtype="float32", device="cpu", weights="exact", threads=None):
    """Load a model: a .gguf file, a Hugging Face directory (config.json, *.safetensors,
    tokenizer.json) or an installed model's name (`reasonscope models`, e.g. "smollm2-135m";
    None = the default model).

    dtype: "float32", "bfloat16" or "float16" (or the torch dtype).
    device: "cpu", "cuda" or "cuda:N": the engine's ATen path runs wherever this torch does.
    weights: "exact" dequantises GGUF blocks to `dtype` (exact activations, what the analyses
      use); "native" keeps them quantised and runs reasonscope's SIMD kernels (CPU only, 8-bit
      activations: fast generation), as the CLI's --weights native.
    threads: set torch's intra-op threads (None: leave them as they are).

    Errors (missing file, bad file, unknown name) raise reasonscope.Error with the CLI's message;
    .exit_code is the status the CLI would return.
    """
    if dtype not in _DTYPES:
        raise ValueError(f"dtype: expected float32, bfloat16 or float16, got {dtype!r}")
    impl = _ext().load(path_or_name or "", _DTYPES[dtype], str(device), weights, int(threads or 0))
    return HookedModel(impl)


class Config:
    """The architecture, with TransformerLens's names (n_layers, d_model, n_heads,
    n_key_value_heads, d_head, d_mlp, d_vocab, n_ctx, architecture) and a few more."""

    def __init__(self, d):
        self.__dict__.update(d)
        self.device = None
        self.dtype = None

    def to_dict(self):
        return dict(self.__dict__)

    def __repr__(self):
        return f"Config({self.summary})"


class HookPoint:
    """What a hook function receives as its second argument: `hook.name` is the full hook name
    ("blocks.3.attn.hook_pattern"), `hook.layer()` its block (None for global points)."""

    __slots__ = ("name", "_layer")

    def __init__(self, name):
        self.name = name
        parts = name.split(".")
        self._layer = int(parts[1]) if len(parts) > 2 and parts[0] == "blocks" else None

    def layer(self):
        return self._layer

    def __repr__(self):
        return f"HookPoint({self.name!r})"


# TransformerLens's short names (utils.get_act_name) -> our suffixes.
_SHORT = {
    "embed": "hook_embed", "resid_pre": "hook_resid_pre", "resid_mid": "hook_resid_mid",
    "resid_post": "hook_resid_post", "attn_out": "hook_attn_out", "mlp_out": "hook_mlp_out",
    "q": "attn.hook_q", "k": "attn.hook_k", "v": "attn.hook_v", "rot_q": "attn.hook_rot_q",
    "rot_k": "attn.hook_rot_k", "z": "attn.hook_z", "result": "attn.hook_result",
    "pattern": "attn.hook_pattern", "attn": "attn.hook_pattern", "attn_scores": "attn.hook_attn_scores",
    "scores": "attn.hook_attn_scores", "pre": "mlp.hook_pre", "post": "mlp.hook_post",
    "mlp_pre": "mlp.hook_pre", "mlp_post": "mlp.hook_post", "logits": "hook_logits",
}


def act_name(name, layer=None, layer_type=None):
    """TransformerLens's utils.get_act_name: ("resid_post", 3) -> "blocks.3.hook_resid_post",
    ("normalized", 3, "ln1") -> "blocks.3.ln1.hook_normalized", ("embed",) -> "hook_embed"."""
    if name == "normalized":
        if layer is None:
            return "ln_final.hook_normalized"
        return f"blocks.{layer}.{layer_type or 'ln1'}.hook_normalized"
    suffix = _SHORT.get(name, name)
    if suffix in ("hook_embed", "hook_logits") or layer is None:
        return suffix
    return f"blocks.{layer}.{suffix}"


class ActivationCache(dict):
    """Hook name -> torch.Tensor (batch first). Also answers TransformerLens's short keys:
    cache["resid_post", 3], cache["pattern", 0], cache["normalized", 2, "ln2"]."""

    def __getitem__(self, key):
        if isinstance(key, tuple):
            key = act_name(*key)
        return dict.__getitem__(self, key)

    def __contains__(self, key):
        if isinstance(key, tuple):
            key = act_name(*key)
        return dict.__contains__(self, key)


class HookedModel:
    """A loaded model with TransformerLens's interface. Make one with reasonscope.load().

    Forward calls accept a string, a list of strings or an int64 tensor [batch, pos] (what
    to_tokens returns). Several threads may run forwards on one model at the same time.
    """

    def __init__(self, impl):
        self._m = impl
        self.cfg = Config(impl.cfg)
        self.cfg.device = impl.device
        self.cfg.dtype = impl.dtype
        self.hook_dict = {n: HookPoint(n) for n in impl.hook_names}
        self._hook_stack = []       # hooks of enclosing `with m.hooks(...)` blocks
        self._permanent = []        # add_hook()
        self._lock = threading.Lock()

    def __repr__(self):
        return f"<reasonscope model {self._m.path}: {self.cfg.summary}, {self._m.dtype} on {self._m.device}>"

    # ------------------------------------------------------------------ tokens
    @property
    def path(self):
        return self._m.path

    @property
    def pad_token_id(self):
        """The id to_tokens pads with: the tokenizer's pad token, else EOS, else 0."""
        for t in (self._m.pad_id, self._m.eos_id):
            if t is not None and t >= 0:
                return t
        return 0

    def _prepend(self, prepend_bos):
        return self._m.add_bos if prepend_bos is None else bool(prepend_bos)

    def _encode(self, text, prepend_bos):
        if prepend_bos is None:
            return self._m.encode(text, True)  # the tokenizer's BOS/EOS rule, as the CLI encodes
        ids = self._m.encode(text, False)
        bos = self._m.bos_id
        if prepend_bos:
            if bos < 0:
                raise ValueError("prepend_bos: this tokenizer has no BOS token")
            ids = [bos] + ids
        return ids

    def to_tokens(self, input, prepend_bos=None, padding_side="right", move_to_device=True,
                  truncate=False):
        """Text (a string or a list of strings) -> int64 tensor [batch, pos].

        prepend_bos: None = the tokenizer's own rule (as the CLI tokenises; SmolLM2 adds none),
          True / False to force it. Special-token text such as "<|im_start|>" becomes that token.
        padding_side: "right" (the default, as TransformerLens) or "left"; pads are
          pad_token_id. Right padding leaves every real position exact (attention is causal);
          with "left" the forward masks the leading pads out (and gives each row the position
          ids it has alone), so column -1 is every row's last token.
        """
        texts = [input] if isinstance(input, str) else list(input)
        seqs = [self._encode(t, prepend_bos) for t in texts]
        n = max(len(s) for s in seqs)
        if truncate and self.cfg.n_ctx and n > self.cfg.n_ctx:
            seqs = [s[: self.cfg.n_ctx] for s in seqs]
            n = self.cfg.n_ctx
        pad = self.pad_token_id
        if padding_side not in ("left", "right"):
            raise ValueError(f"padding_side: expected 'left' or 'right', got {padding_side!r}")
        rows = [(s + [pad] * (n - len(s))) if padding_side == "right" else ([pad] * (n - len(s)) + s)
                for s in seqs]
        t = torch.tensor(rows, dtype=torch.long)
        return t.to(self._m.device) if move_to_device else t

    def to_string(self, tokens):
        """Token ids (int, list, 1-d or 2-d tensor) -> text (a list of texts for a batch)."""
        if isinstance(tokens, torch.Tensor):
            if tokens.dim() == 2:
                return [self._m.decode(r) for r in tokens.tolist()]
            tokens = tokens.reshape(-1).tolist()
        elif isinstance(tokens, int):
            tokens = [tokens]
        elif tokens and isinstance(tokens[0], (list, tuple)):
            return [self._m.decode(list(r)) for r in tokens]
        return self._m.decode(list(tokens))

    def to_str_tokens(self, input, prepend_bos=None):
        """Text or ids -> the text of each token (a list; a list of lists for a batch)."""
        if isinstance(input, str):
            ids = self._encode(input, prepend_bos)
        elif isinstance(input, torch.Tensor):
            if input.dim() == 2:
                return [[self._m.token_text(i) for i in r] for r in input.tolist()]
            ids = input.reshape(-1).tolist()
        elif input and isinstance(input[0], str):
            return [self.to_str_tokens(s, prepend_bos) for s in input]
        else:
            ids = list(input)
        return [self._m.token_text(i) for i in ids]

    def to_single_token(self, text):
        """The id of a text that is exactly one token (ValueError otherwise)."""
        ids = self._m.encode(text, False)
        if len(ids) != 1:
            raise ValueError(f"{text!r} is {len(ids)} tokens, not one")
        return ids[0]

    # ------------------------------------------------------------------ hooks
    @property
    def hook_names(self):
        """Every hook name of this model, in forward order."""
        return list(self.hook_dict)

    def _resolve(self, name_or_filter):
        if callable(name_or_filter):
            return [n for n in self.hook_dict if name_or_filter(n)]
        if name_or_filter in self.hook_dict:
            return [name_or_filter]
        if isinstance(name_or_filter, tuple):
            return [act_name(*name_or_filter)]
        return self._m.resolve_hooks(name_or_filter)  # patterns "blocks.*.hook_z"; nearest names on error

    def _hook_list(self, fwd_hooks):
        out = []
        for entry in list(self._permanent) + [h for hs in self._hook_stack for h in hs] + list(fwd_hooks or []):
            name_or_filter, fn = entry
            for n in self._resolve(name_or_filter):
                out.append((n, fn, self.hook_dict[n]))
        return out

    def _names(self, names_filter):
        if names_filter is None:
            return list(self.hook_dict)
        if isinstance(names_filter, str):
            return self._resolve(names_filter)
        if callable(names_filter):
            return [n for n in self.hook_dict if names_filter(n)]
        out = []
        for n in names_filter:
            out.extend(self._resolve(n))
        return out

    def add_hook(self, name, hook, dir="fwd"):
        """A hook active in every later call until reset_hooks() (TransformerLens's add_hook)."""
        if dir != "fwd":
            raise NotImplementedError("backward hooks: reasonscope runs forward passes without autograd")
        self._permanent.append((name, hook))

    def reset_hooks(self, including_permanent=True):
        """Remove the hooks added by add_hook()."""
        self._permanent = []

    @contextlib.contextmanager
    def hooks(self, fwd_hooks=(), bwd_hooks=(), reset_hooks_end=True, clear_contexts=False):
        """Context manager: `with m.hooks(fwd_hooks=[(name, fn)]): m(tokens)` runs every forward
        (and generate, score) inside the block with these hooks."""
        if bwd_hooks:
            raise NotImplementedError("backward hooks: reasonscope runs forward passes without autograd")
        entry = list(fwd_hooks)
        self._hook_stack.append(entry)
        try:
            yield self
        finally:
            self._hook_stack.remove(entry)

    # ------------------------------------------------------------------ forward
    def _tokens(self, input, prepend_bos=None, padding_side=None):
        if isinstance(input, torch.Tensor):
            if input.dim() == 1:
                input = input.unsqueeze(0)
            return input.long()
        return self.to_tokens(input, prepend_bos=prepend_bos, padding_side=padding_side or "right")

    def _mask(self, tokens, attention_mask):
        if attention_mask is not None:
            return attention_mask
        # Left padding: a row's leading pad ids are padding. Nothing to mask when no row starts
        # with one (right padding needs no mask: attention is causal).
        lead = tokens[:, 0] == self.pad_token_id
        if not bool(lead.any()):
            return None
        return ((tokens != self.pad_token_id).long().cumsum(1) > 0).long()

    def _run(self, input, names, fwd_hooks, return_type, attention_mask, stop_at_layer,
             prepend_bos, padding_side):
        tokens = self._tokens(input, prepend_bos, padding_side)
        mask = self._mask(tokens, attention_mask)
        if stop_at_layer is not None:
            n = self.cfg.n_layers
            stop = stop_at_layer + n if stop_at_layer < 0 else stop_at_layer
            if not 0 < stop <= n:
                raise ValueError(f"stop_at_layer: expected 1..{n} (or negative), got {stop_at_layer}")
            stop_after = stop - 1 if stop < n else -1
        else:
            stop_after = -1
        mode = "none" if (return_type is None or stop_after >= 0) else "all"
        out, cache = self._m.run(tokens, mask, names, self._hook_list(fwd_hooks), mode, stop_after)
        if stop_after >= 0 or return_type is None:
            result = out if stop_after >= 0 else None
        elif return_type == "logits":
            result = out
        elif return_type in ("loss", "both"):
            loss = _lm_loss(out, tokens, mask)
            result = loss if return_type == "loss" else (out, loss)
        else:
            raise ValueError(f"return_type: expected 'logits', 'loss', 'both' or None, got {return_type!r}")
        return result, ActivationCache(cache)

    def forward(self, input, return_type="logits", attention_mask=None, stop_at_layer=None,
                prepend_bos=None, padding_side=None):
        """Logits [batch, pos, d_vocab] (float32 for float32/bfloat16/float16 weights).

        input: text, a list of texts or an int64 tensor [batch, pos]. return_type: "logits",
        "loss" (mean next-token cross-entropy over real tokens), "both" or None.
        attention_mask: [batch, pos], 1 = real token, for left-padded input (default: leading
        pad ids are padding). stop_at_layer=k: run blocks 0..k-1 only and return the residual
        stream [batch, pos, d_model] after them.
        """
        return self._run(input, [], (), return_type, attention_mask, stop_at_layer, prepend_bos,
                         padding_side)[0]

    __call__ = forward

    def run_with_cache(self, input, names_filter=None, return_type="logits", attention_mask=None,
                       stop_at_layer=None, prepend_bos=None, padding_side=None, remove_batch_dim=False,
                       device=None, **kwargs):
        """(logits, cache): cache maps hook names (blocks.3.hook_resid_post,
        blocks.3.attn.hook_pattern, ...) to tensors [batch, ...] on the model's device.

        names_filter: None (every hook point), a name, a list of names (or patterns such as
        "blocks.*.hook_resid_post"), or a callable name -> bool, as in TransformerLens. Only
        the points asked for are kept (cheaper: nothing else is materialised).
        """
        if kwargs:
            raise TypeError(f"run_with_cache: unexpected arguments {sorted(kwargs)}")
        out, cache = self._run(input, self._names(names_filter), (), return_type, attention_mask,
                               stop_at_layer, prepend_bos, padding_side)
        if remove_batch_dim:
            cache = ActivationCache({k: v[0] for k, v in cache.items()})
        if device is not None:
            cache = ActivationCache({k: v.to(device) for k, v in cache.items()})
        return out, cache

    def run_with_hooks(self, input, fwd_hooks=(), bwd_hooks=(), reset_hooks_end=True,
                       clear_contexts=False, return_type="logits", attention_mask=None,
                       stop_at_layer=None, prepend_bos=None, padding_side=None):
        """A forward with hooks: fwd_hooks = [(name or filter, fn)], fn(activation, hook) called
        at that point with the activation (a tensor, no copy) and a HookPoint (hook.name). A
        tensor returned (same shape) replaces the activation; None keeps it (in-place edits
        count)."""
        if bwd_hooks:
            raise NotImplementedError("backward hooks: reasonscope runs forward passes without autograd")
        return self._run(input, [], fwd_hooks, return_type, attention_mask, stop_at_layer,
                         prepend_bos, padding_side)[0]

    # ------------------------------------------------------------------ generate / score
    def generate(self, input="", max_new_tokens=10, stop_at_eos=True, eos_token_id=None,
                 do_sample=True, top_k=None, top_p=None, temperature=1.0, use_past_kv_cache=True,
                 prepend_bos=None, return_type="input", verbose=False, seed=0, stop=None,
                 fwd_hooks=(), steer=None, edit=None, padding_side=None):
        """Generate with the KV cache (the CLI's decode loop, model/generate.h).

        input: text, a list of texts, or int64 tokens [batch, pos]. return_type "input" gives
        back the input's kind (text -> prompt + continuation text; tokens -> tokens), "str" the
        full texts, "tokens" a tensor of prompt + generated ids (rows padded on the right).
        do_sample=False is greedy. stop: strings that end a row (not included).
        fwd_hooks: [(name or filter, fn)] active at every step (prefill and each new token).
        steer: a control-vector file (.gguf, llama.cpp layout) or a list of (file, layer or
          None, alpha) / dicts {"file", "layer", "alpha"}: as the CLI's --steer/--steer-layer/
          --steer-alpha, added at blocks.{L}.hook_resid_post at every position.
        edit: an edit file (`edit creme`, creme_fit) applied for this call only; the weights are
          restored exactly afterwards (do not run other forwards on this model meanwhile).
        """
        if eos_token_id is not None:
            raise NotImplementedError("eos_token_id: use stop_at_eos (the tokenizer's EOS/EOT) or stop=[...]")
        if isinstance(input, str):
            prompts = [self._encode(input, prepend_bos)]
        elif isinstance(input, torch.Tensor):
            t = input.unsqueeze(0) if input.dim() == 1 else input
            pad = self.pad_token_id
            prompts = []
            for r in t.tolist():
                i = 0
                while i < len(r) - 1 and r[i] == pad:
                    i += 1
                prompts.append(r[i:])
        else:
            prompts = [self._encode(s, prepend_bos) for s in input]
        temp = float(temperature) if do_sample else 0.0
        steer_list = _steer_list(steer)
        res = self._m.generate(prompts, int(max_new_tokens), temp, int(top_k or 0),
                               float(top_p if top_p is not None else 1.0), int(seed), list(stop or []),
                               bool(stop_at_eos), bool(use_past_kv_cache), self._hook_list(fwd_hooks),
                               steer_list, str(edit or ""))
        full = [r["prompt_tokens"] + r["tokens"] for r in res]
        if return_type == "generations":
            return res
        if return_type == "str" or (return_type == "input" and not isinstance(input, torch.Tensor)):
            texts = [self._m.decode(f) for f in full]
            return texts[0] if isinstance(input, str) else texts
        n = max(len(f) for f in full)
        pad = self.pad_token_id
        return torch.tensor([f + [pad] * (n - len(f)) for f in full], dtype=torch.long)

    def score(self, texts, prepend_bos=None, fwd_hooks=()):
        """Per-token log-probabilities of texts, as `reasonscope score --token-logprobs`: for
        each text a dict with "tokens" (ids), "str_tokens", "token_logprobs" (natural log
        p(token i | tokens before it) for i >= 1: one fewer than the tokens), "sum_logprob",
        "mean_logprob" and "perplexity". Texts longer than the context are scored in windows
        (model/score.h). A text needs at least two tokens (prepend_bos=True scores the first
        one too). fwd_hooks act in every forward call (e.g. score while steering)."""
        single = isinstance(texts, str)
        seqs = [self._encode(t, prepend_bos) for t in ([texts] if single else texts)]
        for i, s in enumerate(seqs):
            if len(s) < 2:
                raise ValueError(f"text {i} is {len(s)} token(s): scoring needs 2 (try prepend_bos=True)")
        res = self._m.score(seqs, self._hook_list(fwd_hooks))
        for r, s in zip(res, seqs):
            r["tokens"] = s
            r["str_tokens"] = [self._m.token_text(i) for i in s]
        return res[0] if single else res

    def weight(self, hf_name):
        """A weight by its Hugging Face name ("model.layers.3.self_attn.o_proj.weight"), sharing
        storage with the model (in-place edits change it). Not available with weights="native"."""
        return self._m.weight(hf_name)


def _steer_list(steer):
    if not steer:
        return []
    if isinstance(steer, str):
        return [(steer, -1, 1.0)]
    out = []
    for s in steer:
        if isinstance(s, str):
            out.append((s, -1, 1.0))
        elif isinstance(s, dict):
            layer = s.get("layer")
            out.append((s["file"], -1 if layer is None else int(layer), float(s.get("alpha", 1.0))))
        else:
            f, layer, alpha = (list(s) + [None, 1.0])[:3]
            out.append((f, -1 if layer is None else int(layer), float(alpha)))
    return out


def _lm_loss(logits, tokens, mask):
    lp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    nll = -lp.gather(-1, tokens[:, 1:].unsqueeze(-1).to(lp.device)).squeeze(-1)
    if mask is None:
        return nll.mean()
    m = mask[:, 1:].to(nll.device).float() * mask[:, :-1].to(nll.device).float()
    return (nll * m).sum() / m.sum().clamp_min(1)
