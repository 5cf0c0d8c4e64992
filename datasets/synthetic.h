// A small Fashion-MNIST look-alike (28x28, 10 classes, IDX files) generated from a
// seed, so tests and demos can train without the real data set installed.
#pragma once

#include <cstdint>
#include <string>

namespace semsec::data {

// Writes train-{images-idx3,labels-idx1}-ubyte and t10k-* (with .gz when `gzip`)
// into `dir`, creating it if needed. Each class is a different stroke pattern
// (ring, bars, diagonals, cross, X, disc, two discs, square) randomly shifted,
// scaled, rotated and dimmed per sample, plus Gaussian pixel noise; every draw comes
// from Philox keyed by `seed`, so the files are a pure function of the arguments.
void write_synthetic_dataset(const std::string& dir, int64_t n_train, int64_t n_test, uint64_t seed, bool gzip);

}  // namespace semsec::data
