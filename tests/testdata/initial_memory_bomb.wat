;; Declares 65,536 initial pages (4 GiB) and touches its last byte in the start function: a budget
;; of 1 page must refuse it before anything runs (tests/budget_test.cc, tests/plugin_test.cc).
(module
  (memory (export "memory") 65536)
  (global $ran (export "ran") (mut i32) (i32.const 0))
  (func $start (i32.store8 (i32.const 0xFFFFFFFF) (i32.const 1)) (global.set $ran (i32.const 1)))
  (start $start)
  (func (export "run") (result i32) (i32.const 0))
)
