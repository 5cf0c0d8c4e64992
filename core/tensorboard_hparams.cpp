// TensorBoard's HParams plugin data, hand-encoded: HParamsPluginData (tensorboard/plugins/hparams/
// plugin_data.proto) holding an Experiment, a SessionStartInfo or a SessionEndInfo (api.proto),
// each in a Summary.Value's metadata under the plugin name "hparams" and the plugin's tags. The
// optional start and end times are left out: each event's wall time records when it was written.
#include <string>
#include <vector>

#include "core/protobuf_wire.h"
#include "core/tensorboard.h"

namespace semsec::tb {
namespace {

using namespace wire;

// SummaryMetadata (tensorboard/compat/proto/summary.proto).
constexpr int kMetadataPluginData = 1;
constexpr int kPluginName = 1;
constexpr int kPluginContent = 2;
// HParamsPluginData (version 0, the plugin's PLUGIN_DATA_VERSION, is proto3's default: not written).
constexpr int kDataExperiment = 2;
constexpr int kDataSessionStart = 3;
constexpr int kDataSessionEnd = 4;
// Experiment, HParamInfo, MetricInfo, MetricName.
constexpr int kExperimentHParamInfos = 4;
constexpr int kExperimentMetricInfos = 5;
constexpr int kHParamInfoName = 1;
constexpr int kHParamInfoType = 4;
constexpr int kMetricInfoName = 1;
constexpr int kMetricNameTag = 2;
constexpr int kDataTypeString = 1;
constexpr int kDataTypeFloat64 = 3;
// SessionStartInfo (hparams: map<string, google.protobuf.Value>), SessionEndInfo, Status.
constexpr int kStartHParams = 1;
constexpr int kMapKey = 1;
constexpr int kMapValue = 2;
constexpr int kValueNumber = 2;  // google.protobuf.Value
constexpr int kValueString = 3;
constexpr int kEndStatus = 1;
constexpr int kStatusSuccess = 1;
constexpr int kStatusFailure = 2;

// A Summary.Value with no data of its own: the plugin's content sits in its metadata.
std::string plugin_value(const std::string& tag, int data_field, const std::string& message) {
  std::string data;
  put_bytes(data, data_field, message);
  std::string plugin;
  put_bytes(plugin, kPluginName, "hparams");
  put_bytes(plugin, kPluginContent, data);
  std::string metadata;
  put_bytes(metadata, kMetadataPluginData, plugin);
  std::string value;
  put_bytes(value, kValueTag, tag);
  put_bytes(value, kValueMetadata, metadata);
  return value;
}

std::string experiment(const std::vector<HParam>& hparams, const std::vector<std::string>& metric_tags) {
  std::string out;
  for (const HParam& h : hparams) {
    std::string info;
    put_bytes(info, kHParamInfoName, h.name);
    put_key(info, kHParamInfoType, kVarint);
    put_varint(info, std::holds_alternative<double>(h.value) ? kDataTypeFloat64 : kDataTypeString);
    put_bytes(out, kExperimentHParamInfos, info);
  }
  for (const std::string& tag : metric_tags) {
    std::string name;
    put_bytes(name, kMetricNameTag, tag);  // group "": the scalar lives in this session's own run
    std::string info;
    put_bytes(info, kMetricInfoName, name);
    put_bytes(out, kExperimentMetricInfos, info);
  }
  return out;
}

std::string session_start(const std::vector<HParam>& hparams) {
  std::string out;
  for (const HParam& h : hparams) {
    std::string value;
    if (const double* d = std::get_if<double>(&h.value)) {
      put_double(value, kValueNumber, *d);
    } else {
      put_bytes(value, kValueString, std::get<std::string>(h.value));
    }
    std::string entry;
    put_bytes(entry, kMapKey, h.name);
    put_bytes(entry, kMapValue, value);
    put_bytes(out, kStartHParams, entry);
  }
  return out;
}

}  // namespace

void EventWriter::add_hparams(const std::vector<HParam>& hparams, const std::vector<std::string>& metric_tags,
                              bool ok) {
  add_summary_value(plugin_value("_hparams_/experiment", kDataExperiment, experiment(hparams, metric_tags)), 0);
  add_summary_value(plugin_value("_hparams_/session_start_info", kDataSessionStart, session_start(hparams)), 0);
  std::string end;
  put_key(end, kEndStatus, kVarint);
  put_varint(end, ok ? kStatusSuccess : kStatusFailure);
  add_summary_value(plugin_value("_hparams_/session_end_info", kDataSessionEnd, end), 0);
}

}  // namespace semsec::tb
