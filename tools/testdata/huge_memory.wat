;; A module whose memory starts at the 4 GiB maximum (65536 pages): instantiating it must not
;; commit 4 GiB, and the last bytes must be addressable.
(module
  (memory 65536)
  (func (export "last") (result i32)
    (i32.store (i32.const 0xFFFFFFFC) (i32.const 7))
    (i32.load (i32.const 0xFFFFFFFC))))
