;; Imports `double` from the module named "lib" and returns double(21) = 42 as its exit code,
;; so the call fails with "Returned non-zero exit code: 42" when linking worked.
(module
  (import "lib" "double" (func $double (param i32) (result i32)))
  (func (export "run") (result i32) (call $double (i32.const 21))))
