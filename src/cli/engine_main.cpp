// reasonscope-engine: every command, libtorch linked in. `reasonscope` (main.cpp) execs it for
// the commands that need torch; run directly it behaves as `reasonscope` does.
#include "cli/command.h"

int main(int argc, char** argv) { rs::cli::finish_process(rs::cli::run(argc, argv)); }
