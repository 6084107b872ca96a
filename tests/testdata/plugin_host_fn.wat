;; Calls a host function from the embedder: extism:host/user "reverse" takes the input handle
;; and returns a new handle, which becomes the output.
(module
  (import "extism:host/user" "reverse" (func $reverse (param i64) (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (func (export "run") (result i32) (local $h i64)
    (local.set $h (call $reverse (call $input_offset)))
    (call $output_set (local.get $h) (call $length (local.get $h)))
    (i32.const 0)))
