;; A WASI (preview 1) command for the container-component tests: writes its first argument
;; into the file its second argument names, which must be /out/NAME (the sandbox's /out is the
;; second preopened directory, fd 4).
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; argv pointers at 0, argc at 1024, the size of the arguments at 1028, the arguments at 2048
  (func (export "_start")
    (local $msg i32) (local $out i32) (local $end i32)
    (drop (call $args_sizes_get (i32.const 1024) (i32.const 1028)))
    (if (i32.lt_u (i32.load (i32.const 1024)) (i32.const 3)) (then (call $proc_exit (i32.const 2))))
    (drop (call $args_get (i32.const 0) (i32.const 2048)))
    (local.set $msg (i32.load (i32.const 4)))
    (local.set $out (i32.load (i32.const 8)))
    (local.set $end (i32.add (i32.const 2048) (i32.load (i32.const 1028))))
    ;; open argv[2] without its "/out/" (5 bytes) and its final NUL, in fd 4: create, truncate
    (if (call $path_open (i32.const 4) (i32.const 0)
          (i32.add (local.get $out) (i32.const 5))
          (i32.sub (i32.sub (local.get $end) (local.get $out)) (i32.const 6))
          (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 1032))
      (then (call $proc_exit (i32.const 3))))
    ;; write argv[1] (without its NUL)
    (i32.store (i32.const 1040) (local.get $msg))
    (i32.store (i32.const 1044) (i32.sub (i32.sub (local.get $out) (local.get $msg)) (i32.const 1)))
    (drop (call $fd_write (i32.load (i32.const 1032)) (i32.const 1040) (i32.const 1) (i32.const 1048)))))
