;; A plugin whose error text and HTTP requests come from its input, for tests/untrusted_text_test.cc:
;; the test sends terminal escapes, CR/LF and NUL through every path where plugin bytes become
;; text or reach libcurl.
(module
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "error_set" (func $error_set (param i64)))
  (import "extism:host/env" "http_request" (func $http_request (param i64 i64) (result i64)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (memory (export "memory") 1)
  ;; The input is the error message.
  (func (export "error_from_input") (result i32)
    (call $error_set (call $input_offset))
    (i32.const 1))
  ;; The input is the JSON request ({"url", "method", "headers"}); the response body is the output.
  (func (export "http_from_input") (result i32) (local $h i64)
    (local.set $h (call $http_request (call $input_offset) (i64.const 0)))
    (call $output_set (local.get $h) (call $length (local.get $h)))
    (i32.const 0))
)
