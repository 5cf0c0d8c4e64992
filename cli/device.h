// The device of a command: --device (cpu, cuda, cuda:N, auto), else SEMSEC_DEVICE, else auto.
#pragma once

#include <string>

#include <torch/torch.h>

#include "core/cli_args.h"

namespace semsec {

// cpu, cuda or cuda:N (checked against the devices present); semsec::Error naming the text.
torch::Device parse_device(const std::string& text);

// The device of --device, else of SEMSEC_DEVICE, else `auto`: the GPU when one is present (in a
// job of several processes the process's cuda:LOCAL_RANK; plain `cuda` there too), else the CPU;
// the log says which.
torch::Device device_option(const CliArgs& args);

}  // namespace semsec
