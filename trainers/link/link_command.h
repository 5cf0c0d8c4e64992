// `semsec link`: Monte-Carlo BER versus Eb/N0 of the link-level schemes (kernels/link_level/link_level_op.h) next
// to their closed forms, written to RUN_DIR/link.csv. Also the reusable `channel.*` keys of the
// geometric CLSSR link (BS, user, Eves, path loss, beams) for commands that drive it.
#pragma once

#include <torch/torch.h>

#include <string>

#include "core/config.h"
#include "kernels/link_level/link_level_op.h"

namespace semsec::trainers {

// Keys: experiment.name, seed, link.schemes, link.ebn0_db, link.n_bits,
// link.beamforming.num_tx, link.beamforming.num_rx.
config::Schema link_schema();

// Simulates every scheme of link.schemes at every Eb/N0 of link.ebn0_db on `device` and writes
// RUN_DIR/link.csv (atomically) with the header `scheme,ebn0_db,ber,n_bits,bit_errors,ber_theory`,
// one row per (scheme, Eb/N0) in configuration order. The caller creates run_dir and saves the
// configuration. Returns 0.
int run_link(const config::Config& cfg, const std::string& run_dir, torch::Device device = torch::kCPU);

// The geometric link as configuration keys (defaults: Sec. V of the CLSSR paper):
// channel.scheme, channel.num_tx, channel.num_rx, channel.num_beams, channel.bs_xy [x, y],
// channel.user_xy [x, y], channel.eves_xy [x0, y0, x1, y1, ...], channel.d0_m,
// channel.path_loss_exponent, channel.p_tx_dbm, channel.bandwidth_hz, channel.n0_dbm_per_hz,
// channel.rician_k. Add them to a command's schema with Schema::extend. `defaults` gives the
// default values (a command may default to another scheme or path-loss exponent).
config::Schema link_geometry_schema(const link::LinkConfig& defaults = link::LinkConfig{});
// Reads those keys; semsec::Error names the key of a malformed position list or a bad geometry.
link::LinkConfig link_config(const config::Config& cfg);

}  // namespace semsec::trainers
