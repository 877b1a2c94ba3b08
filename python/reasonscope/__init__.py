"""reasonscope for Python: the engine of the `reasonscope` CLI on the torch you already have.

The model API follows TransformerLens (README "Python")::

    import reasonscope
    m = reasonscope.load("smollm2-135m")          # a .gguf, an HF directory or an installed name
    tokens = m.to_tokens(["The capital of France is", "2 + 2 ="])
    logits, cache = m.run_with_cache(tokens, names_filter=lambda n: n.endswith("hook_resid_post"))
    cache["blocks.3.hook_resid_post"]            # a torch.Tensor, no copy
    m.run_with_hooks(tokens, fwd_hooks=[("blocks.5.attn.hook_z", lambda z, hook: z * 0)])

The analyses (`verify_spectral`, `verify_qk`, `steer_train`, `steer_eval`, `lens`, `patch`,
`creme_fit`, `cluster_analyze`) return ``(summary, examples)``: the contents of the CLI's
summary.json and examples.jsonl.

Importing this package is cheap: torch and the compiled engine (reasonscope._C) load on first
use of a function that needs them, so ``reasonscope.ray`` works without either.
"""
import pkgutil as _pkgutil

# The compiled module may live in another directory of sys.path than these sources (a CMake build
# tree: build/release/python/reasonscope/_C*.so beside python/ on PYTHONPATH).
__path__ = _pkgutil.extend_path(__path__, __name__)

_API = {"load", "HookedModel", "HookPoint", "ActivationCache", "Config"}
_ANALYSES = {"verify_spectral", "verify_qk", "steer_train", "steer_eval", "lens", "patch",
             "creme_fit", "cluster_analyze", "run_cli"}

__all__ = sorted(_API | _ANALYSES | {"Error"})


def __getattr__(name):
    if name in _API:
        from . import _api
        return getattr(_api, name)
    if name in _ANALYSES:
        from . import analyses
        return getattr(analyses, name)
    if name == "Error":
        from ._api import _ext
        return _ext().Error
    raise AttributeError(f"module 'reasonscope' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
