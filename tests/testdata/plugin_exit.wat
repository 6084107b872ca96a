;; proc_exit with the input's length as the exit code.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (memory (export "memory") 1)
  (func (export "exit") (result i32)
    (call $exit (i32.wrap_i64 (call $input_length))) (i32.const 99)))
