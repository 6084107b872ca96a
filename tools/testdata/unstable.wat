;; A module of the older `wasi_unstable` (snapshot 0) ABI, whose differences from preview1
;; warden run handles: fd_seek's whence (cur 0, end 1, set 2), the 56-byte filestat (nlink is
;; 32 bits at 20, size at 24), the 56-byte poll subscription (clock_id at 24, timeout at 32).
;; The --invoke exports below expect a mount at fd 3 holding "ten.txt" of 10 bytes.
(module
  (import "wasi_unstable" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_unstable" "path_filestat_get"
    (func $path_filestat_get (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_unstable" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasi_unstable\n")
  (data (i32.const 64) "ten.txt")

  ;; fd_write(1, [16, 25]): the greeting on stdout.
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 25))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Opens ten.txt in fd 3 and seeks 3 bytes back from its end with snapshot 0's whence "end"
  ;; (1): the new offset, 7; -errno on failure.
  (func (export "seek_from_end") (result i64)
    (local $e i32)
    (local.set $e (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 7)
      (i32.const 0) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 100)))
    (if (local.get $e) (then (return (i64.extend_i32_u (i32.sub (i32.const 0) (local.get $e))))))
    (local.set $e (call $fd_seek (i32.load (i32.const 100)) (i64.const -3) (i32.const 1)
      (i32.const 104)))
    (if (local.get $e) (then (return (i64.extend_i32_u (i32.sub (i32.const 0) (local.get $e))))))
    (i64.load (i32.const 104)))

  ;; path_filestat_get of ten.txt into 56 bytes at 200, with 0xAA canaries in the 8 bytes before
  ;; and after: size (at 24) * 1000 + nlink (at 20, 32 bits) * 10 + canaries intact (1); or
  ;; -errno.
  (func (export "filestat") (result i64)
    (local $e i32)
    (i64.store (i32.const 192) (i64.const 0xAAAAAAAAAAAAAAAA))
    (i64.store (i32.const 256) (i64.const 0xAAAAAAAAAAAAAAAA))
    (local.set $e (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 64)
      (i32.const 7) (i32.const 200)))
    (if (local.get $e) (then (return (i64.extend_i32_u (i32.sub (i32.const 0) (local.get $e))))))
    (i64.add
      (i64.add (i64.mul (i64.load (i32.const 224)) (i64.const 1000))
               (i64.mul (i64.load32_u (i32.const 220)) (i64.const 10)))
      (i64.extend_i32_u
        (i32.and (i64.eq (i64.load (i32.const 192)) (i64.const 0xAAAAAAAAAAAAAAAA))
                 (i64.eq (i64.load (i32.const 256)) (i64.const 0xAAAAAAAAAAAAAAAA))))))

  ;; The same with the buffer at the very end of memory (56 bytes left): still served.
  (func (export "filestat_at_end") (result i32)
    (call $path_filestat_get (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 7)
      (i32.const 65480)))

  ;; One relative clock subscription of 1 ms (snapshot 0 layout, userdata 77) at 300: the
  ;; event's userdata * 10 + its error, or -errno of the call.
  (func (export "sleep") (result i64)
    (local $e i32)
    (i64.store (i32.const 300) (i64.const 77))           ;; userdata
    (i32.store8 (i32.const 308) (i32.const 0))           ;; tag: clock
    (i64.store (i32.const 316) (i64.const 0))            ;; identifier
    (i32.store (i32.const 324) (i32.const 1))            ;; clock_id: monotonic
    (i64.store (i32.const 332) (i64.const 1000000))      ;; timeout: 1 ms
    (i64.store (i32.const 340) (i64.const 0))            ;; precision
    (i32.store16 (i32.const 348) (i32.const 0))          ;; flags: relative
    (local.set $e (call $poll_oneoff (i32.const 300) (i32.const 400) (i32.const 1) (i32.const 500)))
    (if (local.get $e) (then (return (i64.extend_i32_u (i32.sub (i32.const 0) (local.get $e))))))
    (i64.add (i64.mul (i64.load (i32.const 400)) (i64.const 10))
             (i64.extend_i32_u (i32.load16_u (i32.const 408))))))
