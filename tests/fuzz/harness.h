// libFuzzer harnesses of the readers of untrusted files: one plain entry function per harness,
// shared by the libFuzzer executables (fuzz_main.cpp, SEMSEC_FUZZ=ON, scripts/fuzz.sh) and by the
// normal suite (test_fuzz_corpus.cpp), which runs every seed of tests/fuzz/corpus/<name>/ once.
//
// Each entry writes the input to a file in a per-process scratch directory, calls the reader and
// swallows semsec::Error only: every other exception escapes (libFuzzer reports the abort), and a
// result that breaks the reader's own promises (a configuration whose to_yaml() does not load back
// equal, an IDX array whose size is not the product of its dimensions) calls abort().
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

namespace semsec::fuzz {

// config.yaml, then after the first NUL byte "key=value" override lines; loaded against the SS-ISAC
// schema, and a configuration that loads must load back equal from its to_yaml(). The overrides
// start with data.root=fake_data_root() so that the schema's data check does not depend on the
// machine's datasets.
int fuzz_config_one(const uint8_t* data, size_t size);
// First byte: bit0 = 0 the rest is a raw IDX file; bit0 = 1 the rest is written as FILE.gz
// (arbitrary gzip bytes), or with bit1 = 1 compressed with zlib first (a valid stream of fuzzed IDX).
int fuzz_idx_one(const uint8_t* data, size_t size);
// A safetensors file (read_safetensors).
int fuzz_safetensors_one(const uint8_t* data, size_t size);
// A checkpoint (load_tensors, the reader behind --resume); every tensor read back is touched.
int fuzz_checkpoint_one(const uint8_t* data, size_t size);
// First byte % 3: 0 a sweep ensemble's points.csv (points_csv_columns, then export_metadata on
// a run directory holding it), 1 a sweep's sweep.txt (load_sweep_record, split_sweep_args),
// 2 a run's metrics.csv (MetricsLog::load_existing).
int fuzz_csv_one(const uint8_t* data, size_t size);

struct Harness {
  const char* name;  // fuzz_<name>, tests/fuzz/corpus/<name>/
  int (*one)(const uint8_t* data, size_t size);
};

inline constexpr Harness kHarnesses[] = {
    {"config", fuzz_config_one},         {"idx", fuzz_idx_one}, {"safetensors", fuzz_safetensors_one},
    {"checkpoint", fuzz_checkpoint_one}, {"csv", fuzz_csv_one},
};

// Whether the reader accepted the last input (every entry sets it): test_fuzz_corpus checks that
// the seeds named bad_* are rejected and the others read.
extern bool g_last_accepted;
// Called with each rejection: prints its message when SEMSEC_FUZZ_VERBOSE is set (to see why a seed
// is rejected), else nothing.
void rejected(const std::exception& e);

// A directory of this process under $TMPDIR (or /tmp), created on first use and removed at exit.
const std::string& scratch_dir();
// scratch_dir()/name.
std::string scratch_path(const std::string& name);
// A directory holding (empty) files of the four Fashion-MNIST names, which passes the schema's
// data.root check, and the same as a single-quoted YAML scalar.
const std::string& fake_data_root();
std::string yaml_quoted(const std::string& text);
// Writes `size` bytes to `path` (no fsync: a harness writes thousands of files a second).
void write_bytes(const std::string& path, const void* data, size_t size);

}  // namespace semsec::fuzz
