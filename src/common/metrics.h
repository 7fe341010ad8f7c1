#pragma once
// A small, thread-safe metrics registry rendered in the Prometheus text exposition format.
// Concerns declare their series by name; labels are passed as ordered key/value pairs.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace wanserve {

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  void Describe(const std::string& name, const std::string& type, const std::string& help);
  void Increment(const std::string& name, const Labels& labels = {}, double by = 1);
  void SetGauge(const std::string& name, const Labels& labels, double value);
  // Histogram observation; buckets are fixed per metric at the first Describe/Observe.
  void Observe(const std::string& name, const Labels& labels, double value);

  double Value(const std::string& name, const Labels& labels = {}) const;
  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    std::string type = "counter";
    std::string help;
    std::map<std::string, double> values;        // rendered labels -> value
    std::map<std::string, Histogram> histograms;  // rendered labels -> histogram
  };
  static std::string RenderLabels(const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace wanserve
