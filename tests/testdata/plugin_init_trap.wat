;; An init function that traps: instantiation is lazy, so creation succeeds and every call
;; reports the failed init (a failed init leaves no instance; the next call tries again).
(module
  (memory (export "memory") 1)
  (func (export "__wasm_call_ctors") (unreachable))
  (func (export "run") (result i32) (i32.const 0)))
