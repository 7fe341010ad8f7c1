#include "common/metrics.h"

#include <gtest/gtest.h>

namespace wanserve {

TEST(Metrics, RendersCountersGaugesAndHistograms) {
  MetricsRegistry m;
  m.Describe("http_requests_total", "counter", "Requests by route and code");
  m.Increment("http_requests_total", {{"route", "/a"}, {"code", "200"}});
  m.Increment("http_requests_total", {{"route", "/a"}, {"code", "200"}});
  m.SetGauge("queue_depth", {}, 7);
  m.Observe("task_seconds", {{"kind", "image"}}, 0.2);
  const std::string text = m.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE http_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("http_requests_total{route=\"/a\",code=\"200\"} 2"), std::string::npos);
  EXPECT_NE(text.find("queue_depth 7"), std::string::npos);
  EXPECT_NE(text.find("task_seconds_bucket{kind=\"image\",le=\"0.5\"} 1"), std::string::npos);
  EXPECT_NE(text.find("task_seconds_bucket{kind=\"image\",le=\"0.1\"} 0"), std::string::npos);
  EXPECT_NE(text.find("task_seconds_count{kind=\"image\"} 1"), std::string::npos);
  EXPECT_EQ(m.Value("http_requests_total", {{"route", "/a"}, {"code", "200"}}), 2);
}

}  // namespace wanserve
