;; A bad new version of host_tenant.wat for the canary tests (tests/plugin_host_test.cc): its
;; "recall" traps on every other call of an instance, so it fails half its calls.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (func (export "recall") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.and (global.get $calls) (i32.const 1)) (then unreachable))
    (i32.const 0)))
