// `reasonscope serve`: an OpenAI-compatible HTTP server (README, "Serving") on cpp-httplib.
//
// Threads: httplib's pool parses requests, checks them (bad input is answered there, at once)
// and queues a Job; ONE decode worker batches the jobs continuously: it admits them in arrival
// order (up to max_batch at once, each prefilled alone into its own KV cache, with its steering
// as its own hooks), then runs every active sequence's next token in one decode step
// (model/batch_decode.h); a sequence that ends or whose client goes away leaves at once.
// Sampling and end conditions are rs::generate's (Sampler, SequenceTracker). Streaming handlers
// forward what the worker produces as server-sent events.
//
// Stopping: SIGTERM or SIGINT (core/interrupt.h) closes the listening socket, lets queued and
// running requests finish for grace_seconds, then cancels what is left and returns; a second
// signal ends the process at once (interrupt.h).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "methods/lens/edit_file.h"
#include "methods/qk/heads_file.h"
#include "methods/spectral/detector.h"
#include "methods/steer/cvec_file.h"
#include "model/model.h"
#include "serve/openai.h"
#include "tokenizer/tokenizer.h"

namespace rs::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: any free port (the log line names it)
  std::string api_key;              // empty: no authentication
  std::string model_id;             // the name /v1/models lists
  Limits limits;
  size_t max_body_bytes = 1 << 20;
  int max_queue = 64;               // waiting + running requests; more get a 503
  int max_batch = 16;               // sequences decoded together
  double grace_seconds = 30.0;
  uint64_t seed = 0;                // requests without a seed draw seed + request number
};

struct Registry {
  std::map<std::string, steer::ControlVectors> vectors;  // --steer NAME=FILE
  std::map<std::string, lens::WeightEdit> edits;         // --edit NAME=FILE (checked: edit_hooks.h)
  std::shared_ptr<spectral::Detector> spectral;          // --spectral-calibration
  std::shared_ptr<qk::SavedHeads> qk;                    // --qk-heads (checked against the model)
};

// Serves until SIGTERM/SIGINT; returns after the graceful stop. Throws rs::Error when the
// address cannot be bound.
void serve(const Model& model, const tok::Tokenizer& tokenizer, const Registry& registry,
           const ServeOptions& opts);

}  // namespace rs::serve
