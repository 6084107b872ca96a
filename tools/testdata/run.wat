;; Exports for the `warden run --invoke` tests: arithmetic, a trap two calls deep, an endless
;; loop without calls (for --fuel and --timeout-ms), and memory growth (for --max-memory-pages).
(module $run_test
  (memory 1 100)
  (func $add (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1)))
  (func $divide (export "divide") (param i64 i64) (result i64)
    (i64.div_s (local.get 0) (local.get 1)))
  (func $inner (result i32)
    (i32.load (i32.const 65535)))  ;; straddles the end of the 1-page memory
  (func $outer (export "outer") (result i32)
    (call $inner))
  (func $spin (export "spin")
    (loop $forever (br $forever)))
  (func $grow (export "grow") (param i32) (result i32)
    (memory.grow (local.get 0)))
  (func $half (export "half") (param f64) (result f64)
    (f64.mul (local.get 0) (f64.const 0.5)))
  ;; v128 through the CLI: lanewise i16 add, and a lane of a v128 argument.
  (func $add16 (export "add16") (param v128 v128) (result v128)
    (i16x8.add (local.get 0) (local.get 1)))
  (func $lane3 (export "lane3") (param v128) (result i32)
    (i32x4.extract_lane 3 (local.get 0))))
