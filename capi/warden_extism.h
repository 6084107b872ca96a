/* warden's additions to the libextism C API (extism.h): what only warden has. */
#pragma once

#include "extism.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why a call or a constructor failed. */
typedef enum {
  WARDEN_OK = 0,
  WARDEN_TIMEOUT,
  WARDEN_CANCELLED,
  WARDEN_OUT_OF_FUEL,
  WARDEN_OOM,
  WARDEN_TRAP,
  WARDEN_PLUGIN_ERROR,
  WARDEN_EXIT_CODE,
  WARDEN_FUNCTION_NOT_FOUND,
  WARDEN_DENIED,
  WARDEN_INVALID_MODULE,
  WARDEN_INVALID_MANIFEST,
  WARDEN_HOST_ERROR,
} WardenErrorKind;

/* The kind of the plugin's last error (WARDEN_OK when the last call succeeded). */
WardenErrorKind warden_plugin_error_kind(ExtismPlugin* plugin);

/* The kind of this thread's last failed constructor (extism_plugin_new, ..._from_compiled,
 * extism_compiled_plugin_new and their fuel forms). */
WardenErrorKind warden_create_error_kind(void);

/* "ok", "timeout", "cancelled", "out_of_fuel", ... */
const char* warden_error_kind_name(WardenErrorKind kind);

/* Fuel the last call used (0 unless the plugin has a fuel limit). */
uint64_t warden_plugin_fuel_used(ExtismPlugin* plugin);

#ifdef __cplusplus
}
#endif
