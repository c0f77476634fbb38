//! Components built against `wasmpipe:pipeline@0.1.0`: what crosses the boundary is converted
//! between the 0.1.0 types and the current ones, which have the same shapes but for
//! `failure-kind` (0.2.0 added `internal`, which a 0.1.0 component receives as `error`). Only
//! such components pay for the conversion.

use super::wit::types as new;
use super::wit::v0_1::types as old;

/// A conversion between the two versions' types.
pub(crate) trait Convert<T> {
    fn convert(self) -> T;
}

impl<A: Convert<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<A: Convert<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

impl<A: Convert<B>, B, C: Convert<D>, D> Convert<(B, D)> for (A, C) {
    fn convert(self) -> (B, D) {
        (self.0.convert(), self.1.convert())
    }
}

/// Types that are the same in both versions.
macro_rules! same {
    ($($t:ty),*) => {
        $(impl Convert<$t> for $t {
            fn convert(self) -> $t {
                self
            }
        })*
    };
}
same!(String, bool, u32, u64, i64, f64);

/// Records with the same fields in both versions: converted field by field, each way.
macro_rules! record {
    ($name:ident { $($field:ident),* }) => {
        impl Convert<new::$name> for old::$name {
            fn convert(self) -> new::$name {
                new::$name { $($field: self.$field.convert()),* }
            }
        }
        impl Convert<old::$name> for new::$name {
            fn convert(self) -> old::$name {
                old::$name { $($field: self.$field.convert()),* }
            }
        }
    };
}
record!(Value { nodes });
record!(Artifact { path, name, size, digest, metadata });
record!(ArtifactType { kind, directory });
record!(InputSpec { name, type_, required, default, description });
record!(OutputSpec { name, type_, description });
record!(Signature { name, description, inputs, outputs });
record!(Context { run_id, task_id, attempt });
record!(TaskFailure { task, kind, message, trap_code, cached, exit_handler });
record!(FinalStatus { state, run_id, group, failures });

/// Variants and enums whose cases are the same in both versions, converted each way.
macro_rules! cases {
    ($name:ident { $($case:ident $(($x:ident))?),* }) => {
        impl Convert<new::$name> for old::$name {
            fn convert(self) -> new::$name {
                match self {
                    $(old::$name::$case $(($x))? => new::$name::$case $(($x.convert()))?),*
                }
            }
        }
        impl Convert<old::$name> for new::$name {
            fn convert(self) -> old::$name {
                match self {
                    $(new::$name::$case $(($x))? => old::$name::$case $(($x.convert()))?),*
                }
            }
        }
    };
}
cases!(Node { Null, Str(x), Int(x), Float(x), Boolean(x), ListOf(x), DictOf(x) });
cases!(PortType { Str, Int, Float, Boolean, ListOf, DictOf, Any, FinalStatus, Artifact(x) });
cases!(State { Succeeded, Failed, Cancelled });
cases!(InputValue { Value(x), FinalStatus(x), Artifact(x) });
cases!(OutputValue { Value(x), Artifact(x) });

impl Convert<new::FailureKind> for old::FailureKind {
    fn convert(self) -> new::FailureKind {
        use {new::FailureKind as N, old::FailureKind as O};
        match self {
            O::Error => N::Error,
            O::Trap => N::Trap,
            O::Timeout => N::Timeout,
            O::MemoryLimit => N::MemoryLimit,
            O::FuelExhausted => N::FuelExhausted,
            O::OutputLimit => N::OutputLimit,
            O::Load => N::Load,
            O::Input => N::Input,
            O::Cancelled => N::Cancelled,
        }
    }
}

/// `internal` did not exist in 0.1.0: such a component receives `error`, as the WIT says.
impl Convert<old::FailureKind> for new::FailureKind {
    fn convert(self) -> old::FailureKind {
        use {new::FailureKind as N, old::FailureKind as O};
        match self {
            N::Error | N::Internal => O::Error,
            N::Trap => O::Trap,
            N::Timeout => O::Timeout,
            N::MemoryLimit => O::MemoryLimit,
            N::FuelExhausted => O::FuelExhausted,
            N::OutputLimit => O::OutputLimit,
            N::Load => O::Load,
            N::Input => O::Input,
            N::Cancelled => O::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ensures that a final status with an `internal` failure reaches a 0.1.0 component as
    /// `error`, the rest unchanged, and that values cross both ways unchanged.
    #[test]
    fn internal_becomes_error_and_values_cross_unchanged() {
        let failure = |kind| new::TaskFailure {
            task: "g/a".into(),
            kind,
            message: "m".into(),
            trap_code: None,
            cached: false,
            exit_handler: false,
        };
        let status = new::FinalStatus {
            state: new::State::Failed,
            run_id: "r".into(),
            group: "g".into(),
            failures: vec![failure(new::FailureKind::Internal), failure(new::FailureKind::Trap)],
        };
        let old_status: old::FinalStatus = status.convert();
        let kinds: Vec<old::FailureKind> = old_status.failures.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [old::FailureKind::Error, old::FailureKind::Trap]);
        assert_eq!(old_status.state, old::State::Failed);

        let value = new::Value {
            nodes: vec![
                new::Node::DictOf(vec![("k".into(), 1)]),
                new::Node::ListOf(vec![2, 3]),
                new::Node::Float(f64::NAN),
                new::Node::Str("s".into()),
            ],
        };
        let back: new::Value = Convert::<old::Value>::convert(value.clone()).convert();
        assert_eq!(format!("{back:?}"), format!("{value:?}"));
    }
}
