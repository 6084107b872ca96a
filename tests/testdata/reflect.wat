;; Imports and exports of every kind, in an order that is not alphabetical: for the reflection API.
(module
  (import "env" "zeta" (func $zeta (param i32 i64) (result f32)))
  (import "env" "mem" (memory 1 16))
  (import "host" "alpha" (func $alpha))
  (import "env" "counter" (global $counter (mut i64)))
  (import "env" "tab" (table 2 funcref))
  (global $g f64 (f64.const 1.5))
  (func $f (export "run") (param f64) (result i32 i32) (i32.const 1) (i32.const 2))
  (export "memory" (memory 0))
  (export "a_global" (global $g))
  (export "table" (table 0))
  (export "zeta_again" (func $zeta)))
