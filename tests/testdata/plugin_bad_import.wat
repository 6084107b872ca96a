;; Imports a name extism:host/env does not have: refused when the plugin is created.
(module
  (import "extism:host/env" "steal_secrets" (func (param i64) (result i64)))
  (func (export "run") (result i32) (i32.const 0)))
