// Shared by the ISAC link kernel tests (test_isac_link.cpp, test_isac_link_reference.cpp and,
// for Inputs, run and kSector, gpu_isac_link.cpp): link parameters and random inputs over the
// paper's sector. The float ulp distance is semsec::testing::ulp_distance (tests/test_util_core.h).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "kernels/isac_link/isac_link_op.h"

namespace semsec::kernels::isac_link_test {

inline constexpr double kPi = 3.141592653589793;
inline constexpr double kSector = 20.0 * kPi / 180.0;  // phi ~ U[-20 deg, 20 deg] as in the paper's set-up

inline IsacLinkParams make_params(int64_t num_antennas = 16, const std::string& kind = "wide2") {
  IsacLinkParams p;
  p.num_antennas = num_antennas;
  p.w = make_beamformer(kind, num_antennas, 10.0);
  p.ref_gain_bs = mean_sensing_gain(p, -kSector, kSector);
  return p;
}

// The kernel's inputs; `to` moves them all to one device.
struct Inputs {
  torch::Tensor z, phi, snr_db, seeds, counter;
  Inputs to(const torch::Device& d) const {
    return Inputs{z.to(d), phi.to(d), snr_db.to(d), seeds.to(d), counter.to(d)};
  }
};

// z with ||z_gb|| = 1, phi uniform over the sector, SNRs spread over [snr_lo, snr_hi].
inline Inputs make_inputs(int64_t num_grid, int64_t batch, int64_t length, torch::ScalarType dtype, int64_t step = 3,
                          double snr_lo = -5.0, double snr_hi = 15.0, uint64_t torch_seed = 1) {
  torch::manual_seed(torch_seed);
  Inputs in;
  auto z = torch::randn({num_grid, batch, length}, torch::kDouble);
  in.z = (z / z.norm(2, {-1}, true)).to(dtype);
  in.phi = ((torch::rand({num_grid, batch}, torch::kDouble) * 2.0 - 1.0) * kSector).to(dtype);
  in.snr_db = torch::linspace(snr_lo, snr_hi, num_grid, torch::kDouble).to(dtype);
  in.seeds = torch::arange(num_grid, torch::kLong) * 7 + 11;
  in.counter = torch::full({1}, step, torch::kLong);
  return in;
}

inline IsacLinkOut run(const Inputs& in, const IsacLinkParams& p) {
  return isac_link(in.z, in.phi, in.snr_db, in.seeds, in.counter, p);
}

}  // namespace semsec::kernels::isac_link_test
