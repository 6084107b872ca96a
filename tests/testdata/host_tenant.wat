;; A plugin for the multi-tenant host's tests (tests/plugin_host_test.cc): per-tenant state in
;; vars, a tenant-scoped host function, memory growth and a loop.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/user" "tenant_note" (func $tenant_note (param i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "secret")

  ;; A kernel block holding "secret" (the var's key).
  (func $key (result i64) (local $h i64) (local $i i32)
    (local.set $h (call $alloc (i64.const 6)))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (i32.const 6)))
        (call $store_u8 (i64.add (local.get $h) (i64.extend_i32_u (local.get $i)))
                        (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (local.get $h))

  ;; var "secret" = the input.
  (func (export "remember") (result i32)
    (call $var_set (call $key) (call $input_offset))
    (i32.const 0))
  ;; The output is var "secret" (empty when unset).
  (func (export "recall") (result i32) (local $h i64)
    (local.set $h (call $var_get (call $key)))
    (if (i64.ne (local.get $h) (i64.const 0))
      (then (call $output_set (local.get $h) (call $length (local.get $h)))))
    (i32.const 0))
  ;; The output is what the host's tenant_note answers for the input.
  (func (export "note") (result i32) (local $h i64)
    (local.set $h (call $tenant_note (call $input_offset)))
    (call $output_set (local.get $h) (call $length (local.get $h)))
    (i32.const 0))
  ;; memory.grow by as many pages as the input has bytes.
  (func (export "grow") (result i32)
    (drop (memory.grow (i32.wrap_i64 (call $input_length))))
    (i32.const 0))
  (func (export "trap") (result i32) unreachable)
  (func (export "spin") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
