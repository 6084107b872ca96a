;; Hands WASI functions pointers outside memory; each export returns the errno it got (21 =
;; EFAULT), which the Plugin reports as "Returned non-zero exit code: 21".
(module
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "dir_name") (result i32) (call $dir_name (i32.const 3) (i32.const 0xfffffff0) (i32.const 100)))
  (func (export "path_open") (result i32)
    (call $path_open (i32.const 3) (i32.const 0) (i32.const 65530) (i32.const 100) (i32.const 0)
                     (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
  (func (export "fd_read") (result i32) (call $fd_read (i32.const 0) (i32.const 65535) (i32.const 4) (i32.const 0)))
  (func (export "poll") (result i32) (call $poll (i32.const 65500) (i32.const 0) (i32.const 1) (i32.const 0)))
  (func (export "bad_fd") (result i32) (call $dir_name (i32.const 99) (i32.const 0) (i32.const 1))))
