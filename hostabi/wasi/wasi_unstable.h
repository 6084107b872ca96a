// `wasi_unstable` (WASI snapshot 0), which older toolchains still emit, mapped onto preview1: the
// same functions under the old module name, with snapshot 0's differences handled: fd_seek's
// whence values, the 56-byte filestat (nlink is 32 bits), the 56-byte poll subscription (a clock
// identifier field).
#pragma once

#include <memory>

#include "hostabi/wasi/wasi.h"

namespace warden::wasi {

// Every preview1 row of `impls` also under "wasi_unstable" in `linker`, adapted where snapshot 0
// differs.
void define_wasi_unstable(Linker& linker, const HostImpls& impls, bool metered = false);

}  // namespace warden::wasi
