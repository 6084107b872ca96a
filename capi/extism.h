/* extism.h: the libextism 1.x C API, implemented by warden (libextism.so / libextism.a).
 *
 * A C program written for libextism builds against this header and links warden instead:
 *   cc prog.c $(pkg-config --cflags --libs extism)
 * Names, types and semantics follow libextism's public header; where warden differs, the comment
 * says so (docs/extism.md, "The C API", has the whole list). Every function is safe to call with a
 * NULL plugin (it does nothing and returns 0, NULL or false). A plugin is used from one thread at
 * a time; its cancel handle from any thread. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define EXTISM_FUNCTION(N) \
  extern void N(ExtismCurrentPlugin*, const ExtismVal*, ExtismSize, ExtismVal*, ExtismSize, void*)

/* The return code of extism_plugin_call for a call without error. */
#define EXTISM_SUCCESS 0

/* An Extism pointer (a kernel block's handle) is an I64. */
#define PTR I64

/* The WebAssembly value types. Host functions take and return I32, I64, F32 and F64; a function
 * declared with V128, FuncRef or ExternRef is refused by extism_function_new (NULL). */
typedef enum {
  I32,
  I64,
  F32,
  F64,
  V128,
  FuncRef,
  ExternRef,
} ExtismValType;

typedef struct ExtismCancelHandle ExtismCancelHandle;
typedef struct ExtismCompiledPlugin ExtismCompiledPlugin;
/* What a host function sees of the running plugin; valid only during the host call. */
typedef struct ExtismCurrentPlugin ExtismCurrentPlugin;
typedef struct ExtismFunction ExtismFunction;
typedef struct ExtismPlugin ExtismPlugin;

typedef uint64_t ExtismMemoryHandle;
typedef uint64_t ExtismSize;

typedef union {
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
} ExtismValUnion;

typedef struct {
  ExtismValType t;
  ExtismValUnion v;
} ExtismVal;

/* A host function: reads inputs[0..n_inputs), writes outputs[0..n_outputs) (their types are the
 * declared ones, already set in .t). `data` is the user_data given to extism_function_new. */
typedef void (*ExtismFunctionType)(ExtismCurrentPlugin* plugin, const ExtismVal* inputs,
                                   ExtismSize n_inputs, ExtismVal* outputs, ExtismSize n_outputs,
                                   void* data);

/* One buffered log line (NUL-terminated; size excludes the NUL). */
typedef void (*ExtismLogDrainFunctionType)(const char* data, ExtismSize size);

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin's id: 16 bytes, a random UUID (version 4), valid while the plugin lives. */
const uint8_t* extism_plugin_id(ExtismPlugin* plugin);

/* The host_context given to extism_plugin_call_with_host_context (NULL for extism_plugin_call). */
void* extism_current_plugin_host_context(ExtismCurrentPlugin* plugin);

/* The base of the kernel region: memory + handle addresses a block's bytes (its length is
 * extism_current_plugin_memory_length). Valid until the next allocation. */
uint8_t* extism_current_plugin_memory(ExtismCurrentPlugin* plugin);

/* A new block of n bytes (0 when n is 0 or the plugin's memory budget is used up). */
ExtismMemoryHandle extism_current_plugin_memory_alloc(ExtismCurrentPlugin* plugin, ExtismSize n);

/* The length of the live block starting at handle n; 0 for anything else. */
ExtismSize extism_current_plugin_memory_length(ExtismCurrentPlugin* plugin, ExtismMemoryHandle n);

/* Frees a block (0, freed and unknown handles are ignored). */
void extism_current_plugin_memory_free(ExtismCurrentPlugin* plugin, ExtismMemoryHandle ptr);

/* A host function, in namespace "extism:host/user" until extism_function_set_namespace. NULL when
 * name is NULL or not UTF-8, or a type is not I32/I64/F32/F64. free_user_data(user_data) runs
 * once, when the function and every plugin made with it have been freed. (libextism lets a
 * function be registered with one plugin only; warden allows several.) */
ExtismFunction* extism_function_new(const char* name, const ExtismValType* inputs,
                                    ExtismSize n_inputs, const ExtismValType* outputs,
                                    ExtismSize n_outputs, ExtismFunctionType func, void* user_data,
                                    void (*free_user_data)(void* _));

void extism_function_free(ExtismFunction* f);

void extism_function_set_namespace(ExtismFunction* ptr, const char* namespace_);

/* Reads, validates and compiles a plugin once (wasm: a Wasm binary or a JSON manifest), with its
 * host functions; plugins are then made with extism_plugin_new_from_compiled. NULL on failure,
 * with *errmsg (free it with extism_plugin_new_error_free) when errmsg is not NULL. */
ExtismCompiledPlugin* extism_compiled_plugin_new(const uint8_t* wasm, ExtismSize wasm_size,
                                                 const ExtismFunction** functions,
                                                 ExtismSize n_functions, bool with_wasi,
                                                 char** errmsg);

/* The same, every call limited to fuel_limit units (about one per Wasm instruction). */
ExtismCompiledPlugin* extism_compiled_plugin_new_with_fuel_limit(
    const uint8_t* wasm, ExtismSize wasm_size, const ExtismFunction** functions,
    ExtismSize n_functions, bool with_wasi, uint64_t fuel_limit, char** errmsg);

/* Plugins made from it stay valid. */
void extism_compiled_plugin_free(ExtismCompiledPlugin* plugin);

/* A plugin from a Wasm binary or a JSON manifest (warden does not read the text format). The
 * functions stay the caller's to free. NULL on failure, with *errmsg as above. */
ExtismPlugin* extism_plugin_new(const uint8_t* wasm, ExtismSize wasm_size,
                                const ExtismFunction** functions, ExtismSize n_functions,
                                bool with_wasi, char** errmsg);

ExtismPlugin* extism_plugin_new_from_compiled(const ExtismCompiledPlugin* compiled, char** errmsg);

ExtismPlugin* extism_plugin_new_with_fuel_limit(const uint8_t* wasm, ExtismSize wasm_size,
                                                const ExtismFunction** functions,
                                                ExtismSize n_functions, bool with_wasi,
                                                uint64_t fuel_limit, char** errmsg);

/* http_headers answers with the last response's headers from now on. */
void extism_plugin_allow_http_response_headers(ExtismPlugin* plugin);

/* Frees an *errmsg of the constructors (extism_plugin_error's strings are not to be freed). */
void extism_plugin_new_error_free(char* err);

void extism_plugin_free(ExtismPlugin* plugin);

/* Valid while the plugin lives. */
const ExtismCancelHandle* extism_plugin_cancel_handle(const ExtismPlugin* plugin);

/* Ends the running call (from any thread): it fails with "timeout". */
bool extism_plugin_cancel(const ExtismCancelHandle* handle);

/* Merges a JSON object of string (set) or null (remove) values into the config; false (and no
 * change) for anything else. */
bool extism_plugin_config(ExtismPlugin* plugin, const uint8_t* json, ExtismSize json_size);

bool extism_plugin_function_exists(ExtismPlugin* plugin, const char* func_name);

/* Calls an export: EXTISM_SUCCESS, or the call's return code (-1 for most failures, 134 for a
 * trap, the exit code of a WASI proc_exit); extism_plugin_error then says why. */
int32_t extism_plugin_call(ExtismPlugin* plugin, const char* func_name, const uint8_t* data,
                           ExtismSize data_len);

int32_t extism_plugin_call_with_host_context(ExtismPlugin* plugin, const char* func_name,
                                             const uint8_t* data, ExtismSize data_len,
                                             void* host_context);

/* Deprecated in libextism: extism_plugin_error. */
const char* extism_error(ExtismPlugin* plugin);

/* The last call's (or reset's) error, NULL when it succeeded; valid until the next call. */
const char* extism_plugin_error(ExtismPlugin* plugin);

/* The last call's output (0 bytes after a failure); valid until the next call or reset. */
ExtismSize extism_plugin_output_length(ExtismPlugin* plugin);
const uint8_t* extism_plugin_output_data(ExtismPlugin* plugin);

/* Plugins' log lines (log_info, ...) at log_level or above ("trace", "debug", "info", "warn",
 * "error"; a filter such as "extism=debug" takes extism's level) go to filename ("stderr" or "-",
 * "stdout", else a file opened for appending). Applies to plugins created afterwards. */
bool extism_log_file(const char* filename, const char* log_level);

/* The same into a buffer that extism_log_drain empties (the newest 10000 lines are kept). */
bool extism_log_custom(const char* log_level);

void extism_log_drain(ExtismLogDrainFunctionType handler);

/* Frees every kernel block of the plugin (handles die, output and error are cleared); vars,
 * config and the plugin's memory stay. */
bool extism_plugin_reset(ExtismPlugin* plugin);

/* warden's version, e.g. "0.1.0". */
const char* extism_version(void);

#ifdef __cplusplus
}
#endif
