;; A plugin for the snapshot tests (tests/snapshot_test.cc, tests/plugin_host_test.cc): its init
;; leaves state in every kind of object a snapshot carries (memory, a page it grew, globals, a
;; table slot, dropped segments, a var) and tells the host it ran; `keep` stores the input (a
;; tenant's secret) in memory, a global, the grown page and a var; `state` outputs what it sees.
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/env" "var_set" (func $var_set (param i64 i64)))
  (import "extism:host/env" "var_get" (func $var_get (param i64) (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/user" "init_seen" (func $init_seen))
  (type $int (func (result i32)))
  (memory (export "memory") 2)
  (table 4 funcref)
  (global $inits (mut i32) (i32.const 0))
  (global $secret_len (mut i32) (i32.const 0))
  (data (i32.const 1024) "secretinit")
  (data $passive "PASSIVE")
  (elem $later func $seven)
  (func $seven (result i32) (i32.const 7))

  ;; A kernel block holding memory [ptr, ptr + len).
  (func $block (param $ptr i32) (param $len i32) (result i64) (local $h i64) (local $i i32)
    (local.set $h (call $alloc (i64.extend_i32_u (local.get $len))))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $store_u8 (i64.add (local.get $h) (i64.extend_i32_u (local.get $i)))
                        (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (local.get $h))
  ;; The length of var `key` (memory [ptr, ptr + len)), 0 when unset.
  (func $var_length (param $ptr i32) (param $len i32) (result i32) (local $h i64)
    (local.set $h (call $var_get (call $block (local.get $ptr) (local.get $len))))
    (if (result i32) (i64.eqz (local.get $h))
      (then (i32.const 0))
      (else (i32.wrap_i64 (call $length (local.get $h))))))

  (func (export "_initialize")
    (global.set $inits (i32.add (global.get $inits) (i32.const 1)))
    (call $init_seen)
    (i32.store (i32.const 2048) (i32.const 0x54494E49))  ;; "INIT"
    (drop (memory.grow (i32.const 1)))
    (i32.store8 (i32.const 131072) (i32.const 0x5A))
    (table.init $later (i32.const 3) (i32.const 0) (i32.const 1))
    (elem.drop $later)
    (memory.init $passive (i32.const 3000) (i32.const 0) (i32.const 7))
    (data.drop $passive)
    ;; var "init" = "init"
    (call $var_set (call $block (i32.const 1030) (i32.const 4))
                   (call $block (i32.const 1030) (i32.const 4))))

  ;; The input (at most 16 bytes) in memory at 4096, its length in a global, its first byte on
  ;; the page init grew, and in var "secret".
  (func (export "keep") (result i32) (local $n i32) (local $i i32)
    (local.set $n (i32.wrap_i64 (call $input_length)))
    (if (i32.gt_u (local.get $n) (i32.const 16)) (then (local.set $n (i32.const 16))))
    (block $done
      (loop $copy
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (i32.add (i32.const 4096) (local.get $i))
                    (call $input_load_u8 (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $copy)))
    (global.set $secret_len (local.get $n))
    (i32.store8 (i32.const 131073) (i32.load8_u (i32.const 4096)))
    (call $var_set (call $block (i32.const 1024) (i32.const 6))
                   (call $block (i32.const 4096) (local.get $n)))
    (i32.const 0))

  ;; 52 bytes: inits, secret length, table[3](), the word at 2048, the 16 bytes at 4096, memory
  ;; size in pages, the bytes at 131072 and 131073 (and two zeros), the lengths of vars "secret"
  ;; and "init", the 4 bytes at 3000 (what memory.init copied in init).
  (func (export "state") (result i32)
    (i32.store (i32.const 8192) (global.get $inits))
    (i32.store (i32.const 8196) (global.get $secret_len))
    (i32.store (i32.const 8200) (call_indirect (type $int) (i32.const 3)))
    (i32.store (i32.const 8204) (i32.load (i32.const 2048)))
    (memory.copy (i32.const 8208) (i32.const 4096) (i32.const 16))
    (i32.store (i32.const 8224) (memory.size))
    (i32.store (i32.const 8228) (i32.load16_u (i32.const 131072)))
    (i32.store (i32.const 8232) (call $var_length (i32.const 1024) (i32.const 6)))
    (i32.store (i32.const 8236) (call $var_length (i32.const 1030) (i32.const 4)))
    (i32.store (i32.const 8240) (i32.load (i32.const 3000)))
    (call $output_set (call $block (i32.const 8192) (i32.const 52)) (i64.const 52))
    (i32.const 0))

  ;; Traps when init's data.drop is in force (the segment is then empty).
  (func (export "reinit") (result i32)
    (memory.init $passive (i32.const 0) (i32.const 0) (i32.const 7))
    (i32.const 0)))
