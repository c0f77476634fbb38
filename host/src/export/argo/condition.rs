//! Branch conditions as Argo `expr` expressions over typed values.

use serde_json::Value;

use super::names::quoted;
use super::reference::Source;
use super::{Exporter, Local, Scope};
use crate::model::binding::Ref;
use crate::model::condition::{Expr, Operand};
use crate::model::value::ValueType;

/// What a condition reads, to refuse mixing what Argo resolves at different times.
#[derive(Default)]
pub(super) struct Uses {
    /// An input parameter of the DAG template (resolved when the DAG starts).
    pub(super) channel: bool,
    /// An output of a task of the DAG (resolved when the branch's task is reached).
    pub(super) sibling: bool,
}

impl Exporter<'_> {
    /// A condition as an `expr` expression over the values it reads: strings as they are,
    /// ints through `asInt`, floats through `asFloat`, bools compared with `'true'`.
    pub(super) fn expr(
        &self,
        expr: &Expr,
        scope: &Scope,
        local: &Local<'_>,
        uses: &mut Uses,
    ) -> Result<String, String> {
        let parts = |items: &[Expr], join: &str, uses: &mut Uses| -> Result<String, String> {
            let texts: Vec<String> = items
                .iter()
                .map(|e| Ok(format!("({})", self.expr(e, scope, local, uses)?)))
                .collect::<Result<_, String>>()?;
            Ok(texts.join(join))
        };
        Ok(match expr {
            Expr::And(items) => parts(items, " && ", uses)?,
            Expr::Or(items) => parts(items, " || ", uses)?,
            Expr::Not(inner) => format!("!({})", self.expr(inner, scope, local, uses)?),
            Expr::Truth(o) => self.operand(o, scope, local, uses)?,
            Expr::Cmp(op, a, b) => format!(
                "{} {} {}",
                self.operand(a, scope, local, uses)?,
                op.text(),
                self.operand(b, scope, local, uses)?
            ),
        })
    }

    /// One side of a comparison in a condition, as `expr` text.
    pub(super) fn operand(
        &self,
        operand: &Operand,
        scope: &Scope,
        local: &Local<'_>,
        uses: &mut Uses,
    ) -> Result<String, String> {
        let r = match operand {
            Operand::Literal(Value::String(s)) => return Ok(quoted(s)),
            Operand::Literal(v) => return Ok(v.to_string()),
            Operand::Ref(r) => r,
        };
        let ty = match r {
            Ref::Param(p) => self.pipeline.params.get(p).map(|p| p.ty),
            Ref::Output { .. } if self.fan_in(r, scope, local) => None,
            Ref::Output { task, output } => self.output_type(task, output),
            Ref::Item { .. } => None,
        };
        let source = self.reference(r, scope, local, None)?;
        match source {
            Source::Channel(_) => uses.channel = true,
            Source::Sibling { .. } => uses.sibling = true,
            Source::Param(_) => {}
        }
        let value = source.expr();
        match ty {
            Some(ValueType::String) => Ok(value),
            Some(ValueType::Int) => Ok(format!("asInt({value})")),
            Some(ValueType::Float) => Ok(format!("asFloat({value})")),
            Some(ValueType::Bool) => Ok(format!("(lower({value}) == 'true')")),
            _ => Err(format!(
                "`{r}` is not a string, int, float or bool: conditions over other values are not exported to Argo yet"
            )),
        }
    }
}
