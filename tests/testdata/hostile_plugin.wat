;; The Extism guest of tests/hostile_class_test.cc for the host-ABI classes of
;; ../shared/hostile-classes.md (20: kernel bytes reused between calls, 21: handles, offsets and
;; lengths, 22: timeouts, 23: caps, 24: host functions and the kernel region moving).
(module $hostile_plugin
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "free" (func $free (param i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "load_u8" (func $load_u8 (param i64) (result i32)))
  (import "extism:host/env" "load_u64" (func $load_u64 (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "log_info" (func $log_info (param i64)))
  (import "extism:host/user" "dup" (func $host_dup (param i64) (result i64)))
  (memory (export "memory") 1)

  ;; A new kernel block with the bytes of block $h.
  (func $dup (param $h i64) (result i64) (local $n i64) (local $d i64) (local $i i64)
    (local.set $n (call $length (local.get $h)))
    (local.set $d (call $alloc (local.get $n)))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (call $store_u8 (i64.add (local.get $d) (local.get $i))
                      (call $load_u8 (i64.add (local.get $h) (local.get $i))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (local.get $d))
  ;; Outputs guest memory [0, 8 * $count) as little-endian u64 results.
  (func $output_results (param $count i32) (local $h i64) (local $i i32)
    (local.set $h (call $alloc (i64.extend_i32_u (i32.mul (local.get $count) (i32.const 8)))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (call $store_u64 (i64.add (local.get $h) (i64.extend_i32_u (i32.mul (local.get $i) (i32.const 8))))
                       (i64.load (i32.mul (local.get $i) (i32.const 8))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $output_set (local.get $h) (i64.extend_i32_u (i32.mul (local.get $count) (i32.const 8)))))
  (func $r (param $i i32) (param $v i64) (i64.store (i32.mul (local.get $i) (i32.const 8)) (local.get $v)))
  (func $b2i (param i32) (result i64) (i64.extend_i32_u (local.get 0)))

  (func (export "echo") (result i32)
    (call $output_set (call $input_offset) (call $input_length)) (i32.const 0))
  (func (export "spin") (result i32) (loop $forever (br $forever)) (i32.const 0))

  ;; ---- class 21: every handle, offset and length a guest can forge. Input: 16 bytes. ----
  (func (export "probe_handles") (result i32) (local $h i64) (local $a i64) (local $b i64)
    (local $n i64)
    (local.set $n (call $input_length))
    (call $r (i32.const 0) (call $alloc (i64.const 0)))
    (call $r (i32.const 1) (call $alloc (i64.const -1)))                  ;; 2^64 - 1
    (call $r (i32.const 2) (call $alloc (i64.const 0x100000001)))         ;; over 4 GiB
    (call $r (i32.const 3) (call $length (i64.const 0)))
    (call $r (i32.const 4) (call $length (i64.const 0xdeadbeef)))
    (local.set $h (call $alloc (i64.const 16)))
    (call $free (local.get $h))
    (call $r (i32.const 5) (call $length (local.get $h)))                 ;; freed
    (call $free (local.get $h))                                           ;; double free
    (local.set $a (call $alloc (i64.const 16)))
    (local.set $b (call $alloc (i64.const 16)))
    (call $r (i32.const 6) (call $b2i (i64.ne (local.get $a) (local.get $b))))  ;; no aliasing
    (call $r (i32.const 7) (call $length (i64.add (local.get $a) (i64.const 1))))  ;; inside
    (call $store_u64 (i64.add (local.get $a) (i64.const 8)) (i64.const 0x1122334455667788))
    (call $r (i32.const 8) (call $load_u64 (i64.add (local.get $a) (i64.const 8))))
    (call $r (i32.const 9) (call $load_u64 (i64.const -7)))               ;; p + 8 wraps
    (call $r (i32.const 10) (call $b2i (call $input_load_u8 (local.get $n))))
    (call $r (i32.const 11) (call $input_load_u64 (i64.sub (local.get $n) (i64.const 7))))
    (call $r (i32.const 12) (call $input_load_u64 (i64.const -7)))
    (call $r (i32.const 13) (call $input_load_u64 (i64.sub (local.get $n) (i64.const 8))))
    ;; Stores through wrapping and forged addresses write nowhere: $a's word is unchanged.
    (call $store_u64 (i64.const -7) (i64.const -1))
    (call $store_u64 (i64.const 0x10000000000) (i64.const -1))
    (call $store_u8 (i64.const 3) (i32.const 0xff))
    (call $r (i32.const 14) (call $load_u64 (i64.add (local.get $a) (i64.const 8))))
    (call $r (i32.const 15) (call $b2i (call $load_u8 (i64.const 3))))   ;; below the first block
    (call $r (i32.const 16) (call $length (local.get $b)))               ;; $b survived it all
    (call $output_results (i32.const 17))
    (i32.const 0))
  (func (export "error_forged") (result i32) (call $error_set (i64.const 0xdeadbeef)) (i32.const 1))
  (func (export "error_freed") (result i32) (local $h i64)
    (local.set $h (call $alloc (i64.const 4)))
    (call $store_u8 (local.get $h) (i32.const 0x21))
    (call $free (local.get $h))
    (call $error_set (local.get $h))
    (i32.const 1))
  ;; output_set(h, len) with a 16-byte block and len = the input's length, or 2^64 - 8.
  (func (export "output_len") (result i32) (local $h i64)
    (local.set $h (call $alloc (i64.const 16)))
    (call $store_u64 (local.get $h) (i64.const 0x4141414141414141))
    (call $store_u64 (i64.add (local.get $h) (i64.const 8)) (i64.const 0x4242424242424242))
    (call $output_set (local.get $h) (call $input_length))
    (i32.const 0))
  (func (export "output_wrap") (result i32) (local $h i64)
    (local.set $h (call $alloc (i64.const 16)))
    (call $output_set (local.get $h) (i64.const -8))
    (i32.const 0))
  ;; Zero bytes at the very end of the used region: an empty output, not an error.
  (func (export "output_empty_at_end") (result i32) (local $h i64)
    (local.set $h (call $alloc (i64.const 16)))
    (call $output_set (i64.add (local.get $h) (i64.const 16)) (i64.const 0))
    (i32.const 0))

  ;; ---- class 20: kernel bytes of an earlier call must not be readable ----
  ;; Fills a 64-byte block with 0x5A.
  (func (export "fill_block") (result i32) (local $h i64) (local $i i64)
    (local.set $h (call $alloc (i64.const 64)))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (i64.const 64)))
      (call $store_u64 (i64.add (local.get $h) (local.get $i)) (i64.const 0x5A5A5A5A5A5A5A5A))
      (local.set $i (i64.add (local.get $i) (i64.const 8)))
      (br $next)))
    (i32.const 0))
  ;; Allocates 1 byte and reads the 8 bytes at its handle (its rounding slack is in the region).
  (func (export "peek_alloc") (result i32)
    (call $r (i32.const 0) (call $load_u64 (call $alloc (i64.const 1))))
    (call $output_results (i32.const 1))
    (i32.const 0))
  ;; Reads the 8 bytes at the input's handle (the input is 1 byte; the rest is slack).
  (func (export "peek_input") (result i32)
    (call $r (i32.const 0) (call $load_u64 (call $input_offset)))
    (call $output_results (i32.const 1))
    (i32.const 0))

  ;; ---- class 23: caps ----
  ;; var "k" = the input (input empty: the var is removed).
  (func (export "set_var") (result i32) (local $k i64)
    (local.set $k (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $k) (i32.const 0x6b))
    (call $var_set (local.get $k) (call $input_offset))
    (i32.const 0))
  ;; Logs the input three times (log_info frees its block: a copy each time).
  (func (export "log3") (result i32)
    (call $log_info (call $dup (call $input_offset)))
    (call $log_info (call $dup (call $input_offset)))
    (call $log_info (call $dup (call $input_offset)))
    (i32.const 0))
  ;; An output of input_length * 64 KiB zero bytes.
  (func (export "big_output") (result i32) (local $n i64) (local $h i64)
    (local.set $n (i64.shl (call $input_length) (i64.const 16)))
    (local.set $h (call $alloc (local.get $n)))
    (call $output_set (local.get $h) (local.get $n))
    (i32.const 0))

  ;; ---- class 24: the embedder's host function copies the input into a new block ----
  (func (export "host_dup") (result i32) (local $h i64)
    (local.set $h (call $host_dup (call $input_offset)))
    (call $output_set (local.get $h) (call $length (local.get $h)))
    (i32.const 0))
)
