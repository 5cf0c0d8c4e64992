// CLSSR metrics (eq. 2-8, Definition 1, eq. 14); see metrics.h for the definitions.
#include "trainers/clssr/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/errors.h"

namespace semsec::clssr {

namespace {

void check_rate(double r, const char* name) {
  if (!(r >= 0.0)) fail("clssr: {} must be a rate >= 0 bit/s, got {}", name, r);
}

void check_epsilon(double epsilon) {
  if (!(epsilon > 0.0) || !std::isfinite(epsilon)) fail("clssr: task threshold epsilon must be > 0, got {}", epsilon);
}

void check_distortion(double g, const char* name) {
  if (!(g >= 0.0 && g <= 1.0)) fail("clssr: {} must be a normalised distortion in [0, 1], got {}", name, g);
}

void check_bits(int64_t n, int64_t b) {
  if (n < 1 || b < 1) fail("clssr: n (semantic symbols) and b (bits per index) must be >= 1, got n={} b={}", n, b);
}

}  // namespace

double rate(double bandwidth_hz, double signal_power, double noise_power) {
  if (!(noise_power > 0.0)) fail("clssr: noise power must be > 0, got {}", noise_power);
  if (!(signal_power >= 0.0)) fail("clssr: signal power must be >= 0, got {}", signal_power);
  return rate_from_snr(bandwidth_hz, signal_power / noise_power);
}

double rate_from_snr(double bandwidth_hz, double snr) {
  if (!(bandwidth_hz > 0.0)) fail("clssr: bandwidth must be > 0 Hz, got {}", bandwidth_hz);
  if (!(snr >= 0.0)) fail("clssr: SNR must be >= 0, got {}", snr);
  return bandwidth_hz * std::log2(1.0 + snr);
}

double secrecy_rate(double r_u, double r_e) {
  check_rate(r_u, "R_u");
  check_rate(r_e, "R_e");
  return std::max(r_u - r_e, 0.0);
}

double normalized_distortion(double distortion, double d_max) {
  if (!(d_max > 0.0)) fail("clssr: d_max must be > 0, got {}", d_max);
  if (!(distortion >= 0.0)) fail("clssr: distortion must be >= 0, got {}", distortion);
  return std::min(distortion / d_max, 1.0);
}

SecurityCase security_case(double g_u, double g_e, double r_s, double epsilon) {
  check_distortion(g_u, "G_u");
  check_distortion(g_e, "G_e");
  check_rate(r_s, "R^S");
  check_epsilon(epsilon);
  if (!(g_u < epsilon)) return SecurityCase::kTaskFailed;
  if (r_s > 0.0) return SecurityCase::kPhysicalLayer;
  if (g_e >= epsilon) return SecurityCase::kApplicationLayer;
  return SecurityCase::kLeaked;
}

bool is_secure(SecurityCase c) { return c == SecurityCase::kPhysicalLayer || c == SecurityCase::kApplicationLayer; }

double task_security(double g_u, double g_e, double r_s, double epsilon) {
  return is_secure(security_case(g_u, g_e, r_s, epsilon)) ? 1.0 - g_u : 0.0;
}

double semantic_bit_efficiency(double task_security, int64_t n, int64_t b) {
  check_bits(n, b);
  if (std::isnan(task_security)) fail("clssr: task security is NaN");
  return task_security / (static_cast<double>(n) * static_cast<double>(b));
}

double clssr(double phi, double r_s, double r_u) {
  check_rate(r_s, "R^S");
  check_rate(r_u, "R_u");
  if (std::isnan(phi)) fail("clssr: Phi is NaN");
  return phi * delivery_rate(r_u, r_s);
}

OmegaReading parse_omega_reading(const std::string& name) {
  if (name == "literal") return OmegaReading::kLiteral;
  if (name == "monotone") return OmegaReading::kMonotone;
  fail("clssr.omega: expected literal or monotone, got '{}'", name);
}

const char* omega_reading_name(OmegaReading r) { return r == OmegaReading::kLiteral ? "literal" : "monotone"; }

double clssr_monotone(double phi, double r_s, double r_u, double g_e, double epsilon) {
  if (std::isnan(phi)) fail("clssr: Phi is NaN");
  return phi * transmission_rate(r_u, r_s, g_e, epsilon);
}

double clssr_min(const std::vector<double>& per_eve) {
  if (per_eve.empty()) fail("clssr: the minimum over Eves (eq. 8) needs at least one Eve");
  return *std::min_element(per_eve.begin(), per_eve.end());
}

double delivery_rate(double r_u, double r_s) {
  check_rate(r_u, "R_u");
  check_rate(r_s, "R^S");
  return r_s > 0.0 ? r_s : r_u;
}

double transmission_rate(double r_u, double r_s, double g_e, double epsilon) {
  check_rate(r_u, "R_u");
  check_rate(r_s, "R^S");
  if (std::isnan(g_e) || std::isnan(epsilon)) fail("clssr: G_e or epsilon is NaN");
  return g_e >= epsilon ? r_u : r_s;
}

double task_latency_s(int64_t n, int64_t b, double rate_bps) {
  check_bits(n, b);
  check_rate(rate_bps, "delivery rate");
  if (rate_bps == 0.0) return std::numeric_limits<double>::infinity();
  return static_cast<double>(n) * static_cast<double>(b) / rate_bps;
}

bool is_timely(double latency_s, double deadline_s) {
  if (!(deadline_s > 0.0)) fail("clssr: task deadline must be > 0 s, got {}", deadline_s);
  if (std::isnan(latency_s)) fail("clssr: task latency is NaN");
  return latency_s <= deadline_s;
}

TaskEvaluation evaluate_task(const TaskInputs& in) {
  if (in.eves.empty()) fail("clssr: a task needs at least one Eve (eq. 8)");
  check_bits(in.n, in.b);
  TaskEvaluation out{};
  out.secure = true;
  out.delivery_rate = std::numeric_limits<double>::infinity();
  const bool literal = in.omega == OmegaReading::kLiteral;
  std::vector<double> literals, monotones;
  literals.reserve(in.eves.size());
  monotones.reserve(in.eves.size());
  for (const EveObservation& e : in.eves) {
    const double r_s = secrecy_rate(in.r_u, e.r_e);
    const SecurityCase c = security_case(in.g_u, e.g_e, r_s, in.epsilon);
    const double phi = semantic_bit_efficiency(is_secure(c) ? 1.0 - in.g_u : 0.0, in.n, in.b);
    literals.push_back(clssr(phi, r_s, in.r_u));
    monotones.push_back(clssr_monotone(phi, r_s, in.r_u, e.g_e, in.epsilon));
    out.secure = out.secure && is_secure(c);
    out.delivery_rate = std::min(
        out.delivery_rate, literal ? delivery_rate(in.r_u, r_s) : transmission_rate(in.r_u, r_s, e.g_e, in.epsilon));
  }
  out.omega_literal = clssr_min(literals);
  out.omega_monotone = clssr_min(monotones);
  out.omega = literal ? out.omega_literal : out.omega_monotone;
  out.latency_s = task_latency_s(in.n, in.b, out.delivery_rate);
  out.timely = is_timely(out.latency_s, in.deadline_s);
  return out;
}

double task_reliability(int64_t secure_and_timely, int64_t total) {
  if (total < 1) fail("clssr: task reliability (eq. 14) needs at least one task, got {}", total);
  if (secure_and_timely < 0 || secure_and_timely > total) {
    fail("clssr: {} secure and timely tasks out of {} is not a valid count", secure_and_timely, total);
  }
  return 100.0 * static_cast<double>(secure_and_timely) / static_cast<double>(total);
}

double task_reliability(const std::vector<TaskEvaluation>& tasks) {
  const auto good =
      std::count_if(tasks.begin(), tasks.end(), [](const TaskEvaluation& t) { return t.secure && t.timely; });
  return task_reliability(static_cast<int64_t>(good), static_cast<int64_t>(tasks.size()));
}

}  // namespace semsec::clssr
