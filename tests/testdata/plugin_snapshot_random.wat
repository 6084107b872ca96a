;; A plugin whose init seeds itself from WASI's random_get: every instance made from a snapshot
;; would share the seed, so a snapshot of it is refused (tests/snapshot_test.cc).
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "_initialize") (drop (call $random_get (i32.const 0) (i32.const 8))))
  (func (export "run") (result i32) (i32.const 0)))
