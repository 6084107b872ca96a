// Extism plugins on warden (find_package(warden COMPONENTS hostabi), warden::hostabi): the
// Plugin and CompiledPlugin API, manifests, host functions, WASI (docs/extism.md).
#pragma once

#include "hostabi/manifest.h"
#include "hostabi/plugin.h"
#include "hostabi/wasi/wasi.h"
