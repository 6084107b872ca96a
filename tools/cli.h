// Shared pieces of the warden command-line tool: reading files, printing load errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "validator/load_module.h"

namespace warden::cli {

// Exit codes of every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // invalid input, a module that does not load
inline constexpr int kExitUsage = 2;    // bad command line

// Reads a whole file. On failure prints "FILE: error: cannot read: REASON" and returns false.
bool read_file(const std::string& path, std::vector<uint8_t>& out);
// The same without printing: on failure, `reason` says why (strerror's text).
bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& reason);
// The same for a file that must be at most `limit` bytes (a signature, a key): a longer one is
// refused ("the file is over LIMIT bytes") without being read further.
bool read_file(const std::string& path, std::vector<uint8_t>& out, std::string& reason,
               size_t limit);

// "FILE:0xOFFSET: error: MESSAGE"
std::string format_load_error(const std::string& path, const LoadError& error);

int usage_error(const std::string& command, const std::string& message);

int validate_command(const std::vector<std::string>& args);
int inspect_command(const std::vector<std::string>& args);
int run_command(const std::vector<std::string>& args);
int call_command(const std::vector<std::string>& args);
int sign_command(const std::vector<std::string>& args);
int verify_command(const std::vector<std::string>& args);
int audit_command(const std::vector<std::string>& args);
int policy_command(const std::vector<std::string>& args);
int serve_command(const std::vector<std::string>& args);

// The commands that live in warden-full (they need libcurl, OpenSSL, the HTTP server, ...):
// X(name, function) for each; warden-full dispatches them, warden execs warden-full for them.
// clang-format off
#define WARDEN_FULL_COMMANDS(X)                                                    \
  X("call", call_command) X("audit", audit_command) X("policy", policy_command)    \
  X("sign", sign_command) X("verify", verify_command) X("serve", serve_command)
// clang-format on
bool is_full_command(const std::string& command);
// Replaces this process with warden-full and the same arguments; returns (1, with a message on
// stderr) only when warden-full is missing or cannot be executed.
int exec_full_commands(char** argv);

}  // namespace warden::cli
