;; Bulk instructions over a GiB (tests/budget_test.cc): each must stop on a deadline or cancel
;; between chunks, and chunked copies must keep memmove's semantics when the ranges overlap.
(module
  (memory (export "memory") 16385)  ;; 1 GiB + 1 page
  (func (export "fill_gib") (param $byte i32)
    (memory.fill (i32.const 0) (local.get $byte) (i32.const 0x40000000)))
  (func (export "copy_gib_up")
    (memory.copy (i32.const 65536) (i32.const 0) (i32.const 0x40000000)))
  (func (export "copy_gib_down")
    (memory.copy (i32.const 0) (i32.const 65536) (i32.const 0x40000000)))
  ;; Overlapping copies of n bytes by `shift` bytes, up or down.
  (func (export "copy") (param $dst i32) (param $src i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n)))
  (func (export "store") (param $at i32) (param $v i32) (i32.store8 (local.get $at) (local.get $v)))
  (func (export "load") (param $at i32) (result i32) (i32.load8_u (local.get $at)))
)
