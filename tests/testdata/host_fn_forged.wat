;; Hands an embedder's function a forged kernel handle: the gate refuses the call before the
;; callback runs (its parameter has the Handle role).
(module
  (import "extism:host/user" "reverse" (func $reverse (param i64) (result i64)))
  (func (export "forged") (result i32)
    (drop (call $reverse (i64.const 0xdead)))
    (i32.const 0))
  (func (export "null") (result i32)
    (drop (call $reverse (i64.const 0)))
    (i32.const 0)))
