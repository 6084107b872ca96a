;; Extism plugins that attack the kernel's bookkeeping and the host's memory, for
;; tests/budget_test.cc. Each export names its attack.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "config_get" (func $config_get (param i64) (result i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (memory (export "memory") 1)

  ;; Writes one byte as the output.
  (func $output_byte (param $b i32) (local $h i64)
    (local.set $h (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $h) (local.get $b))
    (call $output_set (local.get $h) (i64.const 1)))

  ;; The input block is handed to an import that frees its argument, then a new block with other
  ;; bytes takes its place; input_load_u8 must not read that block ("X" comes back as 0, not 'Z').
  (func $reuse_input (param $consume i32) (result i32) (local $h i64)
    (local.set $h (call $input_offset))
    (if (i32.eq (local.get $consume) (i32.const 0)) (then (drop (call $config_get (local.get $h)))))
    (if (i32.eq (local.get $consume) (i32.const 1)) (then (drop (call $var_get (local.get $h)))))
    (if (i32.eq (local.get $consume) (i32.const 2)) (then (call $log_info (local.get $h))))
    (if (i32.eq (local.get $consume) (i32.const 3)) (then (call $free (local.get $h))))
    (local.set $h (call $alloc (i64.const 8)))
    (call $store_u8 (local.get $h) (i32.const 90))  ;; 'Z'
    (call $output_byte (i32.add (i32.const 48) (call $input_load_u8 (i64.const 0))))
    (i32.const 0))
  (func (export "input_after_config_get") (result i32) (call $reuse_input (i32.const 0)))
  (func (export "input_after_var_get") (result i32) (call $reuse_input (i32.const 1)))
  (func (export "input_after_log") (result i32) (call $reuse_input (i32.const 2)))
  (func (export "input_after_free") (result i32) (call $reuse_input (i32.const 3)))

  ;; 1-byte kernel allocations until the kernel refuses (the budget: "oom").
  (func (export "tiny_allocs") (result i32)
    (loop $more (br_if $more (i64.ne (call $alloc (i64.const 1)) (i64.const 0))))
    (i32.const 0))
  ;; One log message of 200,000,000 bytes.
  (func (export "log_200mb") (result i32)
    (call $log_info (call $alloc (i64.const 200000000)))
    (i32.const 0))
  ;; An output of 200,000,000 bytes.
  (func (export "output_200mb") (result i32)
    (call $output_set (call $alloc (i64.const 200000000)) (i64.const 200000000))
    (i32.const 0))
;; var_set with a key of 200,000,000 bytes: refused ("Variable store is full") before any copy.
  (func (export "var_set_200mb_key") (result i32) (local $k i64)
    (local.set $k (call $alloc (i64.const 200000000)))
    (call $var_set (local.get $k) (local.get $k))
    (i32.const 0))
)
