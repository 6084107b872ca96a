/* A host application in C on libextism's API alone (extism.h): built against warden with
 *   cc host.c $(pkg-config --cflags --libs extism) -lpthread
 * it runs examples/plugins/greeter.wasm: a host function with user data, config, a compiled
 * plugin shared by two plugins, and a call cancelled from another thread. */
#include <extism.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* greeter's import extism:host/user::decorate(text) -> text: wraps the text in brackets. */
static void decorate(ExtismCurrentPlugin* plugin, const ExtismVal* in, ExtismSize n_in,
                     ExtismVal* out, ExtismSize n_out, void* user_data) {
  ++*(int*)user_data;
  ExtismMemoryHandle text = (ExtismMemoryHandle)in[0].v.i64;
  ExtismSize n = extism_current_plugin_memory_length(plugin, text);
  ExtismMemoryHandle result = extism_current_plugin_memory_alloc(plugin, n + 2);
  uint8_t* memory = extism_current_plugin_memory(plugin); /* after alloc: it may move */
  memory[result] = '[';
  memmove(memory + result + 1, memory + text, n);
  memory[result + n + 1] = ']';
  out[0].v.i64 = (int64_t)result;
}

static void print_call(ExtismPlugin* plugin, const char* label, const char* function,
                       const char* input) {
  int rc = extism_plugin_call(plugin, function, (const uint8_t*)input, strlen(input));
  if (rc != EXTISM_SUCCESS) {
    printf("%s: error (rc %d): %s\n", label, rc, extism_plugin_error(plugin));
    return;
  }
  printf("%s = %.*s\n", label, (int)extism_plugin_output_length(plugin),
         (const char*)extism_plugin_output_data(plugin));
}

static void* spin(void* plugin) {
  print_call(plugin, "spin", "spin", "");
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s greeter.wasm\n", argv[0]);
    return 2;
  }
  FILE* f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  static uint8_t wasm[1 << 20];
  size_t size = fread(wasm, 1, sizeof wasm, f);
  fclose(f);

  int calls = 0;
  const ExtismValType ptr[] = {PTR};
  ExtismFunction* fn = extism_function_new("decorate", ptr, 1, ptr, 1, decorate, &calls, NULL);
  const ExtismFunction* functions[] = {fn};
  char* error = NULL;
  ExtismCompiledPlugin* compiled =
      extism_compiled_plugin_new(wasm, size, functions, 1, false, &error);
  if (!compiled) {
    fprintf(stderr, "%s\n", error);
    extism_plugin_new_error_free(error);
    return 1;
  }
  ExtismPlugin* plugin = extism_plugin_new_from_compiled(compiled, &error);
  print_call(plugin, "greet(world)", "greet", "world");
  const char* config = "{\"greeting\": \"Bonjour\"}";
  extism_plugin_config(plugin, (const uint8_t*)config, strlen(config));
  print_call(plugin, "greet(world) with greeting=Bonjour", "greet", "world");

  ExtismPlugin* second = extism_plugin_new_from_compiled(compiled, &error);
  print_call(second, "second plugin, same compiled module: greet(again)", "greet", "again");

  /* Cancel a call that never ends, from this thread, while another runs it. */
  pthread_t thread;
  pthread_create(&thread, NULL, spin, second);
  struct timespec pause = {0, 100 * 1000 * 1000};
  nanosleep(&pause, NULL);
  extism_plugin_cancel(extism_plugin_cancel_handle(second));
  pthread_join(thread, NULL);

  printf("host function calls: %d\n", calls);
  extism_plugin_free(second);
  extism_plugin_free(plugin);
  extism_compiled_plugin_free(compiled);
  extism_function_free(fn);
  return 0;
}
