#pragma once
// A small, thread-safe metrics registry rendered in the Prometheus text exposition format.
// Concerns declare their series by name; labels are passed as ordered key/value pairs.
#include <cstdint>
#include <functional>
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
  // Publishes a counter aggregated elsewhere (absolute value, type counter).
  void SetCounter(const std::string& name, const Labels& labels, double value);
  // Histogram observation; buckets are fixed per metric at the first Describe/Observe.
  void Observe(const std::string& name, const Labels& labels, double value);

  double Value(const std::string& name, const Labels& labels = {}) const;
  // Collectors run before each rendering; hot paths keep their own atomics and publish them
  // here instead of taking the registry's lock per event.
  void AddCollector(std::function<void(MetricsRegistry&)> collector);
  std::string RenderPrometheus();
  // Sets a histogram from already aggregated buckets (same bounds as DefaultBuckets()).
  void SetHistogram(const std::string& name, const Labels& labels, const std::vector<uint64_t>& counts,
                    double sum, uint64_t count);
  static const std::vector<double>& DefaultBuckets();

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
  std::mutex collectors_mu_;
  std::vector<std::function<void(MetricsRegistry&)>> collectors_;
};

}  // namespace wanserve
