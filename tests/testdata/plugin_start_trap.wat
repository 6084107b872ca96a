;; The module's start function traps: instantiation itself fails, on the first call.
(module
  (memory (export "memory") 1)
  (func $start (i32.store (i32.const 70000) (i32.const 1)))  ;; out of bounds
  (start $start)
  (func (export "run") (result i32) (i32.const 0)))
