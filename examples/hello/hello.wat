;; A minimal WASI command: writes a greeting to stdout and exits with status 0.
;; It asks its host for exactly two capabilities, fd_write and proc_exit, which is what
;; `warden inspect` lists under "host capabilities requested".
(module $hello
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit"
    (func $proc_exit (param i32)))

  (memory (export "memory") 1)

  ;; An iovec at 0: {buf = 16, len = 19}; the message at 16.
  (data (i32.const 0) "\10\00\00\00\13\00\00\00")
  (data (i32.const 16) "hello from warden!\0a")

  (func $_start (export "_start")
    (local $errno i32)
    (local.set $errno
      (call $fd_write
        (i32.const 1)    ;; stdout
        (i32.const 0)    ;; iovecs
        (i32.const 1)    ;; one iovec
        (i32.const 8)))  ;; where to store the number of bytes written
    (call $proc_exit (local.get $errno))))
