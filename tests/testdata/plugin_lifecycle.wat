;; Lifecycle probes for the Plugin API. Init functions append a letter to a log kept in memory;
;; `order` outputs the log, so a test sees which init functions ran, in which order, how often.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (memory (export "memory") 1)
  (global $log_len (mut i32) (i32.const 0))
  (global $calls (mut i32) (i32.const 0))
  (func $note (param $c i32)
    (i32.store8 (i32.add (i32.const 100) (global.get $log_len)) (local.get $c))
    (global.set $log_len (i32.add (global.get $log_len) (i32.const 1))))
  ;; Copies memory [ptr, ptr+len) to a new kernel block and makes it the output.
  (func $output (param $ptr i32) (param $len i32)
    (local $h i64) (local $i i32)
    (local.set $h (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done (loop $copy
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (call $store_u8 (i64.add (local.get $h) (i64.extend_i32_u (local.get $i)))
                      (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $copy)))
    (call $output_set (local.get $h) (i64.extend_i32_u (local.get $len))))
  (func (export "__wasm_call_ctors") (call $note (i32.const 67)))   ;; 'C'
  (func (export "_initialize") (call $note (i32.const 73)))         ;; 'I'
  (func (export "order") (result i32)
    (call $output (i32.const 100) (global.get $log_len)) (i32.const 0))
  ;; Counts calls in a global (persists between calls unless the instance is recreated) and
  ;; outputs the count as one digit.
  (func (export "count") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store8 (i32.const 50) (i32.add (i32.const 48) (global.get $calls)))
    (call $output (i32.const 50) (i32.const 1)) (i32.const 0))
  ;; A WASI-style command entry point: counts too.
  (func (export "_start")
    (global.set $calls (i32.add (global.get $calls) (i32.const 1))))
  ;; Stores the input under var "v" (key "v" = byte 118 at memory 60).
  (func (export "set_var") (result i32)
    (i32.store8 (i32.const 60) (i32.const 118))
    (call $var_set (call $key) (call $input_offset)) (i32.const 0))
  (func $key (result i64) (local $k i64)
    (local.set $k (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $k) (i32.const 118)) (local.get $k))
  ;; Outputs var "v" (empty when unset).
  (func (export "get_var") (result i32) (local $h i64)
    (local.set $h (call $var_get (call $key)))
    (call $output_set (local.get $h) (call $length (local.get $h))) (i32.const 0))
  ;; Outputs the input handle and length as "H L" digits-free: 0 when the input is empty.
  (func (export "input_is_null") (result i32)
    (i32.store8 (i32.const 50)
      (select (i32.const 49) (i32.const 48)
        (i32.and (i64.eqz (call $input_offset)) (i64.eqz (call $input_length)))))
    (call $output (i32.const 50) (i32.const 1)) (i32.const 0))
  ;; Grows plugin memory by the input length's value in pages, outputs "ok" or "no".
  (func (export "grow") (result i32)
    (i32.store16 (i32.const 50)
      (select (i32.const 0x6f6e) (i32.const 0x6b6f)
        (i32.eq (memory.grow (i32.wrap_i64 (call $input_length))) (i32.const -1))))
    (call $output (i32.const 50) (i32.const 2)) (i32.const 0))
;; Allocates a block and keeps its handle in a global for the next call.
  (global $kept (mut i64) (i64.const 0))
  (func (export "keep_handle") (result i32)
    (global.set $kept (call $alloc (i64.const 24))) (i32.const 0))
  ;; Outputs "dead" when the handle kept by the previous call no longer has a length.
  (func (export "kept_is_dead") (result i32)
    (i32.store (i32.const 50) (select (i32.const 0x64616564) (i32.const 0x6576696c)
      (i64.eqz (call $length (global.get $kept)))))
    (call $output (i32.const 50) (i32.const 4)) (i32.const 0))
)
