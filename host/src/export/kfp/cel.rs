//! Conditions in KFP's CEL, as KFP's compiler writes them: each reference is the channel that
//! carries it into the group's task (`inputs.parameter_values['pipelinechannel--flip-Output']`),
//! numbers cast as KFP casts them (`int(...)`, `double(...)`).

use serde_json::Value;

use super::{Exporter, Scope, output_channel};
use crate::model::binding::Ref;
use crate::model::condition::{Expr, Operand};
use crate::model::value::ValueType;

impl Exporter<'_> {
    /// Condition `expr`, read by a group's task in the DAG of `scope`, in CEL.
    pub(super) fn cel(&self, expr: &Expr, scope: &Scope<'_>) -> Result<String, String> {
        let join = |parts: &[Expr], op: &str| -> Result<String, String> {
            let parts =
                parts.iter().map(|p| Ok(format!("({})", self.cel(p, scope)?))).collect::<Result<Vec<_>, String>>()?;
            Ok(parts.join(op))
        };
        Ok(match expr {
            Expr::And(parts) => join(parts, " && ")?,
            Expr::Or(parts) => join(parts, " || ")?,
            Expr::Not(inner) => format!("!({})", self.cel(inner, scope)?),
            Expr::Truth(o) => format!("{} == true", self.operand(o, scope)?),
            Expr::Cmp(op, a, b) => format!("{} {} {}", self.operand(a, scope)?, op.text(), self.operand(b, scope)?),
        })
    }

    /// One side of a comparison: a literal, or the channel of a reference.
    fn operand(&self, o: &Operand, scope: &Scope<'_>) -> Result<String, String> {
        let r = match o {
            Operand::Literal(Value::String(s)) => {
                return Ok(format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")));
            }
            Operand::Literal(v) => return Ok(v.to_string()),
            Operand::Ref(r) => r,
        };
        let (channel, ty) = match r {
            Ref::Param(p) => (format!("pipelinechannel--{p}"), scope.params.get(p).copied()),
            Ref::Output { task, output } => (output_channel(task, output), self.output_type(task, output)),
            Ref::Item { var, field: None } => {
                let channel = scope.items.get(var).ok_or_else(|| format!("`{r}` is read outside its loop"))?;
                (channel.clone(), scope.channels.get(channel).copied())
            }
            Ref::Item { .. } => {
                return Err(format!("`{r}`: a field of a loop item in a condition is not exported yet"));
            }
        };
        let value = format!("inputs.parameter_values['{channel}']");
        Ok(match ty {
            Some(ValueType::Int) => format!("int({value})"),
            Some(ValueType::Float) => format!("double({value})"),
            _ => value,
        })
    }
}
