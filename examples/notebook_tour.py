"""A notebook's worth of reasonscope from Python (README "Python"); tests/python/test_examples.py
runs it. Usage: python examples/notebook_tour.py [MODEL]  (default: the installed default model)."""
import sys

import torch

import reasonscope

m = reasonscope.load(sys.argv[1] if len(sys.argv) > 1 else None)
print(m.cfg)

# Tokens and a forward pass, as in TransformerLens
tokens = m.to_tokens("The Eiffel Tower is in the city of")
logits, cache = m.run_with_cache(tokens, names_filter=lambda n: n.endswith(("hook_resid_post", "hook_pattern")))
print("next token:", repr(m.to_string(logits[0, -1].argmax())))

# The residual stream's size along the depth (stop_at_layer runs the first blocks only)
paris = m.to_single_token(" Paris")
for layer in range(0, m.cfg.n_layers, 6):
    resid = m(tokens, stop_at_layer=layer + 1)  # residual after block `layer`
    print(f"layer {layer:2d}: resid norm {resid[0, -1].norm():.1f}")

# Which heads of layer 5 attend to the first token most?
pattern = cache["pattern", 5][0]          # [heads, query, key]
print("attention to position 0, layer 5:", [round(float(x), 2) for x in pattern[:, -1, 0]])

# Ablate two heads and see the probability of " Paris" move
def zero_heads(z, hook):
    z[:, :, [0, 3]] = 0                     # in place: returning None keeps the edited tensor

p_clean = logits[0, -1].softmax(-1)[paris]
p_ablated = m.run_with_hooks(tokens, fwd_hooks=[("blocks.5.attn.hook_z", zero_heads)])[0, -1].softmax(-1)[paris]
print(f"p(' Paris'): {p_clean:.4f} clean, {p_ablated:.4f} with heads 5.0 and 5.3 ablated")

# Generation with the KV cache; hooks act at every step
print(m.generate("The Eiffel Tower is in the city of", max_new_tokens=8, do_sample=False))
print("log-probs:", [round(x, 2) for x in m.score("The cat sat on the mat.")["token_logprobs"]])
assert torch.isfinite(logits).all()
