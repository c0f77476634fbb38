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
            Expr::Cmp(op, a, b) => {
                // CEL compares an int with a double only after a cast: both as doubles then.
                let mixed = [self.operand_type(a, scope), self.operand_type(b, scope)];
                let floats = mixed.contains(&Some(ValueType::Int)) && mixed.contains(&Some(ValueType::Float));
                let side = |o: &Operand| -> Result<String, String> {
                    match (o, floats) {
                        (Operand::Literal(Value::Number(n)), true) => {
                            Ok(format!("{:?}", n.as_f64().unwrap_or_default()))
                        }
                        (Operand::Ref(_), true) => self.operand_as(o, scope, Some(ValueType::Float)),
                        _ => self.operand(o, scope),
                    }
                };
                format!("{} {} {}", side(a)?, op.text(), side(b)?)
            }
        })
    }

    /// The type of one side of a comparison, where known.
    fn operand_type(&self, o: &Operand, scope: &Scope<'_>) -> Option<ValueType> {
        match o {
            Operand::Literal(v) => Some(ValueType::of(v)),
            Operand::Ref(Ref::Param(p)) => scope.params.get(p).copied(),
            Operand::Ref(Ref::Output { task, output }) => self.output_type(task, output),
            Operand::Ref(Ref::Item { var, field: None }) => {
                scope.items.get(var).and_then(|c| scope.channels.get(c)).copied()
            }
            Operand::Ref(Ref::Item { .. }) => None,
        }
    }

    /// One side of a comparison: a literal, or the channel of a reference.
    fn operand(&self, o: &Operand, scope: &Scope<'_>) -> Result<String, String> {
        self.operand_as(o, scope, None)
    }

    /// One side of a comparison, a reference cast as `cast` says (else by its own type).
    fn operand_as(&self, o: &Operand, scope: &Scope<'_>, cast: Option<ValueType>) -> Result<String, String> {
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
        Ok(match cast.or(ty) {
            Some(ValueType::Int) => format!("int({value})"),
            Some(ValueType::Float) => format!("double({value})"),
            _ => value,
        })
    }
}
