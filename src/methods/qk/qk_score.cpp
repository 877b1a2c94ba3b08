// QK-score maths: see qk_score.h for the definitions and the paper reference.
#include "methods/qk/qk_score.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace rs::qk {

int64_t kv_head_of(int64_t h, int64_t n_head, int64_t n_head_kv) {
  if (n_head_kv < 1 || n_head % n_head_kv != 0)
    fail("qk: ", n_head, " query heads do not split into groups over ", n_head_kv, " kv heads");
  if (h < 0 || h >= n_head) fail("qk: head ", h, " is out of range (0..", n_head - 1, ")");
  return h / (n_head / n_head_kv);
}

at::Tensor qk_scores(const at::Tensor& q, const at::Tensor& k) {
  if (q.dim() != 4 || k.dim() != 5)
    fail("qk_scores: expected q [N, L, H, dh] and k [N, L, O, Hkv, dh], got ", q.dim(), "-d and ",
         k.dim(), "-d tensors");
  const int64_t N = q.size(0), L = q.size(1), H = q.size(2), dh = q.size(3);
  const int64_t O = k.size(2), Hkv = k.size(3);
  if (k.size(0) != N || k.size(1) != L || k.size(4) != dh || Hkv < 1 || H % Hkv != 0)
    fail("qk_scores: q ", q.sizes(), " and k ", k.sizes(), " do not match (H must be a multiple of Hkv)");
  const int64_t G = H / Hkv;
  // Query head h = g_kv * G + g sits in group g_kv = kv_head_of(h): view q as [N, L, Hkv, G, dh].
  const at::Tensor qg = q.to(at::kFloat).reshape({N, L, Hkv, G, dh});
  const at::Tensor kt = k.to(at::kFloat).permute({0, 1, 3, 4, 2});  // [N, L, Hkv, dh, O]
  // score[n, l, kv, g, o] = sum_d q[n, l, kv, g, d] k[n, l, o, kv, d]
  return at::matmul(qg, kt).reshape({N, L, H, O});
}

std::vector<int64_t> display_order(int64_t n_options, bool reversed) {
  std::vector<int64_t> shown(static_cast<size_t>(n_options));
  for (int64_t j = 0; j < n_options; ++j) shown[static_cast<size_t>(j)] = reversed ? n_options - 1 - j : j;
  return shown;
}

namespace {
// [N] or [N, O] -> a view broadcastable against x [N, ..., last] with `last` trailing entries.
at::Tensor per_row_index(const at::Tensor& idx, const at::Tensor& x, int64_t last) {
  std::vector<int64_t> view(static_cast<size_t>(x.dim()), 1);
  view[0] = x.size(0);
  view.back() = last;
  auto expand = x.sizes().vec();
  expand.back() = last;
  return idx.to(x.device(), at::kLong).reshape(view).expand(expand);
}
}  // namespace

at::Tensor to_content_order(const at::Tensor& scores, const at::Tensor& shown) {
  const int64_t O = scores.size(-1);
  if (shown.dim() != 2 || shown.size(0) != scores.size(0) || shown.size(1) != O)
    fail("to_content_order: shown must be [N, O] = [", scores.size(0), ", ", O, "], got ", shown.sizes());
  // slot_of[n, c] = the display slot j with shown[n, j] == c (the inverse permutation)
  const at::Tensor slot_of = at::argsort(shown.to(at::kLong), /*dim=*/-1, /*descending=*/false);
  return at::gather(scores, -1, per_row_index(slot_of, scores, O));
}

at::Tensor answer_margin(const at::Tensor& c, const at::Tensor& answer) {
  const int64_t O = c.size(-1);
  if (O < 2) fail("answer_margin: need at least 2 options, got ", O);
  const at::Tensor idx = per_row_index(answer, c, 1);
  const at::Tensor right = at::gather(c, -1, idx);                               // [N, ..., 1]
  // max over the other options: the answer's slot set to -inf
  const at::Tensor others = c.scatter(-1, idx, -std::numeric_limits<double>::infinity()).amax(-1);
  return right.squeeze(-1) - others;
}

at::Tensor correct_both_orders(const at::Tensor& c0, const at::Tensor& c1, const at::Tensor& answer) {
  return answer_margin(c0, answer).gt(0).logical_and(answer_margin(c1, answer).gt(0));
}

at::Tensor same_choice_both_orders(const at::Tensor& c0, const at::Tensor& c1) {
  return c0.argmax(-1).eq(c1.argmax(-1));
}

at::Tensor mean_over_rows(const at::Tensor& x, const std::vector<int64_t>& rows) {
  if (rows.empty()) fail("mean_over_rows: no rows");
  const at::Tensor idx = at::tensor(rows, at::kLong).to(x.device());
  return x.index_select(0, idx).to(at::kDouble).mean(0);
}

std::vector<RankedHead> rank_heads(const at::Tensor& accuracy, const at::Tensor& margin) {
  const at::Tensor a = accuracy.to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor m = margin.to(at::kCPU, at::kDouble).contiguous();
  const int64_t L = a.size(0), H = a.size(1);
  std::vector<RankedHead> out;
  for (int64_t l = 0; l < L; ++l)
    for (int64_t h = 0; h < H; ++h)
      out.push_back({l, h, a[l][h].item<double>(), m[l][h].item<double>()});
  std::stable_sort(out.begin(), out.end(), [](const RankedHead& x, const RankedHead& y) {
    if (x.accuracy != y.accuracy) return x.accuracy > y.accuracy;
    return x.margin > y.margin;  // NaN margins compare false: stable order keeps (layer, head)
  });
  return out;
}

namespace {
// d[n, c] = s[n, c] - mean_o s[n, o]
at::Tensor differences(const at::Tensor& c) { return c - c.mean(-1, /*keepdim=*/true); }
}  // namespace

ZScore fit_zscore(const at::Tensor& c0, const at::Tensor& c1, const std::vector<int64_t>& rows) {
  if (rows.empty()) fail("fit_zscore: no calibration rows");
  const at::Tensor idx = at::tensor(rows, at::kLong).to(c0.device());
  const at::Tensor d = at::cat({differences(c0.index_select(0, idx).to(at::kDouble)),
                                 differences(c1.index_select(0, idx).to(at::kDouble))}, 0);  // [2R, L, H, O]
  ZScore z;
  z.mu = d.mean(0);                                                   // [L, H, O]
  // sigma = sqrt(mean over rows and options of (d - mu)^2); a constant head gets 1 (its z is 0)
  const at::Tensor var = (d - z.mu).pow(2).mean(at::IntArrayRef{0, 3});              // [L, H]
  z.sigma = at::where(var.gt(0), var.sqrt(), at::ones_like(var));
  return z;
}

at::Tensor zscore(const at::Tensor& c, const ZScore& z) {
  return (differences(c.to(at::kDouble)) - z.mu.to(c.device())) / z.sigma.to(c.device()).unsqueeze(-1);
}

at::Tensor ensemble_scores(const at::Tensor& z, const std::vector<std::pair<int64_t, int64_t>>& heads) {
  if (heads.empty()) fail("ensemble_scores: no heads");
  std::vector<at::Tensor> parts;
  for (const auto& [l, h] : heads) {
    if (l < 0 || l >= z.size(1) || h < 0 || h >= z.size(2))
      fail("ensemble_scores: head (", l, ", ", h, ") is outside [", z.size(1), " layers, ", z.size(2), " heads]");
    parts.push_back(z.select(1, l).select(1, h));                     // [N, O]
  }
  return at::stack(parts, 0).mean(0);
}

}  // namespace rs::qk
