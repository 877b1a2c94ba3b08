// The HTTP side of `reasonscope serve` (server.h): routes, the job queue, the batching decode
// worker, server-sent events, /metrics and the graceful stop. The maths is rs::forward (prefill),
// rs::decode_step (batched decode), rs::Sampler and rs::SequenceTracker (as rs::generate),
// steer::add_steering, lens::add_edit_hooks, spectral::analyse_tokens and qk::judge_question, as
// the CLI commands use them.
#include "serve/server.h"

#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <ctime>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/log.h"
#include "hooks/hooks.h"
#include "methods/lens/edit_hooks.h"
#include "methods/qk/qk_question.h"
#include "methods/spectral/features.h"
#include "methods/spectral/names.h"
#include "methods/spectral/runner.h"
#include "methods/steer/steering.h"
#include "model/batch_decode.h"
#include "model/generate.h"

namespace rs::serve {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Invalid UTF-8 (a token that ends inside a character) is replaced, never an exception.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// ---------------------------------------------------------------- metrics (Prometheus text 0.0.4)

struct Histogram {
  std::vector<double> bounds;
  std::vector<uint64_t> counts;  // per bucket, not cumulative; last = +Inf
  double sum = 0;
  uint64_t n = 0;
  explicit Histogram(std::vector<double> b) : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}
  void observe(double x) {
    size_t i = 0;
    while (i < bounds.size() && x > bounds[i]) ++i;
    ++counts[i];
    sum += x;
    ++n;
  }
  void write(std::string& out, const std::string& name, const std::string& help) const {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    uint64_t cum = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cum += counts[i];
      out += name + "_bucket{le=\"" + json(bounds[i]).dump() + "\"} " + std::to_string(cum) + "\n";
    }
    cum += counts.back();
    out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
    out += name + "_sum " + json(sum).dump() + "\n" + name + "_count " + std::to_string(n) + "\n";
  }
};

struct Metrics {
  std::mutex mu;
  std::map<std::pair<std::string, int>, uint64_t> requests;  // (path, status)
  uint64_t prompt_tokens = 0, completion_tokens = 0, cancelled = 0, dropped = 0;
  Histogram ttft{{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
  Histogram per_token{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}};
  Histogram duration{{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}};
  Histogram batch{{1, 2, 4, 8, 16, 32, 64}};  // sequences per decode step
};

// ---------------------------------------------------------------- jobs

struct TokenLogprob {
  int64_t id = 0;
  double logprob = 0;
  std::vector<std::pair<int64_t, double>> top;
};

struct Job {
  Request req;
  std::vector<int64_t> ids;   // the prompt's tokens
  std::string prompt_text;    // what the verifier reads before the completion
  std::string id;             // "cmpl-N" / "chatcmpl-N"
  int64_t created = 0;
  uint64_t seed = 0;
  Clock::time_point enqueued = Clock::now();

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> events;  // stream: SSE lines ready to send
  bool finished = false;
  int status = 200;                // non-stream: the response
  std::string body;
  std::atomic<bool> cancelled{false};  // the client went away
  bool started = false;            // admitted into the batch: the status is 200 from here on

  void start() {
    {
      std::lock_guard<std::mutex> lk(mu);
      started = true;
    }
    cv.notify_all();
  }

  void push(std::string ev) {
    {
      std::lock_guard<std::mutex> lk(mu);
      events.push_back(std::move(ev));
    }
    cv.notify_all();
  }
  void finish(int st, std::string b) {
    {
      std::lock_guard<std::mutex> lk(mu);
      status = st;
      body = std::move(b);
      finished = true;
    }
    cv.notify_all();
  }
};

std::string sse(const json& j) { return "data: " + dump(j) + "\n\n"; }

// The socket of a request's connection, which httplib 0.11 does not hand to handlers: the open
// descriptor whose local and remote ends are the request's. -1 when none is found.
int connection_fd(const httplib::Request& req) {
  auto port_of = [](const sockaddr_storage& a) {
    if (a.ss_family == AF_INET) return static_cast<int>(ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port));
    if (a.ss_family == AF_INET6) return static_cast<int>(ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port));
    return -1;
  };
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos || name.size() > 9) continue;
    const int fd = std::stoi(name);
    sockaddr_storage a{};
    socklen_t n = sizeof a;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) != 0 || port_of(a) != req.local_port) continue;
    n = sizeof a;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &n) != 0 || port_of(a) != req.remote_port) continue;
    char host[NI_MAXHOST];
    if (getnameinfo(reinterpret_cast<sockaddr*>(&a), n, host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0 &&
        req.remote_addr == host)
      return fd;
  }
  return -1;
}

// The client has closed its end (HTTP clients do not half-close while waiting for an answer).
bool peer_closed(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// A request the decode worker is running: its own KV cache, hooks (steering), sampler and end
// conditions (rs::SequenceTracker, as rs::generate), and what its stream has sent so far.
struct Seq {
  Seq(const ModelConfig& cfg, const tok::Tokenizer* tok, std::shared_ptr<Job> j, const GenerateOptions& go)
      : job(std::move(j)), sampler(go.sampling), tracker(cfg, tok, job->ids, go) {}
  std::shared_ptr<Job> job;
  std::unique_ptr<Hooks> hooks;  // null: no steering
  KVCache cache;
  Sampler sampler;
  SequenceTracker tracker;
  at::Tensor logits;             // [1, V]: the next token's
  int64_t next = 0;              // the token the next decode step feeds
  int64_t n_generated = 0, n_kept = 0;
  std::vector<TokenLogprob> lps;
  size_t lp_sent = 0, text_sent = 0;
  bool failed = false;
  Clock::time_point t_start = Clock::now(), t_last = t_start;

  json chunk(const std::string& model, json choice) const {
    choice["index"] = 0;
    return json{{"id", job->id}, {"object", job->req.chat ? "chat.completion.chunk" : "text_completion"},
                {"created", job->created}, {"model", model}, {"choices", json::array({choice})}};
  }
};

const char* finish_reason(const std::string& stop_reason) {
  if (stop_reason == "eos" || stop_reason == "stop_id" || stop_reason == "stop_string") return "stop";
  return "length";  // max_new_tokens, context, cancelled
}

std::vector<int> bytes_of(const std::string& s) {
  std::vector<int> b;
  for (unsigned char c : s) b.push_back(c);
  return b;
}

// httplib's stop() also ends every response still streaming (its chunked writer checks the
// listening socket), so a graceful stop shuts the listening socket down instead: accept()
// fails, the accept loop ends, and listen_after_bind() then waits for the handlers in flight.
class HttpServer : public httplib::Server {
 public:
  void stop_listening() {
    const socket_t s = svr_sock_;
    if (s != INVALID_SOCKET) ::shutdown(s, SHUT_RDWR);
  }
};

class Server {
 public:
  Server(const Model& m, const tok::Tokenizer& t, const Registry& reg, const ServeOptions& o)
      : model_(m), tok_(t), reg_(reg), opts_(o) {}

  void run();

 private:
  // ---- HTTP
  void routes();
  void handle_generate(const httplib::Request& req, httplib::Response& res, bool chat);
  std::string metrics_text();
  static void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status;
    res.set_content(dump(error_body(e.status, e.what(), e.code, e.param)), "application/json");
  }

  // ---- the worker
  void worker_loop();
  std::unique_ptr<Seq> start(const std::shared_ptr<Job>& job);
  void advance(Seq& seq, const at::Tensor& logits);
  void emit(Seq& seq, const std::string& text);
  void complete(Seq& seq);
  void fail_job(Job& job, const std::exception& e);
  // The client went away: the sequence stops at its next step, and a request still waiting in
  // the queue leaves it now (freeing its place). Returns whether it was still queued.
  bool cancel(const std::shared_ptr<Job>& job) {
    job->cancelled = true;
    bool dropped = false;
    {
      std::lock_guard<std::mutex> lk(qmu_);
      const auto it = std::find(queue_.begin(), queue_.end(), job);
      if ((dropped = it != queue_.end())) queue_.erase(it);
    }
    if (!dropped) return false;
    qcv_.notify_all();
    {
      std::lock_guard<std::mutex> lk(metrics_.mu);
      ++metrics_.dropped;
    }
    log_info(str("serve: ", job->id, ": the client left while queued; dropped"));
    return true;
  }
  // A sequence is about to be answered: it no longer counts as running (before the client can
  // see the answer, so /metrics right after it never counts it).
  void leave() {
    {
      std::lock_guard<std::mutex> lk(qmu_);
      if (active_ > 0) --active_;
    }
    qcv_.notify_all();
  }
  json logprobs_json(const Job& job, const std::vector<TokenLogprob>& lps, size_t from, size_t to,
                     size_t text_offset) const;
  json verify(const Job& job, const std::string& completion);
  json verify_qk(const Job& job);
  size_t in_flight() {
    std::lock_guard<std::mutex> lk(qmu_);
    return queue_.size() + active_;
  }

  const Model& model_;
  const tok::Tokenizer& tok_;
  const Registry& reg_;
  const ServeOptions opts_;
  HttpServer http_;
  Metrics metrics_;

  std::mutex qmu_;
  std::condition_variable qcv_;
  std::deque<std::shared_ptr<Job>> queue_;
  size_t active_ = 0;  // sequences the worker holds (admitted, not yet answered)
  bool stop_worker_ = false;
  std::atomic<bool> shutting_down_{false};  // no new requests
  std::atomic<bool> hard_stop_{false};      // grace period over: cancel everything
  std::atomic<uint64_t> next_id_{1};
};

// ---------------------------------------------------------------- routes

void Server::routes() {
  http_.set_payload_max_length(opts_.max_body_bytes);
  // Every error httplib answers itself (404, 413, 400 for a broken request line) gets an OpenAI
  // body too; ours already have one.
  http_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string msg = "HTTP " + std::to_string(res.status);
    std::string code;
    if (res.status == 404) msg = "no route " + req.method + " " + req.path, code = "not_found";
    if (res.status == 413) msg = "the request body exceeds this server's limit (--max-body-bytes)", code = "payload_too_large";
    if (res.status == 400) msg = "malformed HTTP request", code = "bad_request";
    res.set_content(dump(error_body(res.status, msg, code)), "application/json");
  });
  http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string msg = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      msg = e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(dump(error_body(500, msg.substr(0, msg.find('\n')), "internal_error")), "application/json");
  });
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (opts_.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    const std::string want = "Bearer " + opts_.api_key;
    const std::string got = req.get_header_value("Authorization");
    if (got == want) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, ApiError(401, "invalid_api_key", "",
                             got.empty() ? "missing API key: send the header Authorization: Bearer KEY"
                                         : "incorrect API key provided"));
    return httplib::Server::HandlerResponse::Handled;
  });
  http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    std::lock_guard<std::mutex> lk(metrics_.mu);
    const bool known = req.path == "/health" || req.path == "/metrics" || req.path.rfind("/v1/", 0) == 0;
    ++metrics_.requests[{known ? req.path : "other", res.status}];
  });

  http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(dump({{"status", shutting_down_ ? "stopping" : "ok"}}), "application/json");
    if (shutting_down_) res.status = 503;
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(), "text/plain; version=0.0.4");
  });
  const json model_obj = {{"id", opts_.model_id}, {"object", "model"}, {"created", 0}, {"owned_by", "reasonscope"}};
  http_.Get("/v1/models", [model_obj](const httplib::Request&, httplib::Response& res) {
    res.set_content(dump({{"object", "list"}, {"data", {model_obj}}}), "application/json");
  });
  http_.Get(R"(/v1/models/(.+))", [this, model_obj](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] == opts_.model_id) return res.set_content(dump(model_obj), "application/json");
    send_error(res, ApiError(404, "model_not_found", "model", "no model '" + req.matches[1].str() + "' (this server has '" +
                                                                   opts_.model_id + "')"));
  });
  http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generate(req, res, false);
  });
  http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    handle_generate(req, res, true);
  });
}

void Server::handle_generate(const httplib::Request& req, httplib::Response& res, bool chat) {
  auto job = std::make_shared<Job>();
  try {
    if (shutting_down_) throw ApiError(503, "shutting_down", "", "the server is shutting down");
    job->req = parse_request(req.body, chat, opts_.limits);
    const Request& r = job->req;
    for (const SteerTerm& t : r.steer)
      if (!reg_.vectors.count(t.vector)) {
        std::string names;
        for (const auto& [n, v] : reg_.vectors) names += (names.empty() ? "" : ", ") + n;
        throw ApiError(400, "unknown_vector", "reasonscope.steer",
                       "no steering vector named '" + t.vector + "' is registered (this server has: " +
                           (names.empty() ? "none; start it with --steer NAME=FILE" : names) + ")");
      }
    if (!r.edit.empty() && !reg_.edits.count(r.edit)) {
      std::string names;
      for (const auto& [n, e] : reg_.edits) names += (names.empty() ? "" : ", ") + n;
      throw ApiError(400, "unknown_edit", "reasonscope.edit",
                     "no edit named '" + r.edit + "' is registered (this server has: " +
                         (names.empty() ? "none; start it with --edit NAME=FILE" : names) + ")");
    }
    for (const std::string& v : r.verify) {
      if (v == "spectral" && !reg_.spectral)
        throw ApiError(400, "verifier_not_configured", "reasonscope.verify",
                       "'spectral' needs a calibration: start the server with --spectral-calibration FILE");
      if (v == "qk" && !reg_.qk)
        throw ApiError(400, "verifier_not_configured", "reasonscope.verify",
                       "'qk' needs saved heads: start the server with --qk-heads FILE (the heads.json of `verify qk`)");
    }
    if (chat) {
      try {
        job->prompt_text = tok_.apply_chat(r.messages, true);
      } catch (const Error& e) {
        throw ApiError(400, "no_chat_template", "messages", std::string("this model has no usable chat template: ") + e.what());
      }
      for (int32_t id : tok_.encode(job->prompt_text, /*add_special=*/false, /*parse_special=*/true)) job->ids.push_back(id);
    } else if (r.prompt_is_ids) {
      job->ids = r.prompt_ids;
      for (int64_t id : job->ids)
        if (id < 0 || id >= tok_.n_vocab())
          throw ApiError(400, "invalid_value", "prompt", "'prompt': token id " + std::to_string(id) +
                                                             " is outside the vocabulary [0, " + std::to_string(tok_.n_vocab()) + ")");
      std::vector<int32_t> ids32(job->ids.begin(), job->ids.end());
      job->prompt_text = tok_.decode(ids32);
    } else {
      job->prompt_text = r.prompt;
      // As `reasonscope generate --prompt`: the tokenizer's BOS, special-token text parsed.
      for (int32_t id : tok_.encode(r.prompt, /*add_special=*/true, /*parse_special=*/true)) job->ids.push_back(id);
    }
    if (job->ids.empty()) throw ApiError(400, "invalid_value", chat ? "messages" : "prompt", "the prompt is empty (0 tokens)");
    const int64_t ctx = model_.config.n_ctx_train;
    if (ctx > 0 && static_cast<int64_t>(job->ids.size()) >= ctx)
      throw ApiError(400, "context_length_exceeded", chat ? "messages" : "prompt",
                     "the prompt is " + std::to_string(job->ids.size()) + " tokens; this model's context is " +
                         std::to_string(ctx) + " tokens, which leaves no room to generate");
    const uint64_t n = next_id_++;
    job->id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(n);
    job->created = static_cast<int64_t>(std::time(nullptr));
    job->seed = r.seed ? *r.seed : opts_.seed + n;
    {
      std::lock_guard<std::mutex> lk(qmu_);
      if (static_cast<int>(queue_.size() + active_) >= opts_.max_queue)
        throw ApiError(503, "server_overloaded", "", "too many requests in flight (--max-queue " +
                                                         std::to_string(opts_.max_queue) + "); retry later");
      queue_.push_back(job);
    }
    qcv_.notify_all();
  } catch (const ApiError& e) {
    if (e.status == 503) res.set_header("Retry-After", "1");
    return send_error(res, e);
  }

  if (!job->req.stream) {
    // Queued, nothing is written yet (the status is not known), so a client that leaves shows as
    // the end of its socket, looked at every 0.2 s.
    int fd = -2;  // looked up once it has waited (most requests start at once)
    {
      std::unique_lock<std::mutex> lk(job->mu);
      while (!job->cv.wait_for(lk, std::chrono::milliseconds(200), [&] { return job->finished || job->started; })) {
        if (fd == -2) fd = connection_fd(req);
        if (fd < 0 || !peer_closed(fd)) continue;
        lk.unlock();
        if (cancel(job)) {
          // 499: nginx's "client closed request"; nobody reads it.
          res.status = 499;
          res.set_content(dump(error_body(499, "the client went away before this request started", "cancelled")),
                          "application/json");
          return;
        }
        lk.lock();  // the worker took it meanwhile: it sees `cancelled` and ends it
      }
      if (job->finished) {  // answered before it ran (an error, shutting down)
        res.status = job->status;
        res.set_content(job->body, "application/json");
        return;
      }
    }
    // Running, so the status is 200. Until the body is ready, a newline every 0.5 s (whitespace
    // before a JSON value is insignificant, RFC 8259 section 2): once the client has gone away a
    // write fails, which cancels the sequence, as for a stream. An internal error after this point
    // can only be reported in the body.
    res.set_chunked_content_provider(
        "application/json",
        [this, job](size_t, httplib::DataSink& sink) {
          std::string body = "\n";
          bool done = false;
          {
            std::unique_lock<std::mutex> lk(job->mu);
            job->cv.wait_for(lk, std::chrono::milliseconds(500), [&] { return job->finished; });
            if ((done = job->finished)) body = job->body;
          }
          if (!sink.write(body.data(), body.size())) {
            cancel(job);
            return false;
          }
          if (done) sink.done();
          return true;
        },
        [this, job](bool success) {
          if (!success) cancel(job);
        });
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, job](size_t, httplib::DataSink& sink) {
        std::deque<std::string> ready;
        bool done = false;
        {
          std::unique_lock<std::mutex> lk(job->mu);
          // A comment line every half second while nothing is ready (queued, slow step): a
          // client that went away makes the write fail, which frees the request's slot.
          job->cv.wait_for(lk, std::chrono::milliseconds(500), [&] { return !job->events.empty() || job->finished; });
          ready.swap(job->events);
          done = job->finished;
        }
        if (ready.empty() && !done) ready.push_back(": waiting\n\n");
        for (const std::string& ev : ready)
          if (!sink.write(ev.data(), ev.size())) {
            cancel(job);
            return false;
          }
        if (done) sink.done();
        return true;
      },
      [this, job](bool success) {
        if (!success) cancel(job);
      });
}

// ---------------------------------------------------------------- the worker

// Continuous batching: every turn admits waiting requests (up to --max-batch sequences, each
// prefilled alone into its own KV cache), takes one token for every sequence, answers and drops
// those that ended (or whose client went away), and runs one decode step over all the others
// together (model/batch_decode.h).
void Server::worker_loop() {
  std::vector<std::unique_ptr<Seq>> active;
  for (;;) {
    std::vector<std::shared_ptr<Job>> admitted;
    {
      std::unique_lock<std::mutex> lk(qmu_);
      if (active.empty()) qcv_.wait(lk, [&] { return !queue_.empty() || stop_worker_; });
      if (active.empty() && queue_.empty()) return;
      while (!queue_.empty() && active.size() + admitted.size() < static_cast<size_t>(opts_.max_batch)) {
        admitted.push_back(queue_.front());
        queue_.pop_front();
      }
      active_ = active.size() + admitted.size();
    }
    for (const std::shared_ptr<Job>& job : admitted) {
      try {
        if (std::unique_ptr<Seq> seq = start(job)) active.push_back(std::move(seq));
      } catch (const std::exception& e) {
        fail_job(*job, e);
      }
    }
    // One token for each sequence from its logits; the ones that end leave at once.
    for (std::unique_ptr<Seq>& seq : active) {
      try {
        advance(*seq, seq->logits);
        if (seq->tracker.done()) complete(*seq);
      } catch (const std::exception& e) {
        fail_job(*seq->job, e);
        seq->failed = true;
      }
    }
    active.erase(std::remove_if(active.begin(), active.end(),
                                [](const std::unique_ptr<Seq>& q) { return q->failed || q->tracker.done(); }),
                 active.end());
    {
      std::lock_guard<std::mutex> lk(qmu_);
      active_ = active.size();
    }
    qcv_.notify_all();
    if (active.empty()) continue;
    std::vector<SeqStep> rows;
    for (const std::unique_ptr<Seq>& seq : active) rows.push_back({seq->next, &seq->cache, seq->hooks.get()});
    {
      std::lock_guard<std::mutex> lk(metrics_.mu);
      metrics_.batch.observe(static_cast<double>(rows.size()));
    }
    try {
      const at::Tensor logits = decode_step(model_, rows);
      for (size_t i = 0; i < active.size(); ++i) active[i]->logits = logits.narrow(0, static_cast<int64_t>(i), 1);
    } catch (const std::exception& e) {
      for (std::unique_ptr<Seq>& seq : active) fail_job(*seq->job, e);
      active.clear();
    }
  }
}

void Server::fail_job(Job& job, const std::exception& e) {
  std::string msg = e.what();
  msg = msg.substr(0, msg.find('\n'));
  log_warn(str("serve: ", job.id, ": ", msg));
  const json err = error_body(500, msg, "internal_error");
  leave();
  if (job.req.stream) {
    job.push(sse(err));
    job.push("data: [DONE]\n\n");
  }
  job.finish(500, dump(err));
}

json Server::logprobs_json(const Job& job, const std::vector<TokenLogprob>& lps, size_t from, size_t to,
                           size_t text_offset) const {
  if (!job.req.logprobs) return nullptr;
  auto text = [&](int64_t id) { return tok_.token_text(static_cast<int32_t>(id)); };
  if (job.req.chat) {
    json content = json::array();
    for (size_t i = from; i < to; ++i) {
      json top = json::array();
      for (const auto& [id, lp] : lps[i].top)
        top.push_back({{"token", text(id)}, {"logprob", lp}, {"bytes", bytes_of(text(id))}});
      const std::string t = text(lps[i].id);
      content.push_back({{"token", t}, {"logprob", lps[i].logprob}, {"bytes", bytes_of(t)}, {"top_logprobs", top}});
    }
    return {{"content", content}};
  }
  json tokens = json::array(), token_lps = json::array(), tops = json::array(), offsets = json::array();
  for (size_t i = from; i < to; ++i) {
    const std::string t = text(lps[i].id);
    tokens.push_back(t);
    token_lps.push_back(lps[i].logprob);
    json top = json::object();
    for (const auto& [id, lp] : lps[i].top) top[text(id)] = lp;
    tops.push_back(top);
    offsets.push_back(text_offset);
    text_offset += t.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", token_lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

json Server::verify(const Job& job, const std::string& completion) {
  json out = json::object();
  for (const std::string& v : job.req.verify) {
    if (v == "qk") {
      out["qk"] = verify_qk(job);
      continue;
    }
    if (v != "spectral") continue;
    const spectral::Detector& d = *reg_.spectral;
    // Exactly what `verify spectral --calibration` computes on one row whose text is the prompt
    // (as the model saw it) followed by the completion: tokenised with the tokenizer's BOS.
    spectral::RunOptions ro;
    ro.features.laplacian = spectral::parse_laplacian(d.laplacian);
    ro.features.hfer_band = d.hfer_band;
    ro.features.dtype = d.maths_dtype == "f32" ? at::kFloat : at::kDouble;
    ro.max_tokens = d.max_tokens;
    ro.layers = {d.layer};
    const std::string text = job.prompt_text + completion;
    const std::vector<int32_t> ids32 = tok_.encode(text, true, true);
    const auto t0 = Clock::now();
    const spectral::TextResult tr =
        spectral::analyse_tokens(model_, std::vector<int64_t>(ids32.begin(), ids32.end()), ro);
    const size_t m = static_cast<size_t>(spectral::parse_metric(d.metric));
    // Through JSON, as verify spectral's examples.jsonl carries it, so both print the same double.
    const double score = json::parse(json(tr.features[0][static_cast<int64_t>(m)].item<double>()).dump()).get<double>();
    const int pred = d.predict(score);
    out["spectral"] = {{"score", score}, {"prediction", pred}, {"verdict", pred ? "valid" : "invalid"},
                       {"layer", d.layer}, {"metric", d.metric}, {"direction", spectral::direction_name(d.direction)},
                       {"threshold", std::isfinite(d.threshold) ? json(d.threshold) : json(nullptr)},
                       {"token_count", tr.n_tokens}, {"truncated", tr.truncated},
                       {"mean_logprob", tr.mean_logprob}, {"seconds", since(t0)}};
  }
  return out;
}

// The question the QK judge reads: a completion's prompt, or a chat's last user message (the
// judge scores it in the heads' own template, not wrapped in the chat format).
json Server::verify_qk(const Job& job) {
  const qk::SavedHeads& heads = *reg_.qk;
  std::string text = job.prompt_text;
  if (job.req.chat) {
    text.clear();
    for (const tok::ChatMessage& m : job.req.messages)
      if (m.role == "user") text = m.content;
  }
  std::string why;
  const std::optional<qk::Example> ex = qk::read_question(text, heads, &why);
  if (!ex) return {{"in_template", false}, {"reason", why}};
  const auto t0 = Clock::now();
  json row;
  try {
    row = qk::judge_question(model_, tok_, heads, *ex);
  } catch (const Error& e) {
    std::string msg = e.what();
    return {{"in_template", true}, {"error", msg.substr(0, msg.find('\n'))}};
  }
  json out = {{"in_template", true}, {"options", row["options"]}, {"choice", row["prediction"]},
              {"choice_index", row["ensemble"]["prediction"]}};
  for (const char* judge : {"ensemble", "top1", "baseline_first_token", "baseline_sequence"})
    if (row.contains(judge)) {
      row[judge].erase("correct");  // no label in a request
      out[judge] = row[judge];
    }
  out["seconds"] = since(t0);
  return out;
}

std::unique_ptr<Seq> Server::start(const std::shared_ptr<Job>& jp) {
  Job& job = *jp;
  const Request& r = job.req;
  if (job.cancelled || hard_stop_) {
    // 499: nginx's "client closed request"; nobody reads it, /metrics does not count it.
    const int status = job.cancelled ? 499 : 503;
    const json err = job.cancelled ? error_body(status, "the client went away before this request started", "cancelled")
                                   : error_body(status, "the server stopped before this request started", "shutting_down");
    leave();
    if (r.stream) {
      job.push(sse(err));
      job.push("data: [DONE]\n\n");
    }
    job.finish(status, dump(err));
    return nullptr;
  }
  GenerateOptions go;
  go.max_new_tokens = r.max_tokens;
  go.sampling.temperature = r.temperature;
  go.sampling.top_p = r.top_p;
  go.sampling.seed = job.seed;
  go.stop_strings = r.stop;
  if (r.chat)  // the chat format's end-of-turn token ends the answer too
    for (int32_t id : tok_.stop_ids()) go.stop_ids.push_back(id);
  auto seq = std::make_unique<Seq>(model_.config, &tok_, jp, go);
  job.start();
  if (!r.steer.empty() || !r.edit.empty()) {
    seq->hooks = std::make_unique<Hooks>(model_.config);
    for (const SteerTerm& t : r.steer) steer::add_steering(*seq->hooks, model_, reg_.vectors.at(t.vector), {}, t.alpha);
    if (!r.edit.empty()) lens::add_edit_hooks(*seq->hooks, reg_.edits.at(r.edit));  // last (edit_hooks.h)
  }
  if (r.stream && r.chat)
    job.push(sse(seq->chunk(opts_.model_id, {{"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}})));
  // Prefill alone into the sequence's own cache, sized for the whole answer (as rs::generate).
  const int64_t n = static_cast<int64_t>(job.ids.size());
  seq->cache.reserve = n + r.max_tokens;
  if (model_.config.n_ctx_train > 0) seq->cache.reserve = std::min(seq->cache.reserve, model_.config.n_ctx_train);
  ForwardOptions fo;
  fo.logits = LogitsMode::Last;
  fo.cache = &seq->cache;
  fo.hooks = seq->hooks.get();
  at::NoGradGuard no_grad;
  const at::Tensor ids = at::tensor(job.ids, at::kLong).view({1, n}).to(model_.device());
  seq->logits = forward(model_, ids, at::Tensor(), fo).select(1, 0);
  return seq;
}

void Server::advance(Seq& seq, const at::Tensor& logits) {
  Job& job = *seq.job;
  const Request& r = job.req;
  if (job.cancelled || hard_stop_) return emit(seq, seq.tracker.end("cancelled"));
  at::Tensor step_lp;  // [V] log-probabilities of the distribution sampled from
  if (r.logprobs) step_lp = at::log_softmax(logits[0].to(at::kDouble), -1).cpu();
  const int64_t id = seq.sampler.sample(logits).item<int64_t>();
  ++seq.n_generated;  // a final end-of-sequence token included
  const SequenceTracker::Pushed p = seq.tracker.push(id);
  if (p.kept) {
    const auto now = Clock::now();
    {
      std::lock_guard<std::mutex> lk(metrics_.mu);
      if (seq.n_kept == 0) metrics_.ttft.observe(std::chrono::duration<double>(now - job.enqueued).count());
      else metrics_.per_token.observe(std::chrono::duration<double>(now - seq.t_last).count());
    }
    ++seq.n_kept;
    seq.t_last = now;
    seq.next = id;
    if (r.logprobs) {
      TokenLogprob t;
      t.id = id;
      t.logprob = step_lp[id].item<double>();
      if (r.top_logprobs > 0) {
        auto [vals, idx] = step_lp.topk(r.top_logprobs);
        for (int64_t k = 0; k < vals.size(0); ++k) t.top.emplace_back(idx[k].item<int64_t>(), vals[k].item<double>());
      }
      seq.lps.push_back(std::move(t));
    }
  }
  emit(seq, p.text);
}

void Server::emit(Seq& seq, const std::string& piece) {
  const Job& job = *seq.job;
  if (!job.req.stream || piece.empty()) return;
  const json lp = logprobs_json(job, seq.lps, seq.lp_sent, seq.lps.size(), job.prompt_text.size() + seq.text_sent);
  seq.lp_sent = seq.lps.size();
  seq.text_sent += piece.size();
  seq.job->push(sse(seq.chunk(opts_.model_id, job.req.chat ? json{{"delta", {{"content", piece}}}, {"logprobs", lp}, {"finish_reason", nullptr}}
                                                         : json{{"text", piece}, {"logprobs", lp}, {"finish_reason", nullptr}})));
}

void Server::complete(Seq& seq) {
  Job& job = *seq.job;
  const Request& r = job.req;
  const Generation& g = seq.tracker.generation();
  const int64_t n_prompt = static_cast<int64_t>(job.ids.size());
  const int64_t n_completion = seq.n_generated;
  const json usage = {{"prompt_tokens", n_prompt}, {"completion_tokens", n_completion},
                      {"total_tokens", n_prompt + n_completion}};
  const char* fr = finish_reason(g.stop_reason);
  json ext;
  if (!r.steer.empty() || !r.edit.empty() || !r.verify.empty()) {
    ext = json::object();
    if (!r.steer.empty()) {
      json s = json::array();
      for (const SteerTerm& t : r.steer) s.push_back({{"vector", t.vector}, {"alpha", t.alpha}});
      ext["steer"] = s;
    }
    if (!r.edit.empty()) ext["edit"] = r.edit;
    if (!r.verify.empty() && g.stop_reason != "cancelled") ext["verify"] = verify(job, g.text);
  }
  {
    std::lock_guard<std::mutex> lk(metrics_.mu);
    metrics_.prompt_tokens += n_prompt;
    metrics_.completion_tokens += n_completion;
    metrics_.cancelled += g.stop_reason == "cancelled";
    metrics_.duration.observe(since(seq.t_start));
  }
  const std::vector<TokenLogprob>& lps = seq.lps;
  leave();
  if (r.stream) {
    const json lp = logprobs_json(job, lps, seq.lp_sent, lps.size(), job.prompt_text.size() + seq.text_sent);
    json last = seq.chunk(opts_.model_id, r.chat ? json{{"delta", json::object()}, {"logprobs", lp}, {"finish_reason", fr}}
                                                 : json{{"text", ""}, {"logprobs", lp}, {"finish_reason", fr}});
    if (!ext.is_null()) last["reasonscope"] = ext;
    job.push(sse(last));
    if (r.include_usage) {
      json u = seq.chunk(opts_.model_id, json::object());
      u["choices"] = json::array();
      u["usage"] = usage;
      job.push(sse(u));
    }
    job.push("data: [DONE]\n\n");
    return job.finish(200, "");
  }
  json choice = r.chat ? json{{"index", 0}, {"message", {{"role", "assistant"}, {"content", g.text}}},
                              {"logprobs", logprobs_json(job, lps, 0, lps.size(), 0)}, {"finish_reason", fr}}
                       : json{{"index", 0}, {"text", g.text},
                              {"logprobs", logprobs_json(job, lps, 0, lps.size(), job.prompt_text.size())},
                              {"finish_reason", fr}};
  json body = {{"id", job.id}, {"object", r.chat ? "chat.completion" : "text_completion"},
               {"created", job.created}, {"model", opts_.model_id}, {"choices", json::array({choice})},
               {"usage", usage}};
  if (!ext.is_null()) body["reasonscope"] = ext;
  job.finish(200, dump(body));
}

// ---------------------------------------------------------------- /metrics

std::string Server::metrics_text() {
  size_t waiting = 0, running = 0;
  {
    std::lock_guard<std::mutex> lk(qmu_);
    waiting = queue_.size();
    running = active_;
  }
  std::lock_guard<std::mutex> lk(metrics_.mu);
  std::string out;
  out += "# HELP reasonscope_requests_total HTTP requests answered, by path and status.\n"
         "# TYPE reasonscope_requests_total counter\n";
  for (const auto& [k, n] : metrics_.requests)
    out += "reasonscope_requests_total{path=\"" + k.first + "\",status=\"" + std::to_string(k.second) + "\"} " +
           std::to_string(n) + "\n";
  auto counter = [&](const std::string& name, const std::string& help, uint64_t v) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " + std::to_string(v) + "\n";
  };
  auto gauge = [&](const std::string& name, const std::string& help, uint64_t v) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + std::to_string(v) + "\n";
  };
  counter("reasonscope_prompt_tokens_total", "Prompt tokens of the generation requests run.", metrics_.prompt_tokens);
  counter("reasonscope_completion_tokens_total", "Tokens generated.", metrics_.completion_tokens);
  counter("reasonscope_cancelled_total", "Generations cut short (client gone, shutdown).", metrics_.cancelled);
  counter("reasonscope_queue_dropped_total", "Queued requests whose client left before they started.", metrics_.dropped);
  gauge("reasonscope_queue_depth", "Generation requests waiting for the decode worker.", waiting);
  gauge("reasonscope_requests_running", "Generation requests being decoded (the active batch).", running);
  metrics_.ttft.write(out, "reasonscope_time_to_first_token_seconds", "From arrival to the first generated token.");
  metrics_.per_token.write(out, "reasonscope_time_per_output_token_seconds", "Between consecutive generated tokens.");
  metrics_.duration.write(out, "reasonscope_generation_seconds", "Decode worker time per request (generation and verification).");
  metrics_.batch.write(out, "reasonscope_batch_size", "Sequences decoded together, per decode step.");
  return out;
}

// ---------------------------------------------------------------- run

void Server::run() {
  routes();
  // One pool thread per request that may wait for the worker, and a few for /health, /metrics
  // and bad requests, so a full queue never starves those.
  const size_t threads = static_cast<size_t>(opts_.max_queue) + 8;
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  int port = opts_.port;
  if (port == 0) {
    port = http_.bind_to_any_port(opts_.host);
    if (port < 0) fail("serve: cannot listen on ", opts_.host, " (any port)");
  } else if (!http_.bind_to_port(opts_.host, port)) {
    fail("serve: cannot listen on ", opts_.host, ":", port, " (in use, or not an address of this machine)");
  }
  install_interrupt_handlers();
  std::thread worker([this] { worker_loop(); });
  std::thread listener([this] { http_.listen_after_bind(); });
  log_info(str("serve: listening on http://", opts_.host, ":", port, " (model ", opts_.model_id, ")"));
  while (!interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(50));

  // Stop accepting, let what was accepted finish within the grace period, cancel the rest.
  shutting_down_ = true;
  http_.stop_listening();
  log_info(str("serve: stopping (", interrupt_signal() == SIGTERM ? "SIGTERM" : "SIGINT", "); ", in_flight(),
               " request(s) in flight, grace ", opts_.grace_seconds, " s"));
  const auto deadline = Clock::now() + std::chrono::duration<double>(opts_.grace_seconds);
  {
    std::unique_lock<std::mutex> lk(qmu_);
    qcv_.wait_until(lk, std::chrono::time_point_cast<Clock::duration>(deadline),
                    [&] { return queue_.empty() && active_ == 0; });
    if (!queue_.empty() || active_ > 0) {
      log_warn(str("serve: grace period over; cancelling ", queue_.size() + active_, " request(s)"));
      hard_stop_ = true;
    }
  }
  listener.join();
  {
    std::lock_guard<std::mutex> lk(qmu_);
    stop_worker_ = true;
  }
  qcv_.notify_all();
  worker.join();
  log_info("serve: stopped");
}

}  // namespace

void serve(const Model& model, const tok::Tokenizer& tokenizer, const Registry& registry, const ServeOptions& opts) {
  Server s(model, tokenizer, registry, opts);
  s.run();
}

}  // namespace rs::serve
