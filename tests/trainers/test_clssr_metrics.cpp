// CLSSR metrics (eq. 2-8, Definition 1, eq. 14) on hand-computed cases, eq. 2 on the link's
// gains against a direct computation, and the `semsec link` command (link.csv, channel.* keys).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <complex>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/errors.h"
#include "kernels/link_level/ber_theory.h"
#include "kernels/link_level/link_level_op.h"
#include "tests/test_util_core.h"
#include "trainers/clssr/metrics.h"
#include "trainers/link/link_command.h"

namespace {

namespace cl = semsec::clssr;
namespace sl = semsec::link;
using semsec::Error;
using semsec::testing::expect_error;

const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

TEST(ClssrRates, Eq2AndEq3) {
  EXPECT_DOUBLE_EQ(cl::rate(1e6, 3.0, 1.0), 2e6);  // log2(1 + 3) = 2
  EXPECT_DOUBLE_EQ(cl::rate(2e6, 7e-12, 1e-12), 6e6);
  EXPECT_DOUBLE_EQ(cl::rate(1e6, 0.0, 1.0), 0.0);
  EXPECT_DOUBLE_EQ(cl::rate_from_snr(1e6, 15.0), 4e6);
  expect_error([&] { cl::rate(1e6, 1.0, 0.0); }, {"clssr: noise power must be > 0, got 0"});
  expect_error([&] { cl::rate(1e6, -1.0, 1.0); }, {"clssr: signal power must be >= 0, got -1"});
  expect_error([&] { cl::rate(0.0, 1.0, 1.0); }, {"clssr: bandwidth must be > 0 Hz, got 0"});
  expect_error([&] { cl::rate_from_snr(1e6, kNan); }, {"clssr: SNR must be >= 0, got nan"});

  EXPECT_DOUBLE_EQ(cl::secrecy_rate(5e6, 3e6), 2e6);
  EXPECT_DOUBLE_EQ(cl::secrecy_rate(3e6, 5e6), 0.0);  // (x)^+
  EXPECT_DOUBLE_EQ(cl::secrecy_rate(4e6, 4e6), 0.0);
  expect_error([&] { cl::secrecy_rate(-1.0, 0.0); }, {"clssr: R_u must be a rate >= 0 bit/s, got -1"});
  expect_error([&] { cl::secrecy_rate(1.0, kNan); }, {"clssr: R_e must be a rate >= 0 bit/s, got nan"});
}

TEST(ClssrRates, Eq2OnTheLinkGainsMatchesDirectComputation) {
  // AWGN geometric link: the SNR is deterministic, P_tx d^-eta / (tau N0 B).
  sl::LinkConfig c;
  c.scheme = sl::Scheme::kAwgn;
  const int64_t n = 4;
  const auto h = sl::generate_channels(c, n, 1, 0, torch::kCPU);
  const double tau = 2.0;
  const auto out = sl::transmit(c, torch::zeros({n, 4}, torch::kUInt8), h, torch::zeros({n}, torch::kInt64),
                                torch::full({n}, tau, torch::kFloat64), 1, 0);
  const double p0 = sl::noise_floor_w(c);
  const double noise = tau * p0;
  const double p_tx = 0.1;  // 20 dBm
  const double d_user = std::hypot(500.0, 500.0);
  const double d_eve = std::hypot(400.0, 450.0);
  const double r_u_direct = 1e6 * std::log2(1.0 + p_tx * std::pow(d_user, -3.0) / noise);
  const double r_e_direct = 1e6 * std::log2(1.0 + p_tx * std::pow(d_eve, -3.0) / noise);
  const double r_u = cl::rate(c.bandwidth_hz, out.gain[0][0].item<double>() * p0, noise);
  const double r_e = cl::rate(c.bandwidth_hz, out.gain[1][0].item<double>() * p0, noise);
  EXPECT_NEAR(r_u, r_u_direct, 1e-9 * r_u_direct);
  EXPECT_NEAR(r_e, r_e_direct, 1e-9 * r_e_direct);
  // Eve 1 is closer than the user: no physical-layer secrecy without a beam.
  EXPECT_DOUBLE_EQ(cl::secrecy_rate(r_u, r_e), 0.0);

  // Beamformed Rayleigh link: |h_u f_u|^2 from std::complex against the kernel's gain.
  sl::LinkConfig b;
  b.num_tx = 4;
  b.num_beams = 4;
  const auto hb = sl::generate_channels(b, n, 9, 0, torch::kCPU);
  const auto beams = torch::tensor({0, 1, 2, 3}, torch::kInt64);
  const auto ob =
      sl::transmit(b, torch::zeros({n, 4}, torch::kUInt8), hb, beams, torch::ones({n}, torch::kFloat64), 9, 0);
  const auto ha = hb.accessor<double, 5>();
  for (int64_t i = 0; i < n; ++i) {
    std::complex<double> hf = 0.0;
    for (int t = 0; t < 4; ++t) {
      hf += std::complex<double>(ha[0][i][0][t][0], ha[0][i][0][t][1]) * std::polar(0.5, 2.0 * M_PI * t * i / 4.0);
    }
    const double direct = 1e6 * std::log2(1.0 + std::norm(hf));  // tau = 1: SNR = |h f|^2 in units of P0
    EXPECT_NEAR(cl::rate_from_snr(1e6, ob.gain[0][i].item<double>()), direct, 1e-6) << "sample " << i;
  }
}

TEST(ClssrDistortion, Eq4) {
  EXPECT_DOUBLE_EQ(cl::normalized_distortion(0.5, 2.0), 0.25);
  EXPECT_DOUBLE_EQ(cl::normalized_distortion(0.0, 2.0), 0.0);
  EXPECT_DOUBLE_EQ(cl::normalized_distortion(3.0, 2.0), 1.0);  // beyond d_max: complete failure
  expect_error([&] { cl::normalized_distortion(1.0, 0.0); }, {"clssr: d_max must be > 0, got 0"});
  expect_error([&] { cl::normalized_distortion(-0.1, 1.0); }, {"clssr: distortion must be >= 0, got -0.1"});
  expect_error([&] { cl::normalized_distortion(kNan, 1.0); }, {"clssr: distortion must be >= 0, got nan"});
}

TEST(ClssrTaskSecurity, EveryBranchOfDefinition1) {
  const double eps = cl::kEpsilonReconstructionMse;  // 0.01
  // The user fails the task: never secure, whatever the other layers do.
  EXPECT_EQ(cl::security_case(0.5, 1.0, 1e6, eps), cl::SecurityCase::kTaskFailed);
  EXPECT_EQ(cl::security_case(eps, 1.0, 1e6, eps), cl::SecurityCase::kTaskFailed);  // G_u < eps is strict
  // Physical layer: R^S > 0 is enough, even if Eve would complete the task.
  EXPECT_EQ(cl::security_case(0.005, 0.0, 1e5, eps), cl::SecurityCase::kPhysicalLayer);
  // Application layer: no secrecy rate, Eve's distortion at or above eps.
  EXPECT_EQ(cl::security_case(0.005, 0.02, 0.0, eps), cl::SecurityCase::kApplicationLayer);
  EXPECT_EQ(cl::security_case(0.005, eps, 0.0, eps), cl::SecurityCase::kApplicationLayer);  // G_e >= eps
  // Leak: no secrecy rate and Eve completes the task.
  EXPECT_EQ(cl::security_case(0.005, 0.009, 0.0, eps), cl::SecurityCase::kLeaked);
  // Remark 1's discrete example: eps = 1, the user classifies (G_u = 0), Eve fails (G_e = 1).
  EXPECT_EQ(cl::security_case(0.0, 1.0, 0.0, cl::kEpsilonDiscrete), cl::SecurityCase::kApplicationLayer);
  EXPECT_EQ(cl::security_case(1.0, 1.0, 5.0, cl::kEpsilonDiscrete), cl::SecurityCase::kTaskFailed);

  EXPECT_FALSE(cl::is_secure(cl::SecurityCase::kTaskFailed));
  EXPECT_TRUE(cl::is_secure(cl::SecurityCase::kPhysicalLayer));
  EXPECT_TRUE(cl::is_secure(cl::SecurityCase::kApplicationLayer));
  EXPECT_FALSE(cl::is_secure(cl::SecurityCase::kLeaked));

  // Eq. 5: 1 - G_u when secure, else 0.
  EXPECT_DOUBLE_EQ(cl::task_security(0.005, 0.0, 1e5, eps), 0.995);
  EXPECT_DOUBLE_EQ(cl::task_security(0.004, 0.5, 0.0, eps), 0.996);
  EXPECT_DOUBLE_EQ(cl::task_security(0.005, 0.009, 0.0, eps), 0.0);
  EXPECT_DOUBLE_EQ(cl::task_security(0.5, 1.0, 1e6, eps), 0.0);

  // G must be normalised
  expect_error([&] { cl::security_case(1.5, 0.0, 0.0, eps); },
               {"clssr: G_u must be a normalised distortion in [0, 1], got 1.5"});
  expect_error([&] { cl::security_case(0.0, kNan, 0.0, eps); },
               {"clssr: G_e must be a normalised distortion in [0, 1], got nan"});
  // R^S is (x)^+ >= 0
  expect_error([&] { cl::security_case(0.0, 0.0, -1.0, eps); }, {"clssr: R^S must be a rate >= 0 bit/s, got -1"});
  expect_error([&] { cl::security_case(0.0, 0.0, 0.0, 0.0); }, {"clssr: task threshold epsilon must be > 0, got 0"});
  expect_error([&] { cl::security_case(0.0, 0.0, 0.0, kInf); }, {"clssr: task threshold epsilon must be > 0, got inf"});
}

TEST(ClssrOmega, Eq6Eq7Eq8) {
  EXPECT_DOUBLE_EQ(cl::semantic_bit_efficiency(0.995, 64, 8), 0.995 / 512.0);
  EXPECT_DOUBLE_EQ(cl::semantic_bit_efficiency(0.0, 64, 8), 0.0);
  expect_error([&] { cl::semantic_bit_efficiency(1.0, 0, 8); },
               {"clssr: n (semantic symbols) and b (bits per index) must be >= 1, got n=0 b=8"});
  expect_error([&] { cl::semantic_bit_efficiency(1.0, 64, 0); },
               {"clssr: n (semantic symbols) and b (bits per index) must be >= 1, got n=64 b=0"});
  expect_error([&] { cl::semantic_bit_efficiency(kNan, 64, 8); }, {"clssr: task security is NaN"});

  // Eq. 7: Phi R^S when R^S > 0, Phi R_u when R^S = 0.
  EXPECT_DOUBLE_EQ(cl::clssr(0.002, 1e6, 3e6), 2000.0);
  EXPECT_DOUBLE_EQ(cl::clssr(0.002, 0.0, 3e6), 6000.0);
  EXPECT_DOUBLE_EQ(cl::clssr(0.0, 0.0, 3e6), 0.0);
  expect_error([&] { cl::clssr(0.002, -1.0, 3e6); }, {"clssr: R^S must be a rate >= 0 bit/s, got -1"});
  EXPECT_DOUBLE_EQ(cl::delivery_rate(3e6, 1e6), 1e6);
  EXPECT_DOUBLE_EQ(cl::delivery_rate(3e6, 0.0), 3e6);
  EXPECT_DOUBLE_EQ(cl::transmission_rate(3e6, 1e6, 0.5, 0.01), 3e6);    // semantics protect: R_u
  EXPECT_DOUBLE_EQ(cl::transmission_rate(3e6, 1e6, 0.005, 0.01), 1e6);  // only the PHY protects: R^S
  EXPECT_DOUBLE_EQ(cl::transmission_rate(3e6, 0.0, 0.005, 0.01), 0.0);  // nothing protects
  EXPECT_DOUBLE_EQ(cl::transmission_rate(3e6, 1e6, 0.01, 0.01), 3e6);   // G_e = eps counts (Definition 1)

  // Eq. 8.
  EXPECT_DOUBLE_EQ(cl::clssr_min({3.0, 1.0, 2.0}), 1.0);
  EXPECT_DOUBLE_EQ(cl::clssr_min({4.0}), 4.0);
  expect_error([&] { cl::clssr_min({}); }, {"clssr: the minimum over Eves (eq. 8) needs at least one Eve"});
}

// The two readings of eq. 7 against one Eve that the semantics defeat (G_e >= eps), as R_e rises
// past R_u: literal eq. 7 is not monotone (a small positive R^S earns less than R^S = 0), the
// monotone reading credits R_u throughout; where Eve completes the task (G_e < eps) both credit
// R^S, and nothing once R^S = 0.
TEST(ClssrMetrics, LiteralEq7IsNotMonotoneTheMonotoneReadingIs) {
  const double phi = 0.002, r_u = 5e6, eps = 0.01;
  EXPECT_DOUBLE_EQ(cl::clssr(phi, 1e3, r_u), phi * 1e3);  // R^S = 1 kbit/s
  EXPECT_DOUBLE_EQ(cl::clssr(phi, 0.0, r_u), phi * r_u);  // R^S = 0: more
  double last = -1.0;
  for (double r_e : {0.0, 1e6, 4.999e6, 5e6, 6e6}) {  // falling R^S
    const double r_s = cl::secrecy_rate(r_u, r_e);
    const double mono = cl::clssr_monotone(phi, r_s, r_u, 0.5, eps);
    EXPECT_DOUBLE_EQ(mono, phi * r_u) << r_e;
    EXPECT_GE(mono, cl::clssr(phi, r_s, r_u)) << r_e;
    // Eve completes the task: the secrecy rate, falling with R^S.
    const double exposed = cl::clssr_monotone(phi, r_s, r_u, 0.005, eps);
    EXPECT_DOUBLE_EQ(exposed, phi * r_s) << r_e;
    if (last >= 0.0) {
      EXPECT_LE(exposed, last);
    }
    last = exposed;
  }
  EXPECT_DOUBLE_EQ(cl::clssr_monotone(phi, 0.0, r_u, 0.01, eps), phi * r_u);  // G_e = eps counts
  EXPECT_EQ(cl::parse_omega_reading("literal"), cl::OmegaReading::kLiteral);
  EXPECT_EQ(cl::parse_omega_reading("monotone"), cl::OmegaReading::kMonotone);
  EXPECT_STREQ(cl::omega_reading_name(cl::OmegaReading::kLiteral), "literal");
  EXPECT_STREQ(cl::omega_reading_name(cl::OmegaReading::kMonotone), "monotone");
  expect_error([&] { cl::parse_omega_reading("eq7"); }, {"clssr.omega", "literal or monotone", "eq7"});
  expect_error([&] { cl::clssr_monotone(std::nan(""), 0.0, r_u, 0.5, eps); }, {"Phi is NaN"});
}

TEST(ClssrTask, EvaluateTaskWithTwoEves) {
  cl::TaskInputs in;
  in.r_u = 6e6;
  in.g_u = 0.004;
  in.n = 64;
  in.b = 8;
  in.epsilon = 0.01;
  // Eve 1 hears better (R^S = 0) but cannot use the semantics; Eve 2 is beaten at the PHY.
  in.eves = {{7e6, 0.5}, {2e6, 0.0}};
  const double phi = 0.996 / 512.0;
  auto t = cl::evaluate_task(in);
  EXPECT_TRUE(t.secure);
  EXPECT_DOUBLE_EQ(t.omega, std::min(phi * 6e6, phi * 4e6));
  EXPECT_DOUBLE_EQ(t.delivery_rate, 4e6);
  EXPECT_DOUBLE_EQ(t.latency_s, 512.0 / 4e6);
  EXPECT_TRUE(t.timely);

  EXPECT_DOUBLE_EQ(t.omega_literal, t.omega_monotone);  // the readings agree here

  // Both Eves defeated by the semantics: the transmitter sends at R_u (Remark 2), and the monotone
  // reading (the default) credits R_u; literal eq. 7 still credits Eve 2's pair with its secrecy
  // rate, and delivers at it.
  in.eves[1].g_e = 0.5;
  t = cl::evaluate_task(in);
  EXPECT_TRUE(t.secure);
  EXPECT_DOUBLE_EQ(t.delivery_rate, 6e6);
  EXPECT_DOUBLE_EQ(t.omega, phi * 6e6);
  EXPECT_DOUBLE_EQ(t.omega_monotone, phi * 6e6);
  EXPECT_DOUBLE_EQ(t.omega_literal, phi * 4e6);
  in.omega = cl::OmegaReading::kLiteral;
  t = cl::evaluate_task(in);
  EXPECT_DOUBLE_EQ(t.omega, phi * 4e6);
  EXPECT_DOUBLE_EQ(t.omega_monotone, phi * 6e6);
  EXPECT_DOUBLE_EQ(t.delivery_rate, 4e6);
  in.omega = cl::OmegaReading::kMonotone;
  in.eves[1].g_e = 0.0;

  // Eve 1 completes the task: one leaking pair makes the whole task insecure (Omega = 0).
  in.eves[0].g_e = 0.005;
  t = cl::evaluate_task(in);
  EXPECT_FALSE(t.secure);
  EXPECT_DOUBLE_EQ(t.omega, 0.0);

  // Timeliness: 1000 x 10 bits at 4 Mbit/s take 2.5 ms, past the default 1 ms deadline.
  in.eves[0].g_e = 0.5;
  in.n = 1000;
  in.b = 10;
  t = cl::evaluate_task(in);
  EXPECT_TRUE(t.secure);
  EXPECT_DOUBLE_EQ(t.latency_s, 2.5e-3);
  EXPECT_FALSE(t.timely);
  in.deadline_s = 2.5e-3;  // the boundary counts as timely
  EXPECT_TRUE(cl::evaluate_task(in).timely);

  // No rate at all: infinite latency.
  cl::TaskInputs z = in;
  z.r_u = 0.0;
  z.eves = {{0.0, 1.0}};
  t = cl::evaluate_task(z);
  EXPECT_EQ(t.latency_s, kInf);
  EXPECT_FALSE(t.timely);
  EXPECT_TRUE(t.secure);  // application-layer secure, but useless in time
  EXPECT_DOUBLE_EQ(t.omega, 0.0);

  z.eves.clear();
  expect_error([&] { cl::evaluate_task(z); }, {"clssr: a task needs at least one Eve (eq. 8)"});
  expect_error([&] { cl::is_timely(1.0, 0.0); }, {"clssr: task deadline must be > 0 s, got 0"});
  expect_error([&] { cl::task_latency_s(0, 8, 1e6); },
               {"clssr: n (semantic symbols) and b (bits per index) must be >= 1, got n=0 b=8"});
  EXPECT_DOUBLE_EQ(cl::task_latency_s(100, 10, 1e6), 1e-3);
}

TEST(ClssrTask, Eq14TaskReliability) {
  EXPECT_DOUBLE_EQ(cl::task_reliability(3, 4), 75.0);
  EXPECT_DOUBLE_EQ(cl::task_reliability(0, 7), 0.0);
  EXPECT_DOUBLE_EQ(cl::task_reliability(7, 7), 100.0);
  expect_error([&] { cl::task_reliability(0, 0); },
               {"clssr: task reliability (eq. 14) needs at least one task, got 0"});
  expect_error([&] { cl::task_reliability(5, 4); }, {"clssr: 5 secure and timely tasks out of 4 is not a valid count"});
  expect_error([&] { cl::task_reliability(-1, 4); },
               {"clssr: -1 secure and timely tasks out of 4 is not a valid count"});
  std::vector<cl::TaskEvaluation> tasks(4);
  tasks[0].secure = true, tasks[0].timely = true;
  tasks[1].secure = true, tasks[1].timely = false;
  tasks[2].secure = false, tasks[2].timely = true;
  tasks[3].secure = true, tasks[3].timely = true;
  EXPECT_DOUBLE_EQ(cl::task_reliability(tasks), 50.0);
  expect_error([&] { cl::task_reliability(std::vector<cl::TaskEvaluation>{}); },
               {"clssr: task reliability (eq. 14) needs at least one task, got 0"});
}

// ---- semsec link ----

class LinkCommand : public semsec::testing::TempDirTest {
 protected:
  LinkCommand() : TempDirTest("link") {}
};

std::vector<std::vector<std::string>> read_csv(const std::string& p) {
  std::ifstream f(p);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

TEST_F(LinkCommand, WritesLinkCsvForEverySchemeAndPoint) {
  const auto schema = semsec::trainers::link_schema();
  const auto cfg = semsec::config::Config::load(
      schema, "",
      {"link.n_bits=40000", "link.ebn0_db=[0, 4, 8]", "link.schemes=[awgn, alamouti_2x2, beamforming]",
       "link.beamforming.num_rx=2", "seed=3"});
  ASSERT_EQ(semsec::trainers::run_link(cfg, dir_), 0);
  const auto rows = read_csv(path("link.csv"));
  ASSERT_EQ(rows.size(), 1u + 3u * 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"scheme", "ebn0_db", "ber", "n_bits", "bit_errors", "ber_theory"}));
  const std::vector<std::string> names = {"awgn", "alamouti_2x2", "beamforming"};
  const std::vector<sl::LinkShape> shapes = {sl::link_shape(sl::Scheme::kAwgn),
                                             sl::link_shape(sl::Scheme::kAlamouti2x2),
                                             sl::link_shape(sl::Scheme::kBeamforming, 2, 2)};
  const double grid[3] = {0, 4, 8};
  for (size_t s = 0; s < 3; ++s) {
    const auto expected = sl::simulate_ber(shapes[s], {0, 4, 8}, 40000, 3, torch::kCPU);
    for (size_t k = 0; k < 3; ++k) {
      const auto& row = rows[1 + 3 * s + k];
      ASSERT_EQ(row.size(), 6u);
      EXPECT_EQ(row[0], names[s]);
      EXPECT_DOUBLE_EQ(std::stod(row[1]), grid[k]);
      EXPECT_EQ(std::stoll(row[3]), 40000);
      EXPECT_EQ(std::stoll(row[4]), expected[k].bit_errors) << names[s] << " " << grid[k];
      EXPECT_DOUBLE_EQ(std::stod(row[2]), expected[k].ber());
      EXPECT_DOUBLE_EQ(std::stod(row[5]), sl::ber_theory(shapes[s], grid[k]));
    }
  }
}

TEST_F(LinkCommand, ExperimentFileLoadsWithTheFigureGrid) {
  const auto cfg =
      semsec::config::Config::load(semsec::trainers::link_schema(), SEMSEC_SOURCE_DIR "/experiments/link_ber.yaml", {});
  const auto& grid = cfg.get_float_list("link.ebn0_db");
  ASSERT_EQ(grid.size(), 11u);
  for (size_t k = 0; k < grid.size(); ++k) EXPECT_DOUBLE_EQ(grid[k], 2.0 * static_cast<double>(k));
  EXPECT_EQ(cfg.get_string_list("link.schemes"),
            (std::vector<std::string>{"awgn", "rayleigh", "alamouti_2x1", "alamouti_2x2"}));
}

TEST_F(LinkCommand, RejectsUnknownSchemesAndBadGeometry) {
  const auto schema = semsec::trainers::link_schema();
  expect_error([&] { semsec::config::Config::load(schema, "", {"link.schemes=[awgn, mimo_8x8]"}); },
               {"link.schemes[1]: expected one of: ", "mimo_8x8"});

  semsec::config::Schema gs = semsec::trainers::link_geometry_schema();
  const auto def = sl::LinkConfig{};
  const auto c = semsec::trainers::link_config(semsec::config::Config::defaults(gs));
  EXPECT_EQ(c.scheme, def.scheme);
  EXPECT_EQ(c.eves.size(), 2u);
  EXPECT_DOUBLE_EQ(c.eves[1].x_m, 800.0);
  EXPECT_DOUBLE_EQ(c.eves[1].y_m, 300.0);
  EXPECT_DOUBLE_EQ(c.user.x_m, 500.0);
  EXPECT_DOUBLE_EQ(c.path_loss_exponent, 3.0);
  const auto three = semsec::trainers::link_config(
      semsec::config::Config::load(gs, "", {"channel.eves_xy=[1, 2, 3, 4, 5, 6]", "channel.scheme=alamouti_2x1"}));
  EXPECT_EQ(three.eves.size(), 3u);
  EXPECT_EQ(three.scheme, sl::Scheme::kAlamouti2x1);
  expect_error(
      [&] { semsec::trainers::link_config(semsec::config::Config::load(gs, "", {"channel.eves_xy=[1, 2, 3]"})); },
      {"channel.eves_xy: expected [x0, y0, x1, y1, ...] with at least one Eve, got 3 values"});
  expect_error([&] { semsec::trainers::link_config(semsec::config::Config::load(gs, "", {"channel.user_xy=[1]"})); },
               {"channel.user_xy: expected [x, y], got 1 values"});
  expect_error([&] { semsec::trainers::link_config(semsec::config::Config::load(gs, "", {"channel.user_xy=[0, 0]"})); },
               {"channel.*: link: user at (0, 0) m must be a finite point away from the BS at (0, 0) m"});
}

}  // namespace
