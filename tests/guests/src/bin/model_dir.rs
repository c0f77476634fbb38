//! Directory artifacts: `write` makes a model directory of two files; `list` reads one back.
use wasmpipe_guest::{Dir, Input, Model, Output, component};

/// Writes `weights.txt` (the given text) and `config/params.txt` into the `output` directory.
#[component]
fn model_dir(weights: Option<String>, model: Option<Input<Dir<Model>>>) -> Result<Output<Dir<Model>>, String> {
    let out = Output::new("output");
    let err = |e: std::io::Error| e.to_string();
    match (weights, model) {
        (Some(w), _) => {
            std::fs::write(out.path().join("weights.txt"), w).map_err(err)?;
            std::fs::create_dir_all(out.path().join("config")).map_err(err)?;
            std::fs::write(out.path().join("config/params.txt"), "layers=2").map_err(err)?;
        }
        (None, Some(model)) => {
            // Copy the input model, adding a file: shows the input is a readable directory.
            let weights = std::fs::read_to_string(model.path().join("weights.txt")).map_err(err)?;
            let params = std::fs::read_to_string(model.path().join("config/params.txt")).map_err(err)?;
            std::fs::write(out.path().join("weights.txt"), format!("{weights}+tuned")).map_err(err)?;
            std::fs::write(out.path().join("params.txt"), params).map_err(err)?;
        }
        (None, None) => return Err("give `weights` or `model`".into()),
    }
    Ok(out)
}

fn main() {}
