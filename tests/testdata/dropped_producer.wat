;; A value computed into the top stack slot, then dropped, must not be mistaken for the entry below
;; it by the next consumer: local.set/local.tee (which retarget the producer's write) and if/br_if
;; (which fuse with a comparison). Each export returns its expected value when compiled right;
;; tests/compiler_test.cc calls them with fuel off and on. One export per kind of producer.
(module
  (memory 1)
  (global $g (mut i32) (i32.const 99))
  (data (i32.const 0) "\2a\00\00\00")
  (table 1 funcref)
  (elem (i32.const 0) $seven)
  (func $seven (result i32) (i32.const 7))

  ;; The issue's example: returns 7, not 1.
  (func (export "set_after_dropped_compare") (result i32) (local i32)
    i32.const 3 i32.const 4 i32.add
    i32.const 0 i32.eqz drop
    local.set 0 local.get 0)
  (func (export "tee_after_dropped_compare") (result i32) (local i32)
    i32.const 3 i32.const 4 i32.add
    i32.const 0 i32.eqz drop
    local.tee 0 drop local.get 0)
  (func (export "set_after_dropped_binary") (param i32) (result i32)
    local.get 0 i32.const 2 i32.mul
    local.get 0 i32.const 100 i32.add drop
    local.set 0 local.get 0)
  (func (export "set_after_dropped_unary") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add
    local.get 0 i32.clz drop
    local.set 0 local.get 0)
  (func (export "set_after_dropped_load") (result i32) (local i32)
    i32.const 5 i32.const 6 i32.add
    i32.const 0 i32.load drop
    local.set 0 local.get 0)
  (func (export "set_after_dropped_select") (param i32) (result i32)
    local.get 0 i32.const 3 i32.sub
    i32.const 1 i32.const 2 local.get 0 select drop
    local.set 0 local.get 0)
  (func (export "set_after_dropped_global") (result i32) (local i32)
    i32.const 8 i32.const 9 i32.add
    global.get $g drop
    local.set 0 local.get 0)
  (func (export "set_after_dropped_is_null") (result i32) (local i32)
    i32.const 20 i32.const 1 i32.sub
    ref.null func ref.is_null drop
    local.set 0 local.get 0)
  (func (export "set_after_dropped_ref_func") (result funcref) (local funcref)
    i32.const 0 table.get 0
    ref.func $seven drop
    local.set 0 local.get 0)
  ;; Two drops: the record is two entries above.
  (func (export "set_after_two_drops") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add
    local.get 0 i32.const 2 i32.add
    local.get 0 i32.const 3 i32.add drop drop
    local.set 0 local.get 0)
  ;; if / br_if after a dropped comparison: branch on the value below (0 here), not on the dropped 1.
  (func (export "if_after_dropped_compare") (param i32) (result i32)
    local.get 0 i32.const 0 i32.add
    local.get 0 local.get 0 i32.eq drop
    if (result i32) i32.const 10 else i32.const 20 end)
  (func (export "br_if_after_dropped_compare") (param i32) (result i32)
    block (result i32)
      i32.const 30
      local.get 0 i32.const 0 i32.add
      local.get 0 local.get 0 i32.eq drop
      br_if 0
      drop i32.const 40
    end)
  (func (export "if_after_dropped_eqz") (param i32) (result i32)
    local.get 0 i32.const 0 i32.add
    local.get 0 i32.eqz drop
    if (result i32) i32.const 10 else i32.const 20 end)
  ;; The producer's value is what is kept (no drop): fusion and retargeting still apply.
  (func (export "set_of_producer_itself") (param i32) (result i32)
    local.get 0 i32.const 5 i32.add local.set 0 local.get 0)
  (func (export "if_on_compare_itself") (param i32) (result i32)
    local.get 0 i32.const 3 i32.lt_s
    if (result i32) i32.const 1 else i32.const 2 end)
)
