;; A plugin for the capability gate's tests (tests/gate_test.cc): one export per capability or
;; quota to exercise. It imports http_request (network_outbound_allowlist) and log_info
;; (log_emit) besides the memory ABI, so a tier without those refuses it at link.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "pong")

  ;; "pong", no host capability beyond the memory ABI.
  (func $pong (result i64) (local $h i64)
    (local.set $h (call $alloc (i64.const 4)))
    (call $store_u8 (local.get $h) (i32.const 0x70))
    (call $store_u8 (i64.add (local.get $h) (i64.const 1)) (i32.const 0x6f))
    (call $store_u8 (i64.add (local.get $h) (i64.const 2)) (i32.const 0x6e))
    (call $store_u8 (i64.add (local.get $h) (i64.const 3)) (i32.const 0x67))
    (local.get $h))
  (func (export "ping") (result i32)
    (call $output_set (call $pong) (i64.const 4))
    (i32.const 0))

  ;; The input copied byte by byte into a new block: two host calls per byte.
  (func (export "echo") (result i32) (local $n i64) (local $i i64) (local $h i64)
    (local.set $n (call $input_length))
    (local.set $h (call $alloc (local.get $n)))
    (block $done
      (loop $copy
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (call $store_u8 (i64.add (local.get $h) (local.get $i))
                        (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $copy)))
    (call $output_set (local.get $h) (local.get $n))
    (i32.const 0))

  ;; The input is an Extism HTTP request (JSON); the output is the response body.
  (func (export "fetch") (result i32) (local $r i64)
    (local.set $r (call $http_request (call $input_offset) (i64.const 0)))
    (call $output_set (local.get $r) (call $length (local.get $r)))
    (i32.const 0))
  ;; The same, sending the request's own JSON as its body.
  (func (export "post") (result i32) (local $r i64)
    (local.set $r (call $http_request (call $input_offset) (call $input_offset)))
    (call $output_set (local.get $r) (call $length (local.get $r)))
    (i32.const 0))

  ;; 1000 log messages ("pong" each).
  (func (export "chatter") (result i32) (local $i i32)
    (block $done
      (loop $again
        (br_if $done (i32.ge_u (local.get $i) (i32.const 1000)))
        (call $log_info (call $pong))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $again)))
    (call $output_set (call $pong) (i64.const 4))
    (i32.const 0))

  ;; An output of as many bytes as the input says (decimal digits), zeros.
  (func (export "big_output") (result i32) (local $n i64) (local $i i64) (local $c i64)
    (block $done
      (loop $digits
        (br_if $done (i64.ge_u (local.get $i) (call $input_length)))
        (local.set $c (i64.extend_i32_u (call $input_load_u8 (local.get $i))))
        (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10))
                               (i64.sub (local.get $c) (i64.const 0x30))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $digits)))
    (call $output_set (call $alloc (local.get $n)) (local.get $n))
    (i32.const 0))

  ;; Never returns: only a deadline, a cancel, fuel or the CPU quota stops it.
  (func (export "spin") (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))
