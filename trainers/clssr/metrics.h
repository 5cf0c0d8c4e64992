// Security metrics of the CLSSR paper as plain functions: rates (eq. 2-3), normalised distortions
// (eq. 4), task security (eq. 5, Definition 1), semantic-bit efficiency (eq. 6), CLSSR (eq. 7-8)
// and task reliability (eq. 14) with the timeliness rule defined below.
// Invalid inputs (negative rates, NaN, d_max <= 0, n b < 1, empty sets) throw semsec::Error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace semsec::clssr {

// Task thresholds epsilon of Remark 1: a discrete task (classification, G in {0, 1}) uses 1;
// image reconstruction measured by MSE uses 0.01.
inline constexpr double kEpsilonDiscrete = 1.0;
inline constexpr double kEpsilonReconstructionMse = 0.01;

// Eq. 2: R = B log2(1 + |h f|^2 / sigma^2) in bit/s; signal_power >= 0, noise_power > 0
// (same unit). rate_from_snr takes the linear SNR |h f|^2 / sigma^2 directly.
double rate(double bandwidth_hz, double signal_power, double noise_power);
double rate_from_snr(double bandwidth_hz, double snr);

// Eq. 3: R^S_{u,e} = (R_u - R_e)^+.
double secrecy_rate(double r_u, double r_e);

// Eq. 4: G = d(x, x_goal) / d_max. A distortion above the metric's upper limit d_max counts as
// complete failure, so the result is clamped to [0, 1]; d >= 0, d_max > 0.
double normalized_distortion(double distortion, double d_max);

// Definition 1, H_s : (G_u < eps) and (R^S > 0 or (R^S = 0 and G_e >= eps)).
// The formal definition is used (strict G_u < eps, G_e >= eps) rather than the prose after it
// (G_u <= eps, G_e > eps), because Remark 1's discrete example (eps = 1, user G_u = 0, Eve
// G_e = 1) is secure only with G_e >= eps. Cases, checked in this order:
enum class SecurityCase {
  kTaskFailed,        // G_u >= eps: the user cannot complete the task, never secure
  kPhysicalLayer,     // R^S > 0: secure at the physical layer
  kApplicationLayer,  // R^S = 0 and G_e >= eps: symbols leak, but Eve cannot complete the task
  kLeaked,            // R^S = 0 and G_e < eps: Eve completes the task
};
// g_u, g_e are normalised distortions (eq. 4, in [0, 1]); r_s is R^S from eq. 3 (>= 0); eps > 0.
SecurityCase security_case(double g_u, double g_e, double r_s, double epsilon);
bool is_secure(SecurityCase c);  // H_s holds

// Eq. 5: G^S_{u,e} = 1 - G_u under H_s, else 0.
double task_security(double g_u, double g_e, double r_s, double epsilon);

// Eq. 6: Phi = G^S / (n b) in sut/bit; n semantic symbols of b index bits each, n, b >= 1.
double semantic_bit_efficiency(double task_security, int64_t n, int64_t b);

// Eq. 7: Omega = Phi R^S when R^S > 0, else Phi R_u (sut/s).
double clssr(double phi, double r_s, double r_u);

// The two readings of eq. 7 (`clssr.omega`; docs/experiments/clssr.md):
//   literal:  Omega = Phi R^S when R^S > 0, else Phi R_u, as printed. It is not monotone in the
//             link: a small positive R^S earns less than R^S = 0.
//   monotone: Omega = Phi R_tx with R_tx = transmission_rate(R_u, R^S, G_e, eps), the Remark 2
//             reading that timeliness uses: the full rate R_u whenever the semantics defeat Eve
//             (G_e >= eps), otherwise the secrecy rate R^S. Never below the literal value, and
//             non-decreasing as R_u grows or R_e falls.
// Timeliness follows the chosen reading: the task is delivered at the rate the reading credits.
enum class OmegaReading { kLiteral, kMonotone };
// "literal" or "monotone"; anything else throws semsec::Error naming clssr.omega.
OmegaReading parse_omega_reading(const std::string& name);
const char* omega_reading_name(OmegaReading r);
double clssr_monotone(double phi, double r_s, double r_u, double g_e, double epsilon);

// Eq. 8: Omega_u = min_e Omega_{u,e} over a non-empty set of Eves.
double clssr_min(const std::vector<double>& per_eve);

// The rate that eq. 7 credits for (u, e): R^S when R^S > 0, else R_u (the application layer then
// carries the security and the transmitter may use the full rate, Remark 2).
double delivery_rate(double r_u, double r_s);

// The rate the transmitter may use against Eve e (Remark 2): when the application layer protects
// the task from e (G_e >= eps) it abandons physical-layer secrecy and sends at R_u; otherwise the
// task is kept from e only by secrecy coding at R^S_{u,e} (0 when R^S = 0: nothing is secure).
double transmission_rate(double r_u, double r_s, double g_e, double epsilon);

// Task timeliness (the paper names it in eq. 14 without a formula; this is our definition):
// a task of n semantic symbols x b bits is timely when its n b bits are delivered within the
// deadline, latency = n b / R_tx <= deadline_s, with R_tx = min_e transmission_rate(R_u,
// R^S_{u,e}, G_e, eps) (one transmission must be safe from every Eve, as the min in eq. 8).
// So a PL-SS transmitter (no application-layer protection) delivers at the smallest secrecy
// rate, and a CL-SS one at R_u whenever its semantic noise defeats every Eve.
// A zero rate gives an infinite latency. The default deadline is 1 ms, the 5G URLLC user-plane
// latency target; the paper gives no value. At B = 1 MHz it separates delivery at R_u (a few
// Mbit/s: a few hundred bits in well under 1 ms) from delivery at a small secrecy rate.
inline constexpr double kDefaultDeadlineS = 1e-3;
double task_latency_s(int64_t n, int64_t b, double rate_bps);
bool is_timely(double latency_s, double deadline_s);

// One Eve as seen in one task: its rate R_e (eq. 2b) and normalised distortion G_e (eq. 4b).
struct EveObservation {
  double r_e;
  double g_e;
};

// Everything eq. 2-8 and the timeliness rule need for one task.
struct TaskInputs {
  double r_u;                        // eq. 2a, bit/s
  double g_u;                        // eq. 4a
  std::vector<EveObservation> eves;  // at least one
  int64_t n;                         // semantic symbols
  int64_t b;                         // bits per codeword index
  double epsilon;                    // task threshold of Definition 1
  double deadline_s = kDefaultDeadlineS;
  OmegaReading omega = OmegaReading::kMonotone;  // the reading of eq. 7 that omega and timeliness use
};

struct TaskEvaluation {
  double omega;           // eq. 8 (min over Eves of eq. 7) under the chosen reading
  double omega_literal;   // eq. 8 under each reading, whichever was chosen
  double omega_monotone;
  bool secure;            // H_s holds against every Eve
  double delivery_rate;   // min_e of the rate the reading credits: transmission_rate (monotone) or
                          // delivery_rate (literal)
  double latency_s;      // n b / delivery_rate
  bool timely;           // latency_s <= deadline_s
};
TaskEvaluation evaluate_task(const TaskInputs& in);

// Eq. 14: percentage of tasks that are both secure and timely; total >= 1.
double task_reliability(int64_t secure_and_timely, int64_t total);
double task_reliability(const std::vector<TaskEvaluation>& tasks);

}  // namespace semsec::clssr
