#!/usr/bin/env python3
"""warden embedded from Python through libextism's C API (ctypes, the standard library only).

Run as: extism_ctypes.py LIBEXTISM_SO PLUGIN_DIR. Creates the greeter plugin with a host function
written in Python, calls it, updates its config, reads an error, and the count_vowels plugin
through a JSON manifest. Prints "python ctypes: all checks passed" or fails with the first
difference."""
import ctypes
import json
import sys

lib_path, plugins = sys.argv[1], sys.argv[2]
lib = ctypes.CDLL(lib_path)


class ValUnion(ctypes.Union):
    _fields_ = [("i32", ctypes.c_int32), ("i64", ctypes.c_int64),
                ("f32", ctypes.c_float), ("f64", ctypes.c_double)]


class Val(ctypes.Structure):
    _fields_ = [("t", ctypes.c_int), ("v", ValUnion)]


I64 = 1
HostFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(Val), ctypes.c_uint64,
                          ctypes.POINTER(Val), ctypes.c_uint64, ctypes.c_void_p)
FreeFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

lib.extism_version.restype = ctypes.c_char_p
lib.extism_function_new.restype = ctypes.c_void_p
lib.extism_function_new.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_uint64,
                                    ctypes.POINTER(ctypes.c_int), ctypes.c_uint64, HostFn,
                                    ctypes.c_void_p, FreeFn]
lib.extism_function_free.argtypes = [ctypes.c_void_p]
lib.extism_plugin_new.restype = ctypes.c_void_p
lib.extism_plugin_new.argtypes = [ctypes.c_char_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_void_p),
                                  ctypes.c_uint64, ctypes.c_bool, ctypes.POINTER(ctypes.c_char_p)]
lib.extism_plugin_call.restype = ctypes.c_int32
lib.extism_plugin_call.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint64]
lib.extism_plugin_output_length.restype = ctypes.c_uint64
lib.extism_plugin_output_length.argtypes = [ctypes.c_void_p]
lib.extism_plugin_output_data.restype = ctypes.POINTER(ctypes.c_uint8)
lib.extism_plugin_output_data.argtypes = [ctypes.c_void_p]
lib.extism_plugin_error.restype = ctypes.c_char_p
lib.extism_plugin_error.argtypes = [ctypes.c_void_p]
lib.extism_plugin_config.restype = ctypes.c_bool
lib.extism_plugin_config.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64]
lib.extism_plugin_free.argtypes = [ctypes.c_void_p]
lib.extism_current_plugin_memory.restype = ctypes.POINTER(ctypes.c_uint8)
lib.extism_current_plugin_memory.argtypes = [ctypes.c_void_p]
lib.extism_current_plugin_memory_length.restype = ctypes.c_uint64
lib.extism_current_plugin_memory_length.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
lib.extism_current_plugin_memory_alloc.restype = ctypes.c_uint64
lib.extism_current_plugin_memory_alloc.argtypes = [ctypes.c_void_p, ctypes.c_uint64]


def check(cond, what):
    if not cond:
        sys.exit("python ctypes: check failed: " + what)


def block(current, handle):
    n = lib.extism_current_plugin_memory_length(current, handle)
    base = lib.extism_current_plugin_memory(current)
    return ctypes.string_at(ctypes.addressof(base.contents) + handle, n)


def new_block(current, data):
    handle = lib.extism_current_plugin_memory_alloc(current, len(data))
    base = lib.extism_current_plugin_memory(current)
    ctypes.memmove(ctypes.addressof(base.contents) + handle, data, len(data))
    return handle


calls = []
freed = []


@HostFn
def decorate(current, inputs, n_inputs, outputs, n_outputs, user_data):
    text = block(current, inputs[0].v.i64).decode()
    calls.append(text)
    outputs[0].v.i64 = new_block(current, ("~" + text[::-1] + "~").encode())


@FreeFn
def on_free(user_data):
    freed.append(user_data)


def output(plugin):
    n = lib.extism_plugin_output_length(plugin)
    return ctypes.string_at(lib.extism_plugin_output_data(plugin), n).decode()


check(lib.extism_version(), "extism_version")
types = (ctypes.c_int * 1)(I64)
function = lib.extism_function_new(b"decorate", types, 1, types, 1, decorate, ctypes.c_void_p(42), on_free)
check(function, "extism_function_new")
wasm = open(plugins + "/greeter.wasm", "rb").read()
functions = (ctypes.c_void_p * 1)(function)
err = ctypes.c_char_p()
plugin = lib.extism_plugin_new(wasm, len(wasm), functions, 1, False, ctypes.byref(err))
check(plugin, "extism_plugin_new: %s" % err.value)
check(lib.extism_plugin_call(plugin, b"greet", b"python", 6) == 0, "greet")
check(output(plugin) == "Hello, ~nohtyp~!", "greet output: " + output(plugin))
check(calls == ["python"], "host function calls: %r" % calls)
config = json.dumps({"greeting": "Hej"}).encode()
check(lib.extism_plugin_config(plugin, config, len(config)), "config")
check(lib.extism_plugin_call(plugin, b"greet", b"ab", 2) == 0 and output(plugin) == "Hej, ~ba~!",
      "greet after config: " + output(plugin))
check(lib.extism_plugin_call(plugin, b"fail", b"from python", 11) == 1, "fail rc")
check(lib.extism_plugin_error(plugin) == b"from python", "error: %r" % lib.extism_plugin_error(plugin))
lib.extism_function_free(function)
check(not freed, "user data freed while the plugin holds the function")
lib.extism_plugin_free(plugin)
check(freed == [42], "user data freed once with its pointer: %r" % freed)

manifest = json.dumps({"wasm": [{"path": plugins + "/count_vowels.wasm"}]}).encode()
plugin = lib.extism_plugin_new(manifest, len(manifest), None, 0, True, ctypes.byref(err))
check(plugin, "manifest plugin: %s" % err.value)
check(lib.extism_plugin_call(plugin, b"count_vowels", b"Hello, World!", 13) == 0, "count_vowels")
check(json.loads(output(plugin)) == {"count": 3, "total": 3, "vowels": "aeiouAEIOU"},
      "count_vowels output: " + output(plugin))
lib.extism_plugin_free(plugin)
print("python ctypes: all checks passed")
