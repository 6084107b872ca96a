;; Main module of the reactor test: its own _initialize records what side's init count was then;
;; `run` returns 10 * (that count) + (the count now), so 11 means "side initialised once, first".
(module
  (import "side" "inits" (func $side_inits (result i32)))
  (global $seen (mut i32) (i32.const -1))
  (func (export "_initialize") (global.set $seen (call $side_inits)))
  (func (export "run") (result i32)
    (i32.add (i32.mul (global.get $seen) (i32.const 10)) (call $side_inits))))
