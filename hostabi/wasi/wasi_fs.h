// WASI preview1 files and directories: fd_* and path_* on the descriptor table of
// hostabi/wasi/wasi_fd_table.h. Every path is resolved beneath its directory fd by
// hostabi/wasi/wasi_path.h, never as a string against the host path; docs/wasi.md lists the errnos.
#pragma once

#include "hostabi/wasi/wasi_fd_table.h"
