;; Class 22 of ../shared/hostile-classes.md: a host call (WASI poll_oneoff, a one-minute sleep)
;; must end with the call's *remaining* timeout, on every call, not only the first.
(module $hostile_plugin_wasi
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func $now (result i64)
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 512)))
    (i64.load (i32.const 512)))
  ;; One clock subscription (monotonic, relative) of 60 s at 0; the event goes to 256.
  (func $sleep_a_minute
    (i64.store (i32.const 0) (i64.const 0x1234))       ;; userdata
    (i32.store8 (i32.const 8) (i32.const 0))           ;; tag: clock
    (i32.store (i32.const 16) (i32.const 1))           ;; monotonic
    (i64.store (i32.const 24) (i64.const 60000000000)) ;; 60 s
    (i64.store (i32.const 32) (i64.const 0))
    (i32.store16 (i32.const 40) (i32.const 0))         ;; relative
    (drop (call $poll_oneoff (i32.const 0) (i32.const 256) (i32.const 1) (i32.const 600))))
  (func (export "sleep") (result i32) (call $sleep_a_minute) (i32.const 0))
  ;; Spins in Wasm for 600 ms of the budget, then sleeps.
  (func (export "spin_then_sleep") (result i32) (local $end i64)
    (local.set $end (i64.add (call $now) (i64.const 600000000)))
    (block $done (loop $spin
      (br_if $done (i64.ge_u (call $now) (local.get $end)))
      (br $spin)))
    (call $sleep_a_minute)
    (i32.const 0))
)
