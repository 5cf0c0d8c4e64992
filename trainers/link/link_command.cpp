// `semsec link` (BER versus Eb/N0) and the `channel.*` keys of the geometric link.
#include "trainers/link/link_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/fs.h"

#include "core/errors.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "kernels/link_level/ber_theory.h"

namespace semsec::trainers {

namespace {

std::vector<double> default_ebn0_grid() {
  std::vector<double> grid;
  for (int db = 0; db <= 20; db += 2) grid.push_back(db);
  return grid;
}

link::Position position_from(const std::vector<double>& xy, size_t first) {
  return link::Position{xy.at(first), xy.at(first + 1)};
}

}  // namespace

config::Schema link_schema() {
  config::Schema s;
  s.add_string("experiment.name", "link_ber", {}, "name of the experiment (run directory runs/<name>/<time>)")
      .add_int("seed", 0, 0, 4294967295LL, "seed of the random bits, fading and noise")
      .add_string_list("link.schemes", {"awgn", "rayleigh", "alamouti_2x1", "alamouti_2x2"}, link::scheme_names(),
                       "link schemes to simulate (QPSK, Gray mapping, total transmit power fixed)")
      .add_float_list("link.ebn0_db", default_ebn0_grid(), -30.0, 60.0, "Eb/N0 grid per information bit (dB)")
      .add_int("link.n_bits", 2000000, 4, int64_t{1} << 34, "simulated bits per (scheme, Eb/N0) point")
      .add_int("link.beamforming.num_tx", 2, 1, link::kMaxTx,
               "transmit antennas of the 'beamforming' scheme (unit-norm DFT beam 0)")
      .add_int("link.beamforming.num_rx", 1, 1, link::kMaxRx, "receive antennas of the 'beamforming' scheme (MRC)");
  s.add_check([](const config::Config& c) {
    if (c.get_string_list("link.schemes").empty())
      fail("link.schemes: expected at least one scheme (one of {})", fmt::join(link::scheme_names(), ", "));
    if (c.get_float_list("link.ebn0_db").empty()) fail("link.ebn0_db: expected at least one Eb/N0 value");
  });
  return s;
}

int run_link(const config::Config& cfg, const std::string& run_dir, torch::Device device) {
  const auto& schemes = cfg.get_string_list("link.schemes");
  const auto& grid = cfg.get_float_list("link.ebn0_db");
  const int64_t n_bits = cfg.get_int("link.n_bits");
  const auto seed = static_cast<uint64_t>(cfg.get_int("seed"));
  cfg.check();  // non-empty schemes and grid

  std::string csv = "scheme,ebn0_db,ber,n_bits,bit_errors,ber_theory\n";
  for (const std::string& name : schemes) {
    const link::LinkShape shape =
        link::link_shape(link::parse_scheme(name), static_cast<int>(cfg.get_int("link.beamforming.num_tx")),
                         static_cast<int>(cfg.get_int("link.beamforming.num_rx")));
    const std::vector<link::BerPoint> points = link::simulate_ber(shape, grid, n_bits, seed, device);
    for (const link::BerPoint& p : points) {
      const double theory = link::ber_theory(shape, p.ebn0_db);
      csv += fmt::format("{},{},{},{},{},{}\n", name, p.ebn0_db, p.ber(), p.n_bits, p.bit_errors, theory);
      log::info("link {:>13} Eb/N0 {:5.1f} dB  BER {:.4e}  theory {:.4e}  ({} errors in {} bits)", name, p.ebn0_db,
                p.ber(), theory, p.bit_errors, p.n_bits);
    }
  }
  write_file_atomic(fs::join(run_dir, "link.csv"), csv);
  return 0;
}

config::Schema link_geometry_schema(const link::LinkConfig& d) {
  config::Schema s;
  s.add_string("channel.scheme", link::scheme_name(d.scheme), link::scheme_names(),
               "link scheme between the BS and every receiver")
      .add_int("channel.num_tx", d.num_tx, 1, link::kMaxTx,
               "BS antennas of the 'beamforming' scheme, or 2 x sub-array size of 'beam_alamouti'")
      .add_int("channel.num_rx", d.num_rx, 1, link::kMaxRx,
               "receive antennas of the 'beamforming' and 'beam_alamouti' schemes")
      .add_int("channel.num_beams", d.num_beams, 1, 4096, "size of the DFT beam codebook")
      .add_float_list("channel.bs_xy", {d.bs.x_m, d.bs.y_m}, -1e6, 1e6, "BS position [x, y] (m)")
      .add_float_list("channel.user_xy", {d.user.x_m, d.user.y_m}, -1e6, 1e6, "user position [x, y] (m)")
      .add_float_list("channel.eves_xy", {d.eves[0].x_m, d.eves[0].y_m, d.eves[1].x_m, d.eves[1].y_m}, -1e6, 1e6,
                      "Eve positions [x0, y0, x1, y1, ...] (m)")
      .add_float("channel.d0_m", d.d0_m, 1e-6, 1e6, "reference distance d0 of the path loss (d / d0)^-eta (m)")
      .add_float("channel.path_loss_exponent", d.path_loss_exponent, 0.0, 10.0, "path-loss exponent eta")
      .add_float("channel.p_tx_dbm", d.p_tx_dbm, -100.0, 100.0, "total transmit power (dBm)")
      .add_float("channel.bandwidth_hz", d.bandwidth_hz, 1.0, 1e12, "bandwidth B (Hz)")
      .add_float("channel.n0_dbm_per_hz", d.n0_dbm_per_hz, -250.0, 0.0, "noise power spectral density N0 (dBm/Hz)")
      .add_float("channel.rician_k", d.rician_k, 0.0, 1e6,
                 "Rician K factor (0 = Rayleigh fading, the paper's setting)");
  return s;
}

link::LinkConfig link_config(const config::Config& cfg) {
  link::LinkConfig c;
  c.scheme = link::parse_scheme(cfg.get_string("channel.scheme"));
  c.num_tx = static_cast<int>(cfg.get_int("channel.num_tx"));
  c.num_rx = static_cast<int>(cfg.get_int("channel.num_rx"));
  c.num_beams = static_cast<int>(cfg.get_int("channel.num_beams"));
  const auto& bs = cfg.get_float_list("channel.bs_xy");
  const auto& user = cfg.get_float_list("channel.user_xy");
  const auto& eves = cfg.get_float_list("channel.eves_xy");
  if (bs.size() != 2)
    fail("channel.bs_xy: expected [x, y], got {} values ({})", bs.size(), cfg.origin("channel.bs_xy"));
  if (user.size() != 2) {
    fail("channel.user_xy: expected [x, y], got {} values ({})", user.size(), cfg.origin("channel.user_xy"));
  }
  if (eves.empty() || eves.size() % 2 != 0) {
    fail("channel.eves_xy: expected [x0, y0, x1, y1, ...] with at least one Eve, got {} values ({})", eves.size(),
         cfg.origin("channel.eves_xy"));
  }
  c.bs = position_from(bs, 0);
  c.user = position_from(user, 0);
  c.eves.clear();
  for (size_t i = 0; i < eves.size(); i += 2) c.eves.push_back(position_from(eves, i));
  c.d0_m = cfg.get_float("channel.d0_m");
  c.path_loss_exponent = cfg.get_float("channel.path_loss_exponent");
  c.p_tx_dbm = cfg.get_float("channel.p_tx_dbm");
  c.bandwidth_hz = cfg.get_float("channel.bandwidth_hz");
  c.n0_dbm_per_hz = cfg.get_float("channel.n0_dbm_per_hz");
  c.rician_k = cfg.get_float("channel.rician_k");
  try {
    link::validate(c);
  } catch (const Error& e) {
    fail("channel.*: {}", e.what());
  }
  return c;
}

}  // namespace semsec::trainers
