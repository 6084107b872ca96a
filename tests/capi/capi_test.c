/* The libextism C API on warden, through C alone: every function of extism.h, written as a
 * libextism user would. Run as: capi_test GREETER ERRORS COUNT_VOWELS HTTP_FETCHER EXIT
 * (the .wasm paths). Each check prints what failed; the exit code is the number of failures. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extism.h"
#include "warden_extism.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static uint8_t* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(100);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t* bytes = malloc((size_t)n);
  if (fread(bytes, 1, (size_t)n, f) != (size_t)n) exit(101);
  fclose(f);
  *size = (size_t)n;
  return bytes;
}

static int output_is(ExtismPlugin* p, const char* expected) {
  size_t n = (size_t)extism_plugin_output_length(p);
  const uint8_t* data = extism_plugin_output_data(p);
  int same = n == strlen(expected) && memcmp(data, expected, n) == 0;
  if (!same) fprintf(stderr, "  output: \"%.*s\", expected \"%s\"\n", (int)n, data, expected);
  return same;
}

static int error_is(ExtismPlugin* p, const char* expected) {
  const char* e = extism_plugin_error(p);
  int same = e && strcmp(e, expected) == 0;
  if (!same) fprintf(stderr, "  error: %s, expected %s\n", e ? e : "(null)", expected);
  return same;
}

static int error_starts(ExtismPlugin* p, const char* prefix) {
  const char* e = extism_plugin_error(p);
  int same = e && strncmp(e, prefix, strlen(prefix)) == 0;
  if (!same)
    fprintf(stderr, "  error: %s, expected it to start with %s\n", e ? e : "(null)", prefix);
  return same;
}

/* The host function "decorate": upper-cases the input block, appends " from <host_context>" when
 * a context is given, and counts its calls in the user data. */
struct Counter {
  int calls;
  int freed;
};
static void decorate(ExtismCurrentPlugin* plugin, const ExtismVal* in, ExtismSize n_in,
                     ExtismVal* out, ExtismSize n_out, void* data) {
  struct Counter* counter = data;
  counter->calls++;
  if (n_in != 1 || n_out != 1 || in[0].t != I64 || out[0].t != I64) return;
  ExtismMemoryHandle h = (ExtismMemoryHandle)in[0].v.i64;
  ExtismSize n = extism_current_plugin_memory_length(plugin, h);
  const char* context = extism_current_plugin_host_context(plugin);
  size_t extra = context ? strlen(" from ") + strlen(context) : 0;
  ExtismMemoryHandle result = extism_current_plugin_memory_alloc(plugin, n + extra);
  /* After the allocation: the region may have moved. */
  uint8_t* memory = extism_current_plugin_memory(plugin);
  for (ExtismSize i = 0; i < n; ++i) {
    uint8_t c = memory[h + i];
    memory[result + i] = (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
  }
  if (context) {
    memcpy(memory + result + n, " from ", 6);
    memcpy(memory + result + n + 6, context, strlen(context));
  }
  /* A scratch block, freed again: alloc/free/length from a host function. */
  ExtismMemoryHandle scratch = extism_current_plugin_memory_alloc(plugin, 32);
  if (extism_current_plugin_memory_length(plugin, scratch) != 32) counter->calls += 1000;
  extism_current_plugin_memory_free(plugin, scratch);
  if (extism_current_plugin_memory_length(plugin, scratch) != 0) counter->calls += 1000;
  out[0].v.i64 = (int64_t)result;
}

static void free_counter(void* data) { ((struct Counter*)data)->freed++; }

static const ExtismValType kI64[] = {PTR};

static ExtismFunction* new_decorate(struct Counter* counter) {
  ExtismFunction* f =
      extism_function_new("decorate", kI64, 1, kI64, 1, decorate, counter, free_counter);
  extism_function_set_namespace(f, "extism:host/user");
  return f;
}

static int call_str(ExtismPlugin* p, const char* name, const char* input) {
  return extism_plugin_call(p, name, (const uint8_t*)input, strlen(input));
}

/* Log lines drained: kept for the checks. */
static char drained[8192];
static int drained_lines = 0;
static void drain(const char* line, ExtismSize size) {
  ++drained_lines;
  if (strlen(line) != size) drained_lines += 1000;
  strncat(drained, line, sizeof drained - strlen(drained) - 1);
}

struct Spin {
  ExtismPlugin* plugin;
  int rc;
  volatile int done; /* set under the mutex */
  pthread_mutex_t mutex;
};
static void* spin_thread(void* arg) {
  struct Spin* s = arg;
  int rc = extism_plugin_call(s->plugin, "spin", NULL, 0);
  pthread_mutex_lock(&s->mutex);
  s->rc = rc;
  s->done = 1;
  pthread_mutex_unlock(&s->mutex);
  return NULL;
}
static int spin_done(struct Spin* s) {
  pthread_mutex_lock(&s->mutex);
  int done = s->done;
  pthread_mutex_unlock(&s->mutex);
  return done;
}

static void test_greeter(const uint8_t* wasm, size_t size) {
  struct Counter counter = {0, 0};
  ExtismFunction* f = new_decorate(&counter);
  CHECK(f != NULL);
  const ExtismFunction* functions[] = {f};
  char* err = NULL;
  ExtismPlugin* p = extism_plugin_new(wasm, size, functions, 1, false, &err);
  CHECK(p != NULL && err == NULL);
  if (!p) {
    fprintf(stderr, "  %s\n", err);
    return;
  }
  /* The caller still owns the function: freeing it now leaves the plugin working. */
  extism_function_free(f);
  CHECK(counter.freed == 0);

  CHECK(extism_plugin_function_exists(p, "greet"));
  CHECK(!extism_plugin_function_exists(p, "missing"));
  CHECK(call_str(p, "greet", "world") == EXTISM_SUCCESS);
  CHECK(output_is(p, "Hello, WORLD!"));
  CHECK(extism_plugin_error(p) == NULL);
  CHECK(warden_plugin_error_kind(p) == WARDEN_OK);
  CHECK(counter.calls == 1);

  /* Config: set, then null removes. */
  const char* set = "{\"greeting\": \"Hi\"}";
  CHECK(extism_plugin_config(p, (const uint8_t*)set, strlen(set)));
  CHECK(call_str(p, "greet", "you") == 0 && output_is(p, "Hi, YOU!"));
  const char* unset = "{\"greeting\": null}";
  CHECK(extism_plugin_config(p, (const uint8_t*)unset, strlen(unset)));
  CHECK(call_str(p, "greet", "you") == 0 && output_is(p, "Hello, YOU!"));
  const char* bad[] = {"{\"greeting\": 7}", "[1]", "{\"greeting\": ", "\"text\""};
  for (int i = 0; i < 4; ++i)
    CHECK(!extism_plugin_config(p, (const uint8_t*)bad[i], strlen(bad[i])));
  CHECK(call_str(p, "greet", "you") == 0 && output_is(p, "Hello, YOU!"));

  /* Host context, per call. */
  char context[] = "the host";
  CHECK(extism_plugin_call_with_host_context(p, "greet", (const uint8_t*)"c", 1, context) == 0);
  CHECK(output_is(p, "Hello, C from the host!"));
  CHECK(call_str(p, "greet", "c") == 0 && output_is(p, "Hello, C!"));

  /* Vars persist between calls of one plugin. */
  CHECK(call_str(p, "count", "") == 0 && output_is(p, "1"));
  CHECK(call_str(p, "count", "") == 0 && output_is(p, "2"));

  /* Errors, and the next success clears them. */
  CHECK(call_str(p, "missing", "") == -1 && error_is(p, "Function not found: missing"));
  CHECK(warden_plugin_error_kind(p) == WARDEN_FUNCTION_NOT_FOUND);
  CHECK(extism_plugin_output_length(p) == 0);
  CHECK(strcmp(extism_error(p), "Function not found: missing") == 0);
  CHECK(call_str(p, "fail", "my message") == 1 && error_is(p, "my message"));
  CHECK(warden_plugin_error_kind(p) == WARDEN_PLUGIN_ERROR);
  CHECK(call_str(p, "trap", "") == 134 && error_starts(p, "trap: unreachable"));
  CHECK(warden_plugin_error_kind(p) == WARDEN_TRAP);
  CHECK(call_str(p, "greet", "ok") == 0 && extism_plugin_error(p) == NULL);

  /* Reset: every block dies, the plugin goes on; vars stay. */
  CHECK(extism_plugin_reset(p));
  CHECK(extism_plugin_output_length(p) == 0);
  CHECK(call_str(p, "count", "") == 0 && output_is(p, "3"));

  /* Ids: 16 bytes, UUID version 4, different per plugin. */
  const uint8_t* id = extism_plugin_id(p);
  CHECK(id != NULL && (id[6] >> 4) == 4 && (id[8] >> 6) == 2);

  /* Cancel from another thread: the call ends with "timeout". */
  struct Spin s = {p, 0, 0, PTHREAD_MUTEX_INITIALIZER};
  pthread_t thread;
  pthread_create(&thread, NULL, spin_thread, &s);
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  const ExtismCancelHandle* handle = extism_plugin_cancel_handle(p);
  CHECK(handle != NULL);
  /* A cancel before the call started would be forgotten: cancel until the thread is done. */
  while (!spin_done(&s)) {
    CHECK(extism_plugin_cancel(handle));
    nanosleep(&pause, NULL);
  }
  pthread_join(thread, NULL);
  CHECK(s.rc == -1 && error_is(p, "timeout"));
  CHECK(warden_plugin_error_kind(p) == WARDEN_CANCELLED);
  /* The plugin is usable after a cancel. */
  CHECK(call_str(p, "greet", "again") == 0 && output_is(p, "Hello, AGAIN!"));

  int calls = counter.calls;
  CHECK(calls >= 6 && calls < 1000);
  extism_plugin_free(p);
  CHECK(counter.freed == 1); /* the last holder gone: freed once */
}

static void test_compiled(const uint8_t* wasm, size_t size) {
  struct Counter counter = {0, 0};
  ExtismFunction* f = new_decorate(&counter);
  const ExtismFunction* functions[] = {f};
  char* err = NULL;
  ExtismCompiledPlugin* compiled =
      extism_compiled_plugin_new(wasm, size, functions, 1, false, &err);
  CHECK(compiled != NULL && err == NULL);
  extism_function_free(f);
  ExtismPlugin* a = extism_plugin_new_from_compiled(compiled, &err);
  ExtismPlugin* b = extism_plugin_new_from_compiled(compiled, &err);
  CHECK(a && b && err == NULL);
  /* The compiled plugin may go before the plugins made from it. */
  extism_compiled_plugin_free(compiled);
  CHECK(counter.freed == 0);
  CHECK(call_str(a, "count", "") == 0 && output_is(a, "1"));
  CHECK(call_str(a, "count", "") == 0 && output_is(a, "2"));
  CHECK(call_str(b, "count", "") == 0 && output_is(b, "1")); /* vars are per plugin */
  CHECK(call_str(b, "greet", "b") == 0 && output_is(b, "Hello, B!"));
  CHECK(memcmp(extism_plugin_id(a), extism_plugin_id(b), 16) != 0);
  extism_plugin_free(a);
  CHECK(counter.freed == 0);
  extism_plugin_free(b);
  CHECK(counter.freed == 1);

  /* With a fuel limit: the spin runs out, every call starts with the full limit again. */
  counter.freed = 0;
  f = new_decorate(&counter);
  functions[0] = f;
  compiled =
      extism_compiled_plugin_new_with_fuel_limit(wasm, size, functions, 1, false, 100000, &err);
  CHECK(compiled != NULL);
  ExtismPlugin* metered = extism_plugin_new_from_compiled(compiled, &err);
  CHECK(call_str(metered, "spin", "") == -1 && error_is(metered, "plugin ran out of fuel"));
  CHECK(warden_plugin_error_kind(metered) == WARDEN_OUT_OF_FUEL);
  CHECK(call_str(metered, "greet", "x") == 0 && output_is(metered, "Hello, X!"));
  uint64_t used = warden_plugin_fuel_used(metered);
  CHECK(call_str(metered, "greet", "x") == 0 && warden_plugin_fuel_used(metered) == used);
  CHECK(used > 0 && used < 100000);
  extism_plugin_free(metered);
  extism_compiled_plugin_free(compiled);
  extism_function_free(f);
  CHECK(counter.freed == 1);

  ExtismPlugin* direct =
      extism_plugin_new_with_fuel_limit(wasm, size, functions, 0, false, 5000, &err);
  /* Without its host function the greeter cannot link: the error names the import. */
  CHECK(direct == NULL && err != NULL);
  if (err) {
    CHECK(strstr(err, "Unable to compile Extism plugin: ") == err);
    CHECK(strstr(err, "decorate") != NULL);
    CHECK(warden_create_error_kind() == WARDEN_INVALID_MODULE);
    extism_plugin_new_error_free(err);
  }
}

static void test_errors(const uint8_t* errors, size_t errors_size, const char* greeter_path,
                        const char* count_vowels_path, const char* http_path,
                        const char* exit_path) {
  char* err = NULL;
  /* Not Wasm, not a manifest. */
  CHECK(extism_plugin_new((const uint8_t*)"hello", 5, NULL, 0, false, &err) == NULL);
  CHECK(err && strstr(err, "neither a Wasm binary"));
  CHECK(warden_create_error_kind() == WARDEN_INVALID_MODULE);
  extism_plugin_new_error_free(err);
  err = NULL;
  /* A Wasm header and garbage. */
  const uint8_t broken[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 0xff};
  CHECK(extism_plugin_new(broken, sizeof broken, NULL, 0, false, &err) == NULL);
  CHECK(err && strstr(err, "invalid wasm module"));
  CHECK(warden_create_error_kind() == WARDEN_INVALID_MODULE);
  extism_plugin_new_error_free(err);
  err = NULL;
  /* A manifest with a misspelt field, and one naming a missing file. */
  const char* misspelt = "{\"wasm\": [{\"path\": \"x.wasm\"}], \"memroy\": {}}";
  CHECK(extism_plugin_new((const uint8_t*)misspelt, strlen(misspelt), NULL, 0, false, &err) ==
        NULL);
  CHECK(err && strstr(err, "memroy"));
  CHECK(warden_create_error_kind() == WARDEN_INVALID_MANIFEST);
  extism_plugin_new_error_free(err);
  err = NULL;
  const char* missing = "{\"wasm\": [{\"path\": \"/nonexistent/plugin.wasm\"}]}";
  CHECK(extism_plugin_new((const uint8_t*)missing, strlen(missing), NULL, 0, false, &err) == NULL);
  CHECK(err && strstr(err, "/nonexistent/plugin.wasm"));
  CHECK(warden_create_error_kind() == WARDEN_INVALID_MANIFEST);
  extism_plugin_new_error_free(err);
  /* errmsg may be NULL. */
  CHECK(extism_plugin_new((const uint8_t*)"x", 1, NULL, 0, false, NULL) == NULL);
  /* A NULL function in the array. */
  const ExtismFunction* null_function[] = {NULL};
  err = NULL;
  CHECK(extism_plugin_new(errors, errors_size, null_function, 1, false, &err) == NULL && err);
  extism_plugin_new_error_free(err);
  /* Host function types: V128 is refused. */
  const ExtismValType v128[] = {V128};
  CHECK(extism_function_new("f", v128, 1, NULL, 0, decorate, NULL, NULL) == NULL);
  /* A host function of the wrong type: the message names the type the module expects. */
  struct Counter counter = {0, 0};
  const ExtismValType i32[] = {I32};
  ExtismFunction* wrong =
      extism_function_new("decorate", i32, 1, i32, 1, decorate, &counter, free_counter);
  const ExtismFunction* wrong_functions[] = {wrong};
  size_t greeter_size = 0;
  uint8_t* greeter = read_file(greeter_path, &greeter_size);
  err = NULL;
  CHECK(extism_plugin_new(greeter, greeter_size, wrong_functions, 1, false, &err) == NULL);
  CHECK(err && strstr(err, "(i64) -> (i64)"));
  extism_plugin_new_error_free(err);
  extism_function_free(wrong);
  CHECK(counter.freed == 1 && counter.calls == 0);
  free(greeter);

  /* Every failure kind of a call. */
  ExtismPlugin* p = extism_plugin_new(errors, errors_size, NULL, 0, false, NULL);
  CHECK(p != NULL);
  CHECK(call_str(p, "nonzero", "") == 7 && error_is(p, "Returned non-zero exit code: 7"));
  CHECK(warden_plugin_error_kind(p) == WARDEN_PLUGIN_ERROR);
  CHECK(call_str(p, "takes_param", "") == -1 &&
        error_is(p,
                 "Function not found: takes_param has type (i32) -> (i32); an Extism function "
                 "takes no parameters and returns i32 or nothing"));
  CHECK(call_str(p, "void_ok", "") == 0 && output_is(p, "void function ran"));
  extism_plugin_free(p);

  char manifest[1024];
  /* Timeout from the manifest. */
  snprintf(manifest, sizeof manifest, "{\"wasm\": [{\"path\": \"%s\"}], \"timeout_ms\": 50}",
           greeter_path);
  struct Counter c2 = {0, 0};
  ExtismFunction* f = new_decorate(&c2);
  const ExtismFunction* functions[] = {f};
  p = extism_plugin_new((const uint8_t*)manifest, strlen(manifest), functions, 1, false, &err);
  CHECK(p != NULL);
  CHECK(call_str(p, "spin", "") == -1 && error_is(p, "timeout"));
  CHECK(warden_plugin_error_kind(p) == WARDEN_TIMEOUT);
  extism_plugin_free(p);
  /* The manifest's config. */
  snprintf(manifest, sizeof manifest,
           "{\"wasm\": [{\"path\": \"%s\"}], \"config\": {\"greeting\": \"Yo\"}}", greeter_path);
  p = extism_plugin_new((const uint8_t*)manifest, strlen(manifest), functions, 1, false, &err);
  CHECK(p && call_str(p, "greet", "m") == 0 && output_is(p, "Yo, M!"));
  extism_plugin_free(p);
  extism_function_free(f);

  /* Out of memory: 200 000 bytes of input do not fit a budget of 2 pages; the plugin goes on. */
  static char big[200000];
  memset(big, 'a', sizeof big);
  snprintf(manifest, sizeof manifest,
           "{\"wasm\": [{\"path\": \"%s\"}], \"memory\": {\"max_pages\": 2}}", count_vowels_path);
  p = extism_plugin_new((const uint8_t*)manifest, strlen(manifest), NULL, 0, true, &err);
  CHECK(p != NULL);
  CHECK(extism_plugin_call(p, "count_vowels", (const uint8_t*)big, sizeof big) == -1);
  CHECK(error_is(p, "oom") && warden_plugin_error_kind(p) == WARDEN_OOM);
  CHECK(call_str(p, "count_vowels", "a") == 0 &&
        output_is(p, "{\"count\":1,\"total\":1,\"vowels\":\"aeiouAEIOU\"}"));
  extism_plugin_free(p);

  /* Denied: no allowed_hosts, so no HTTP request goes out (nothing listens there either). */
  snprintf(manifest, sizeof manifest, "{\"wasm\": [{\"path\": \"%s\"}]}", http_path);
  p = extism_plugin_new((const uint8_t*)manifest, strlen(manifest), NULL, 0, false, &err);
  CHECK(p != NULL);
  CHECK(call_str(p, "fetch", "http://127.0.0.1:9/") == -1);
  CHECK(error_starts(p, "HTTP request to http://127.0.0.1:9/ is not allowed"));
  CHECK(warden_plugin_error_kind(p) == WARDEN_DENIED);
  extism_plugin_allow_http_response_headers(p);
  extism_plugin_free(p);

  /* WASI proc_exit with a non-zero code. */
  size_t exit_size = 0;
  uint8_t* exit_wasm = read_file(exit_path, &exit_size);
  p = extism_plugin_new(exit_wasm, exit_size, NULL, 0, true, &err);
  CHECK(p != NULL);
  CHECK(call_str(p, "exit", "abc") == 3 && error_is(p, "Exited with i32 exit status 3"));
  CHECK(warden_plugin_error_kind(p) == WARDEN_EXIT_CODE);
  CHECK(call_str(p, "exit", "") == 0); /* proc_exit(0) is success */
  extism_plugin_free(p);
  /* Without WASI the module cannot link. */
  err = NULL;
  CHECK(extism_plugin_new(exit_wasm, exit_size, NULL, 0, false, &err) == NULL && err);
  CHECK(err && strstr(err, "proc_exit"));
  extism_plugin_new_error_free(err);
  free(exit_wasm);

  CHECK(strcmp(warden_error_kind_name(WARDEN_OUT_OF_FUEL), "out_of_fuel") == 0);
}

static void test_logging(const uint8_t* wasm, size_t size) {
  CHECK(extism_log_custom("info"));
  struct Counter counter = {0, 0};
  ExtismFunction* f = new_decorate(&counter);
  const ExtismFunction* functions[] = {f};
  ExtismPlugin* p = extism_plugin_new(wasm, size, functions, 1, false, NULL);
  CHECK(call_str(p, "greet", "log") == 0);
  CHECK(call_str(p, "greet", "\x1b[31mred") == 0); /* control bytes are escaped in log lines */
  drained[0] = 0;
  drained_lines = 0;
  extism_log_drain(drain);
  CHECK(drained_lines == 2);
  CHECK(strstr(drained, "INFO extism::pdk: Hello, LOG!\n") != NULL);
  CHECK(strchr(drained, '\x1b') == NULL);
  drained_lines = 0;
  extism_log_drain(drain);
  CHECK(drained_lines == 0); /* drained once */
  extism_plugin_free(p);
  /* At "error", info lines are not kept. */
  CHECK(extism_log_custom("extism=error"));
  p = extism_plugin_new(wasm, size, functions, 1, false, NULL);
  CHECK(call_str(p, "greet", "quiet") == 0);
  extism_log_drain(drain);
  CHECK(drained_lines == 0);
  extism_plugin_free(p);
  extism_function_free(f);
  CHECK(!extism_log_file("/nonexistent-dir/x.log", "info"));
  CHECK(extism_log_file("stderr", "error"));
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: capi_test GREETER ERRORS COUNT_VOWELS HTTP_FETCHER EXIT\n");
    return 100;
  }
  CHECK(extism_version() != NULL && strlen(extism_version()) > 0);
  size_t greeter_size = 0, errors_size = 0;
  uint8_t* greeter = read_file(argv[1], &greeter_size);
  uint8_t* errors = read_file(argv[2], &errors_size);
  test_greeter(greeter, greeter_size);
  test_compiled(greeter, greeter_size);
  test_errors(errors, errors_size, argv[1], argv[3], argv[4], argv[5]);
  test_logging(greeter, greeter_size);
  /* NULL everywhere is harmless. */
  CHECK(extism_plugin_call(NULL, "x", NULL, 0) == -1);
  CHECK(extism_plugin_error(NULL) == NULL && extism_plugin_output_length(NULL) == 0);
  CHECK(!extism_plugin_reset(NULL) && extism_plugin_id(NULL) == NULL);
  extism_plugin_free(NULL);
  extism_compiled_plugin_free(NULL);
  extism_function_free(NULL);
  free(greeter);
  free(errors);
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("capi: all checks passed\n");
  return failures;
}
