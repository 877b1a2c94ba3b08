// reasonscope <command> [options]: dispatch only (cli/app.cpp). Every command lives in its own
// cmd_*.cpp.
#include "cli/command.h"

int main(int argc, char** argv) { return rs::cli::run(argc, argv); }
