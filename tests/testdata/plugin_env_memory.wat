;; Imports a memory from extism:host/env: refused (the kernel exports only functions).
(module
  (import "extism:host/env" "memory" (memory 1))
  (func (export "run") (result i32) (i32.const 0)))
