;; A reactor linked by name as "side" (tests/plugin_test.cc): its _initialize must run once, before
;; the main module's init; `inits` says how often it ran.
(module
  (global $inits (mut i32) (i32.const 0))
  (func (export "_initialize") (global.set $inits (i32.add (global.get $inits) (i32.const 1))))
  (func (export "inits") (result i32) (global.get $inits)))
