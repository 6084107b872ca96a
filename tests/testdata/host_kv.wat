;; A plugin of the "warden:kv" API for tests/plugin_host_test.cc: one key, "k", in the tenant's
;; namespace (put, get, del) and in the plugin's shared one (sput, sget). put/sput/del answer the
;; host's status as one digit.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "warden:kv" "get" (func $get (param i64) (result i64)))
  (import "warden:kv" "set" (func $set (param i64 i64) (result i32)))
  (import "warden:kv" "delete" (func $delete (param i64) (result i32)))
  (import "warden:kv" "shared_get" (func $shared_get (param i64) (result i64)))
  (import "warden:kv" "shared_set" (func $shared_set (param i64 i64) (result i32)))
  (memory (export "memory") 1)

  (func $key (result i64) (local $h i64)
    (local.set $h (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $h) (i32.const 0x6b))  ;; "k"
    (local.get $h))
  (func $digit (param $n i32) (local $h i64)
    (local.set $h (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $h) (i32.add (i32.const 0x30) (local.get $n)))
    (call $output_set (local.get $h) (i64.const 1)))
  (func $answer (param $h i64)
    (if (i64.ne (local.get $h) (i64.const 0))
      (then (call $output_set (local.get $h) (call $length (local.get $h))))))

  (func (export "put") (result i32)
    (call $digit (call $set (call $key) (call $input_offset))) (i32.const 0))
  (func (export "get") (result i32)
    (call $answer (call $get (call $key))) (i32.const 0))
  (func (export "del") (result i32)
    (call $digit (call $delete (call $key))) (i32.const 0))
  (func (export "sput") (result i32)
    (call $digit (call $shared_set (call $key) (call $input_offset))) (i32.const 0))
  (func (export "sget") (result i32)
    (call $answer (call $shared_get (call $key))) (i32.const 0)))
