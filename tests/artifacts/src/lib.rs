//! Paths of the guest components built for the tests: one constant per binary of
//! `tests/guests` and (prefixed `EXAMPLE_`) of `examples/components`.

include!(concat!(env!("OUT_DIR"), "/gen.rs"));
