// A plugin instance's memory at rest: creates N plugins of one module (count_vowels by default),
// calls each once, then reports what each costs the process while idle: resident memory (RSS,
// from /proc/self/status), address space (VmSize) and threads, as the difference to before the
// plugins existed, divided by N. The compiled module is shared, so it is paid once (reported
// separately, from the first plugin). Linux only.
//
//   memory_at_rest [MODULE.wasm [FUNCTION [N]]]
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "hostabi/plugin.h"

namespace {

struct ProcessMemory {
  long rss_kib = 0, vm_kib = 0, threads = 0;
};

ProcessMemory sample() {
  ProcessMemory m;
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") status >> m.rss_kib;
    if (key == "VmSize:") status >> m.vm_kib;
    if (key == "Threads:") status >> m.threads;
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 && *argv[1] ? argv[1] : WARDEN_BENCH_COUNT_VOWELS;
  const std::string function = argc > 2 && *argv[2] ? argv[2] : "count_vowels";
  const int n = argc > 3 ? std::stoi(argv[3]) : 200;
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  if (bytes.empty()) {
    std::cerr << "memory_at_rest: cannot read " << path << "\n";
    return 2;
  }
  warden::extism::PluginOptions options;
  options.wasi = true;  // count_vowels is a WASI reactor
  const std::string input = "Hello, World! A sentence with a few vowels in it.";

  const ProcessMemory before = sample();
  std::vector<std::unique_ptr<warden::extism::Plugin>> plugins;
  ProcessMemory after_first;
  for (int i = 0; i < n; ++i) {
    auto plugin = warden::extism::Plugin::create(bytes, options);
    if (!plugin) {
      std::cerr << "memory_at_rest: " << plugin.error().message << "\n";
      return 1;
    }
    auto out = (*plugin)->call(function, input);
    if (!out) {
      std::cerr << "memory_at_rest: " << function << ": " << out.error().message << "\n";
      return 1;
    }
    if (i == 0) std::cout << "output of the first call: " << *out << "\n";
    plugins.push_back(std::move(*plugin));
    if (i == 0) after_first = sample();
  }
  const ProcessMemory after = sample();
  const auto per = [&](long a, long b) { return static_cast<double>(a - b) / n; };
  std::cout << "module " << path << " (" << bytes.size() << " bytes), " << n
            << " plugins, each called once\n";
  std::cout << "first plugin (with the compiled module): RSS +" << after_first.rss_kib - before.rss_kib
            << " KiB\n";
  std::cout << "per plugin at rest: RSS " << per(after.rss_kib, before.rss_kib) << " KiB, address space "
            << per(after.vm_kib, before.vm_kib) << " KiB, threads "
            << per(after.threads, before.threads) << "\n";
  return 0;
}
