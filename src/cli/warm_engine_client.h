// `reasonscope` hands a command to a warm engine (`reasonscope engine-server`, named by
// REASONSCOPE_ENGINE_SOCKET) when one is listening: warm_engine_client.cpp.
#pragma once

namespace rs::cli {

inline constexpr int kNoWarmEngine = -1;

// The command's exit status once a warm engine ran it; kNoWarmEngine when none took it (no
// variable, nothing listening, or the server declined before running anything: the caller then
// execs reasonscope-engine as usual).
int run_in_warm_engine(int argc, char** argv);

}  // namespace rs::cli
