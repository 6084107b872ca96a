;; The serve load benchmark's plugin (bench/serve-load.sh): `check` keeps the first input it gets
;; as its tenant's secret (var "s") and answers "SECRET|INPUT", so that the load generator can
;; check that every response carries the secret of the tenant that sent it.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (memory (export "memory") 1)

  ;; Copies block `from` into block `to` at `at`; returns the offset after it.
  (func $copy (param $to i64) (param $at i64) (param $from i64) (result i64) (local $i i64) (local $n i64)
    (local.set $n (call $length (local.get $from)))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (call $store_u8 (i64.add (local.get $to) (i64.add (local.get $at) (local.get $i)))
                        (call $load_u8 (i64.add (local.get $from) (local.get $i))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $next)))
    (i64.add (local.get $at) (local.get $n)))

  (func (export "check") (result i32) (local $key i64) (local $secret i64) (local $in i64)
                                      (local $out i64) (local $at i64)
    (local.set $key (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $key) (i32.const 0x73))  ;; "s"
    (local.set $in (call $input_offset))
    (local.set $secret (call $var_get (local.get $key)))
    (if (i64.eqz (local.get $secret))
      (then (call $var_set (local.get $key) (local.get $in))
            (local.set $secret (local.get $in))))
    (local.set $out (call $alloc (i64.add (i64.add (call $length (local.get $secret))
                                                   (call $length (local.get $in))) (i64.const 1))))
    (local.set $at (call $copy (local.get $out) (i64.const 0) (local.get $secret)))
    (call $store_u8 (i64.add (local.get $out) (local.get $at)) (i32.const 0x7c))  ;; "|"
    (local.set $at (call $copy (local.get $out) (i64.add (local.get $at) (i64.const 1)) (local.get $in)))
    (call $output_set (local.get $out) (local.get $at))
    (i32.const 0)))
