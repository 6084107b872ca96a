;; Class 9 of ../shared/hostile-classes.md: valid modules whose operand-stack slot bookkeeping is
;; easy to get wrong (wasm3#477: a heap overflow in op_SetSlot_f64 on a *valid* module). Every
;; export's expected result is computed by hand in tests/hostile_class_test.cc.
(module $hostile_slots
  (func $id64 (param f64) (result f64) (local.get 0))
  (func $pair (param i32) (result i32 f64) (local.get 0) (f64.convert_i32_s (local.get 0)))

  ;; 48 copies of x on the operand stack, then 47 adds: 48 * x.
  (func (export "deep_stack") (param $x i32) (result i32)
    local.get $x local.get $x local.get $x local.get $x local.get $x local.get $x
    local.get $x local.get $x local.get $x local.get $x local.get $x local.get $x
    local.get $x local.get $x local.get $x local.get $x local.get $x local.get $x
    local.get $x local.get $x local.get $x local.get $x local.get $x local.get $x
    local.get $x local.get $x local.get $x local.get $x local.get $x local.get $x
    local.get $x local.get $x local.get $x local.get $x local.get $x local.get $x
    local.get $x local.get $x local.get $x local.get $x local.get $x local.get $x
    local.get $x local.get $x local.get $x local.get $x local.get $x local.get $x
    i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add
    i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add
    i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add
    i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add i32.add
    i32.add i32.add i32.add i32.add i32.add i32.add i32.add)

  ;; f64 values under an i32 select condition, through a call and back:
  ;; (c ? a : b) + id(a) * b.
  (func (export "f64_select") (param $a f64) (param $b f64) (param $c i32) (result f64)
    local.get $a
    local.get $b
    local.get $c
    select
    local.get $a
    call $id64
    local.get $b
    f64.mul
    f64.add)

  ;; A local is read, then overwritten while its old value is still on the stack:
  ;; old x + (x := x * 3) + x  =  x + 3x + 3x = 7x.
  (func (export "stale_local") (param $x i32) (result i32)
    local.get $x
    local.get $x
    i32.const 3
    i32.mul
    local.tee $x
    i32.add
    local.get $x
    i32.add)

  ;; Multi-value through nested blocks and a br_if that carries values out: with c != 0 the
  ;; inner pair (1, 2) leaves early: 1*10 + 2 = 12; else the pair is swapped: 2*10 + 1 = 21.
  (func (export "multi_br") (param $c i32) (result i32) (local $hi i32) (local $lo i32)
    (block $out (result i32 i32)
      i32.const 1
      i32.const 2
      local.get $c
      br_if $out
      local.set $hi
      local.set $lo
      local.get $hi
      local.get $lo
      br $out)
    local.set $hi
    i32.const 10
    i32.mul
    local.get $hi
    i32.add)

  ;; A loop with two params (fib): n iterations of (a, b) -> (b, a + b) from (0, 1), the pair
  ;; living on the operand stack across the back edge; returns a = fib(n) (n >= 1).
  (func (export "fib") (param $n i32) (result i64) (local $t i64) (local $u i64)
    i64.const 0
    i64.const 1
    (loop $next (param i64 i64) (result i64 i64)
      local.set $t
      local.get $t
      i64.add
      local.set $u
      local.get $t
      local.get $u
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next (i32.gt_s (local.get $n) (i32.const 0))))
    drop)

  ;; Values left below a call that returns two values of different types:
  ;; 100 + (x + int(f64(x))) = 100 + 2x.
  (func (export "under_call") (param $x i32) (result i32)
    i32.const 100
    local.get $x
    call $pair
    i32.trunc_f64_s
    i32.add
    i32.add)
)
