// models::IsacChannel: the object that owns the ISAC link's parameters, the grid's keys and the
// step counter gives exactly kernels::isac_link on the same keys and counter, moves with
// set_step, uses the evaluation streams when asked, splits into generate / apply with the same
// bits, and names a bad parameter when built.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "kernels/isac_link/isac_link_op.h"
#include "models/isac_channel.h"

namespace semsec {
namespace {

kernels::IsacLinkParams params() {
  kernels::IsacLinkParams p;
  p.num_antennas = 8;
  p.w = kernels::make_beamformer("uniform", 8);
  p.si_residual_power = 0.05;
  return p;
}

struct Inputs {
  torch::Tensor z, phi, snr;
};

Inputs inputs() {
  torch::manual_seed(3);
  Inputs in;
  in.z = torch::randn({2, 4, 6}, torch::kDouble);
  in.z = in.z / in.z.norm(2, -1, true);
  in.phi = torch::rand({2, 4}, torch::kDouble) - 0.5;
  in.snr = torch::tensor({5.0, 15.0}, torch::kDouble);
  return in;
}

TEST(IsacChannel, EqualsTheLinkOnTheSameKeysAndCounter) {
  const Inputs in = inputs();
  models::IsacChannel channel(params(), {11, 12}, torch::kCPU);
  channel.set_step(7);
  for (const bool eval : {false, true}) {
    kernels::IsacLinkParams p = params();
    p.eval = eval;
    const auto want = kernels::isac_link(in.z, in.phi, in.snr, torch::tensor({11, 12}, torch::kInt64),
                                         torch::tensor({7}, torch::kInt64), p);
    const auto got = channel(in.z, in.phi, in.snr, eval);
    EXPECT_TRUE(torch::equal(got.y_bs, want.y_bs));
    EXPECT_TRUE(torch::equal(got.y_ue, want.y_ue));
    EXPECT_TRUE(torch::equal(got.y_eve, want.y_eve));
    EXPECT_TRUE(torch::equal(got.gains, want.gains));
  }
  EXPECT_FALSE(torch::equal(channel(in.z, in.phi, in.snr, false).y_ue, channel(in.z, in.phi, in.snr, true).y_ue));
  const auto before = channel(in.z, in.phi, in.snr, false).y_ue;
  channel.set_step(8);
  EXPECT_FALSE(torch::equal(before, channel(in.z, in.phi, in.snr, false).y_ue));
  channel.set_step(7);
  EXPECT_TRUE(torch::equal(before, channel(in.z, in.phi, in.snr, false).y_ue));
  EXPECT_TRUE(torch::equal(channel.seeds(), torch::tensor({11, 12}, torch::kInt64)));
}

TEST(IsacChannel, GenerateThenApplyEqualsTheCallAtTheStepOfTheState) {
  const Inputs in = inputs();
  models::IsacChannel channel(params(), {11, 12}, torch::kCPU);
  for (const bool eval : {false, true}) {
    channel.set_step(7);
    const kernels::IsacLinkState state = channel.generate(in.phi, in.snr, in.z.size(2), eval);
    const auto want = channel(in.z, in.phi, in.snr, eval);
    channel.set_step(8);
    const auto got = models::IsacChannel::apply(in.z, state);
    EXPECT_TRUE(torch::equal(got.y_bs, want.y_bs));
    EXPECT_TRUE(torch::equal(got.y_ue, want.y_ue));
    EXPECT_TRUE(torch::equal(got.y_eve, want.y_eve));
    EXPECT_TRUE(torch::equal(got.gains, want.gains));
  }
}

TEST(IsacChannel, NamesABadParameterWhenBuilt) {
  kernels::IsacLinkParams p = params();
  p.si_residual_power = -1.0;
  try {
    models::IsacChannel channel(p, {1}, torch::kCPU);
    FAIL() << "a negative si_residual_power was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("si_residual_power"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace semsec
