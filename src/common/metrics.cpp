#include "common/metrics.h"

#include <fmt/format.h>

namespace wanserve {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string WithLabel(const std::string& rendered, const std::string& extra) {
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}

}  // namespace

const std::vector<double>& MetricsRegistry::DefaultBuckets() {
  static const std::vector<double> kBuckets = {0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900};
  return kBuckets;
}

void MetricsRegistry::AddCollector(std::function<void(MetricsRegistry&)> collector) {
  std::lock_guard lock(collectors_mu_);
  collectors_.push_back(std::move(collector));
}

void MetricsRegistry::SetHistogram(const std::string& name, const Labels& labels,
                                   const std::vector<uint64_t>& counts, double sum, uint64_t count) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  f.type = "histogram";
  auto& h = f.histograms[RenderLabels(labels)];
  h.bounds = DefaultBuckets();
  h.counts = counts;
  h.sum = sum;
  h.count = count;
}

std::string MetricsRegistry::RenderLabels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"" + EscapeLabel(labels[i].second) + "\"";
  }
  return out + "}";
}

void MetricsRegistry::Describe(const std::string& name, const std::string& type,
                               const std::string& help) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  f.type = type;
  f.help = help;
}

void MetricsRegistry::Increment(const std::string& name, const Labels& labels, double by) {
  std::lock_guard lock(mu_);
  families_[name].values[RenderLabels(labels)] += by;
}

void MetricsRegistry::SetGauge(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  f.type = "gauge";
  f.values[RenderLabels(labels)] = value;
}

void MetricsRegistry::SetCounter(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  families_[name].values[RenderLabels(labels)] = value;
}

void MetricsRegistry::Observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  f.type = "histogram";
  auto& h = f.histograms[RenderLabels(labels)];
  if (h.bounds.empty()) {
    h.bounds = DefaultBuckets();
    h.counts.assign(h.bounds.size(), 0);
  }
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    if (value <= h.bounds[i]) ++h.counts[i];
  }
  h.sum += value;
  ++h.count;
}

double MetricsRegistry::Value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto v = f->second.values.find(RenderLabels(labels));
  return v == f->second.values.end() ? 0 : v->second;
}

std::string MetricsRegistry::RenderPrometheus() {
  {
    std::lock_guard lock(collectors_mu_);
    for (auto& c : collectors_) c(*this);
  }
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += fmt::format("# HELP {} {}\n", name, f.help);
    out += fmt::format("# TYPE {} {}\n", name, f.type);
    for (const auto& [labels, v] : f.values) out += fmt::format("{}{} {}\n", name, labels, v);
    for (const auto& [labels, h] : f.histograms) {
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        out += fmt::format("{}_bucket{} {}\n", name,
                           WithLabel(labels, fmt::format("le=\"{}\"", h.bounds[i])), h.counts[i]);
      }
      out += fmt::format("{}_bucket{} {}\n", name, WithLabel(labels, "le=\"+Inf\""), h.count);
      out += fmt::format("{}_sum{} {}\n", name, labels, h.sum);
      out += fmt::format("{}_count{} {}\n", name, labels, h.count);
    }
  }
  return out;
}

}  // namespace wanserve
