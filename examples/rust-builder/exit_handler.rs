//! KFP's exit-handler sample written with wasmpipe's Rust builder (`wasmpipe::authoring`); compare
//! with the KFP original in README.md beside this file.
//!
//!   cargo run -q -p wasmpipe --example exit_handler            # prints the pipeline as YAML
//!   examples/rust-builder/run.sh                               # builds the components, runs it
use wasmpipe::authoring::PipelineBuilder;

/// `@dsl.pipeline(name='pipeline-with-exit-handler') def pipeline_exit_handler(message='Hello World!')`
fn pipeline_exit_handler() -> PipelineBuilder {
    let mut p = PipelineBuilder::new("pipeline-with-exit-handler");
    let message = p.param("message", "Hello World!".to_string());
    let print_op = p.component("print_op", "components/print_op.wasm");
    let fail_op = p.component("fail_op", "components/fail_op.wasm");

    let exit_task = p.task(&print_op).input("message", "Exit handler has worked!").handle();
    p.exit_handler(exit_task, None, |p| {
        p.task(&print_op).input("message", &message);
        p.task(&fail_op).input("message", "Task failed.");
    });
    p
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let pipeline = pipeline_exit_handler().build()?;
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.iter().position(|a| a == "--run").and_then(|i| args.get(i + 1)) else {
        print!("{}", pipeline.to_yaml());
        return Ok(std::process::ExitCode::SUCCESS);
    };
    // Run it through the library, with the components in DIR/components.
    let runner = wasmpipe::run::Runner::new()?;
    let options = wasmpipe::run::RunOptions::default();
    let prepared = match runner.prepare_pipeline(pipeline, dir.as_ref(), &options).await {
        Ok(p) => p,
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            return Ok(std::process::ExitCode::from(2));
        }
    };
    let record = runner.run(&prepared, &options, &mut |_| {}).await;
    for task in &record.tasks {
        let printed: Vec<&str> = task.logs.iter().map(|l| l.text.as_str()).collect();
        println!("{:<28} {:<10} {}", task.id, format!("{:?}", task.state).to_lowercase(), printed.join(" | "));
    }
    println!("run {} {:?}", record.run_id, record.state);
    Ok(std::process::ExitCode::from(if record.state == wasmpipe::record::RunState::Succeeded { 0 } else { 1 }))
}
