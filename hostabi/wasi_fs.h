// WASI preview1 file descriptors: stdio, preopened directories (WasiConfig::mounts) and the
// files and directories opened beneath them. Every path is resolved by the kernel beneath its
// directory fd (openat2 with RESOLVE_BENEATH), never as a string against the host path, so `..`,
// absolute paths and symlinks cannot leave a mount: such paths fail with EPERM, as in wasmtime.
#pragma once

#include <memory>

#include "hostabi/wasi.h"

namespace warden::wasi {

// Defines fd_* and path_* functions and poll_oneoff; each call makes a fresh fd table.
void define_files(Linker& linker, std::shared_ptr<const WasiConfig> config);

}  // namespace warden::wasi
