;; A WASI plugin for the gate's tests: its first WASI import is fd_write (wasi_stdio), then
;; clock_time_get (wasi_clock) and random_get (wasi_random).
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; The errno of clock_time_get(monotonic) as one digit.
  (func (export "now") (result i32) (local $h i64)
    (local.set $h (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $h)
      (i32.add (i32.const 0x30) (call $clock_time_get (i32.const 1) (i64.const 0) (i32.const 64))))
    (call $output_set (local.get $h) (i64.const 1))
    (i32.const 0)))
