// Converts a .wast script to the spec JSON format with wabt's wast2json, into a work directory.
#pragma once

#include <filesystem>
#include <string>

namespace warden::spec {

struct Conversion {
  bool ok = false;
  std::filesystem::path json;  // WORK/NAME/NAME.json when ok
  std::string error;           // wast2json's stderr, or why it could not run
};

// True when wast2json can be found on PATH.
bool wast2json_available();

// Converts `wast` into `work_dir/NAME/NAME.json`, unless that file is newer than the script.
Conversion convert_wast(const std::filesystem::path& wast, const std::filesystem::path& work_dir);

}  // namespace warden::spec
