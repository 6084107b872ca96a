;; A plugin whose "add" export takes parameters, so it is not an Extism function, beside one that
;; is ("ok") and a memory.
(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "ok") (result i32) (i32.const 0)))
