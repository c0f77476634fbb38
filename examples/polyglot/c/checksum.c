// checksum_c: a wasmpipe component in C (wit-bindgen C bindings + wasi-libc + the preview-1
// adapter). Reads the `data` Dataset artifact and returns the FNV-1a 32-bit hash of its bytes
// and its number of lines.
//
// Build: examples/polyglot/build.sh c  (generates task.h/task.c from wit/pipeline.wit)
//
// Ownership (wit-bindgen C): `run` owns its arguments and frees them; everything it returns
// (and everything `describe` returns) must be heap memory, since the generated post-return
// function free()s it after the host has copied it. So strings are task_string_dup'ed, never
// task_string_set on a literal.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checksum_core.h"
#include "task.h"

typedef wasmpipe_pipeline_types_input_spec_t input_spec;
typedef wasmpipe_pipeline_types_output_spec_t output_spec;
typedef wasmpipe_pipeline_types_port_type_t port_type;
typedef exports_wasmpipe_pipeline_component_tuple2_string_output_value_t named_output;

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) abort();
  return p;
}

static port_type scalar_type(uint8_t tag) {
  port_type t = {.tag = tag};
  return t;
}

static port_type dataset_type(void) {
  port_type t = {.tag = WASMPIPE_PIPELINE_TYPES_PORT_TYPE_ARTIFACT};
  task_string_dup(&t.val.artifact.kind, "Dataset");
  t.val.artifact.directory = false;
  return t;
}

void exports_wasmpipe_pipeline_component_describe(exports_wasmpipe_pipeline_component_signature_t *ret) {
  task_string_dup(&ret->name, "checksum_c");
  task_string_dup(&ret->description, "FNV-1a 32-bit checksum and line count of a dataset file.");

  input_spec *in = xcalloc(1, sizeof *in);
  task_string_dup(&in[0].name, "data");
  in[0].type = dataset_type();
  in[0].required = true;
  in[0].default_.is_some = false;
  task_string_dup(&in[0].description, "the file to check");
  ret->inputs.ptr = in;
  ret->inputs.len = 1;

  output_spec *out = xcalloc(2, sizeof *out);
  task_string_dup(&out[0].name, "checksum");
  out[0].type = scalar_type(WASMPIPE_PIPELINE_TYPES_PORT_TYPE_INT);
  task_string_dup(&out[0].description, "FNV-1a 32-bit hash of the file's bytes");
  task_string_dup(&out[1].name, "lines");
  out[1].type = scalar_type(WASMPIPE_PIPELINE_TYPES_PORT_TYPE_INT);
  task_string_dup(&out[1].description, "its number of lines");
  ret->outputs.ptr = out;
  ret->outputs.len = 2;
}

// An output `name` holding the int `v` (a one-node value).
static void int_output(named_output *o, const char *name, int64_t v) {
  task_string_dup(&o->f0, name);
  o->f1.tag = WASMPIPE_PIPELINE_TYPES_OUTPUT_VALUE_VALUE;
  wasmpipe_pipeline_types_node_t *node = xcalloc(1, sizeof *node);
  node->tag = WASMPIPE_PIPELINE_TYPES_NODE_INT;
  node->val.int_ = v;
  o->f1.val.value.nodes.ptr = node;
  o->f1.val.value.nodes.len = 1;
}

static void log_line(wasmpipe_pipeline_host_level_t level, const char *text) {
  task_string_t msg;
  task_string_set(&msg, text);  // borrowed: the host copies it during the call
  wasmpipe_pipeline_host_log(level, &msg);
}

static bool fail(task_string_t *err, const char *fmt, const char *a, const char *b) {
  char buf[512];
  snprintf(buf, sizeof buf, fmt, a, b);
  task_string_dup(err, buf);
  return false;
}

static bool run(exports_wasmpipe_pipeline_component_list_tuple2_string_input_value_t *inputs,
                exports_wasmpipe_pipeline_component_list_tuple2_string_output_value_t *ret,
                task_string_t *err) {
  const wasmpipe_pipeline_types_artifact_t *data = NULL;
  for (size_t i = 0; i < inputs->len; i++) {
    const task_string_t *name = &inputs->ptr[i].f0;
    if (name->len == 4 && memcmp(name->ptr, "data", 4) == 0) {
      if (inputs->ptr[i].f1.tag != WASMPIPE_PIPELINE_TYPES_INPUT_VALUE_ARTIFACT)
        return fail(err, "input `data` must be an artifact%s%s", "", "");
      data = &inputs->ptr[i].f1.val.artifact;
    }
  }
  if (!data) return fail(err, "input `data` is missing%s%s", "", "");

  // Strings from the host are not NUL-terminated.
  char path[1024];
  if (data->path.len >= sizeof path) return fail(err, "input `data`: path too long%s%s", "", "");
  memcpy(path, data->path.ptr, data->path.len);
  path[data->path.len] = 0;

  FILE *f = fopen(path, "rb");  // wasi-libc maps /in/... onto the preopened /in
  if (!f) return fail(err, "%s: %s", path, strerror(errno));
  checksum_state s;
  checksum_init(&s);
  uint8_t buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) checksum_update(&s, buf, n);
  bool bad = ferror(f);
  fclose(f);
  if (bad) return fail(err, "%s: read error%s", path, "");

  named_output *out = xcalloc(2, sizeof *out);
  int_output(&out[0], "checksum", (int64_t)s.fnv);
  int_output(&out[1], "lines", checksum_lines(&s));
  ret->ptr = out;
  ret->len = 2;

  char msg[128];
  snprintf(msg, sizeof msg, "checksum_c: %s has %lld lines, FNV-1a %08x", path,
           (long long)checksum_lines(&s), (unsigned)s.fnv);
  log_line(WASMPIPE_PIPELINE_HOST_LEVEL_INFO, msg);
  return true;
}

bool exports_wasmpipe_pipeline_component_run(
    exports_wasmpipe_pipeline_component_context_t *ctx,
    exports_wasmpipe_pipeline_component_list_tuple2_string_input_value_t *inputs,
    exports_wasmpipe_pipeline_component_list_tuple2_string_output_value_t *ret, task_string_t *err) {
  bool ok = run(inputs, ret, err);
  exports_wasmpipe_pipeline_component_context_free(ctx);
  exports_wasmpipe_pipeline_component_list_tuple2_string_input_value_free(inputs);
  return ok;
}
