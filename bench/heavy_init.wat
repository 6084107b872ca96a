;; A plugin whose init does what a language runtime's does: it builds 4 MiB of tables (64 pages
;; grown, every word computed) before the first call. The cost a snapshot saves each new instance
;; (bench/plugin_bench.cc, BM_NewTenantInstanceHeavyInit*).
(module
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  (func (export "_initialize") (local $i i32) (local $x i32)
    (drop (memory.grow (i32.const 64)))
    (local.set $x (i32.const 0x9E3779B9))
    (block $done
      (loop $fill
        (br_if $done (i32.ge_u (local.get $i) (i32.const 0x400000)))
        ;; xorshift32: every page written, none of them zero
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
        (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
        (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
        (i32.store offset=65536 (local.get $i) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $fill))))
  (func (export "run") (result i32) (i32.const 0)))
