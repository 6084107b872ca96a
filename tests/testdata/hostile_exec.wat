;; The guest of tests/hostile_class_test.cc for the execution classes of
;; ../shared/hostile-classes.md (9, 11, 12, 13, 14, 16, 20, 24). One export per probe.
(module $hostile_exec
  (type $to_i32 (func (result i32)))
  (type $to_i32_again (func (result i32)))  ;; structurally equal to $to_i32, another index
  (type $to_i64 (func (result i64)))
  (import "env" "host_grow" (func $host_grow (param i32) (result i32)))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "memory") 1 10)
  ;; slot 0: $seven ($to_i32), 1: $seven_i64 ($to_i64), 2: null, 3: $eight ($to_i32_again)
  (table $slots (export "slots") 4 funcref)
  (elem (table $slots) (i32.const 0) func $seven $seven_i64)
  (elem (table $slots) (i32.const 3) func $eight)
  ;; A second table for table.copy/table.init edges, and a passive segment of 3 functions.
  (table $t2 (export "t2") 4 funcref)
  (elem $passive func $one $two $three)
  (data $pdata "ABCD")
  (data (i32.const 0) "init")
  (global $g (export "g") (mut i32) (i32.const 42))
  (global $gl (mut i64) (i64.const -7))

  (func $seven (type $to_i32) (i32.const 7))
  (func $seven_i64 (type $to_i64) (i64.const 7))
  (func $eight (type $to_i32_again) (i32.const 8))
  (func $one (type $to_i32) (i32.const 1))
  (func $two (type $to_i32) (i32.const 2))
  (func $three (type $to_i32) (i32.const 3))

  ;; ---- class 11: call_indirect ----
  (func (export "call_slot") (param i32) (result i32)
    (call_indirect $slots (type $to_i32) (local.get 0)))
  (func (export "call_slot_again") (param i32) (result i32)
    (call_indirect $slots (type $to_i32_again) (local.get 0)))
  (func (export "call_t2") (param i32) (result i32)
    (call_indirect $t2 (type $to_i32) (local.get 0)))

  ;; ---- class 12: br_table clamps to the default ----
  ;; Targets 0, 1, 2 return 10, 11, 12; the default returns 99.
  (func (export "br_table3") (param i32) (result i32)
    (block $default
      (block $c2
        (block $c1
          (block $c0
            (br_table $c0 $c1 $c2 $default (local.get 0)))
          (return (i32.const 10)))
        (return (i32.const 11)))
      (return (i32.const 12)))
    (i32.const 99))
  ;; No targets at all: every index takes the default.
  (func (export "br_table0") (param i32) (result i32)
    (block $default (br_table $default (local.get 0)) (return (i32.const 0)))
    (i32.const 99))
  ;; A value carried to the chosen label.
  (func (export "br_table_value") (param i32) (result i32)
    (block $d (result i32)
      (block $a (result i32)
        (br_table $a $d (i32.const 5) (local.get 0)))
      (i32.const 100) (i32.add))
    (i32.const 1000) (i32.add))

  ;; ---- class 13: bulk memory and tables ----
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $pdata (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop_data") (data.drop $pdata))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "table_init") (param i32 i32 i32) (table.init $t2 $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "table_copy") (param i32 i32 i32) (table.copy $t2 $t2 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "table_copy_from_slots") (param i32 i32 i32) (table.copy $t2 $slots (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop_elem") (elem.drop $passive))
  (func (export "t2_is_null") (param i32) (result i32) (ref.is_null (table.get $t2 (local.get 0))))

  ;; ---- class 14: memory.grow ----
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))

  ;; ---- class 16: recursion ----
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  ;; Mutual recursion through the table (no direct call cycle).
  (elem (table $slots) (i32.const 2) func $bounce)
  (func $bounce (type $to_i32) (call_indirect $slots (type $to_i32) (i32.const 2)))
  (func (export "bounce") (result i32) (call $bounce))
  ;; Guest -> host -> guest -> host ...: the host function "reenter" calls "down" again.
  (func (export "down") (param i32) (result i32)
    (call $reenter (i32.add (local.get 0) (i32.const 1))))

  ;; ---- class 20: state that must not leak into the next instance ----
  (func (export "write_secret")
    (memory.fill (i32.const 0) (i32.const 0x5A) (i32.const 65536))
    (global.set $g (i32.const 0x5EC2E7))
    (global.set $gl (i64.const 0x5EC2E75EC2E7))
    (table.set $slots (i32.const 1) (ref.func $seven))
    (table.set $t2 (i32.const 0) (ref.func $seven)))
  (func (export "gl") (result i64) (global.get $gl))
  ;; Sum of every byte of memory: 0x69+0x6e+0x69+0x74 ("init") for a fresh instance.
  (func (export "memory_sum") (result i64) (local $i i32) (local $sum i64)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.mul (memory.size) (i32.const 65536))))
      (local.set $sum (i64.add (local.get $sum) (i64.load8_u (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $sum))

  ;; ---- class 24: the host grows memory under the guest's feet ----
  ;; Writes a marker at 0, asks the host to grow by $pages, then writes and reads back the last
  ;; 4 bytes of the new memory and the marker: the interpreter must reload the memory base.
  (func (export "grow_through_host") (param $pages i32) (result i32) (local $top i32)
    (i32.store (i32.const 8) (i32.const 0x01020304))
    (drop (call $host_grow (local.get $pages)))
    (local.set $top (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)))
    (i32.store (local.get $top) (i32.const 0x0A0B0C0D))
    (i32.add (i32.load (local.get $top)) (i32.load (i32.const 8))))
)
