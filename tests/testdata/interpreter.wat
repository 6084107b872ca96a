;; The guest of tests/interpreter_test.cc: one export per behaviour under test.
(module $interpreter_test
  (type $to_i32 (func (result i32)))
  (type $to_i64 (func (result i64)))
  (import "env" "fail" (func $fail))
  (import "env" "host_add" (func $host_add (param i32 i32) (result i32)))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (import "env" "host_grow" (func $host_grow (result i32)))
  (memory 1 10)
  (table $slots 3 funcref)
  (elem (table $slots) (i32.const 0) func $seven $seven_i64)  ;; slot 2 stays null
  (global $progress (export "progress") (mut i32) (i32.const 0))

  (func $seven (type $to_i32) (i32.const 7))
  (func $seven_i64 (type $to_i64) (i64.const 7))

  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func (export "unreachable") (unreachable))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load_offset") (param i32) (result i32) (i32.load offset=0xFFFFFFFF (local.get 0)))
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "call_slot") (param i32) (result i32) (call_indirect (type $to_i32) (local.get 0)))
  (func (export "table_get") (param i32) (result funcref) (table.get $slots (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "spin") (loop $forever (br $forever)))
  ;; Counts up forever, publishing its progress: how far it got shows where fuel stopped it.
  (func (export "count")
    (loop $next
      (global.set $progress (i32.add (global.get $progress) (i32.const 1)))
      (br $next)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
;; memory.grow in a callee, or by the host, then a store and load in the new page after the
  ;; return: the caller must see the grown memory (the interpreter reloads the memory's base and
  ;; size only where they can change). Returns the value read back.
  (func $grow_one (result i32) (memory.grow (i32.const 1)))
  (func $store_load_page (param $page i32) (result i32)
    (i32.store (i32.mul (local.get $page) (i32.const 65536)) (i32.const 42))
    (i32.load (i32.mul (local.get $page) (i32.const 65536))))
  (func (export "grow_in_callee") (result i32) (call $store_load_page (call $grow_one)))
  (func (export "grow_in_host") (result i32) (call $store_load_page (call $host_grow)))
  (func (export "fill") (param i32) (memory.fill (i32.const 0) (i32.const 1) (local.get 0)))
  (func $inner (unreachable))
  (func $middle (call $inner))
  (func $outer (export "outer") (call $middle))
  (func $call_fail (export "call_fail") (call $fail))
  (func (export "use_host") (result i32) (call $host_add (i32.const 2) (i32.const 3)))
  (func (export "use_reenter") (param i32) (result i32) (call $reenter (local.get 0))))
