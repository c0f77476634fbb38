//! Pipelines for other engines: the same pipeline file, run where the user's cluster is.
//! [`kfp`] writes Kubeflow Pipelines' IR. What an engine cannot express is refused with the
//! construct and its place, never dropped.

pub mod kfp;
