// skills.video's streaming create (POST /api/v1/generation/sse/...) and the event stream of an
// existing task, read the way its agent tooling reads them; and its multipart bodies.
#include <fmt/format.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "e2e_fixture.h"
#include "media/probe.h"

namespace wanserve::e2e {
namespace {

struct Event {
  std::string name;
  json data;
};

// The events of a text/event-stream body; comments (heartbeats) are skipped.
std::vector<Event> ParseEvents(const std::string& body) {
  std::vector<Event> out;
  size_t at = 0;
  while (at < body.size()) {
    size_t end = body.find("\n\n", at);
    if (end == std::string::npos) end = body.size();
    Event e;
    std::string data;
    for (size_t line = at; line < end;) {
      size_t eol = body.find('\n', line);
      if (eol == std::string::npos || eol > end) eol = end;
      const std::string text = body.substr(line, eol - line);
      if (text.starts_with("event: ")) e.name = text.substr(7);
      if (text.starts_with("data: ")) data += text.substr(6);
      line = eol + 1;
    }
    if (!e.name.empty()) {
      e.data = json::parse(data, nullptr, false);
      out.push_back(std::move(e));
    }
    at = end + 2;
  }
  return out;
}

class StreamingE2E : public ServerTest {
 protected:
  // Slow enough that progress shows up between the first and the last event.
  void SetUp() override {
    StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "5",
                 "--providers-testpattern-step-delay-ms", "300"});
  }

  net::HttpResult Stream(const std::string& path, const std::string& body) {
    return Call(body.empty() ? "GET" : "POST", path, body,
                {"Authorization: Bearer " + key_, "Content-Type: application/json", "Accept: text/event-stream"});
  }

  std::string MakePicture(int width, int height) {
    const std::string picture = (dir_.path() / fmt::format("form{}x{}.png", width, height)).string();
    auto made = testing::RunCommand({"ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                                     fmt::format("testsrc2=size={}x{}", width, height), "-frames:v", "1", picture});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    std::ifstream in(picture, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
};

TEST_F(StreamingE2E, TheStreamingCreateSendsTheGenerationThenEachChangeThenTheOutputs) {
  auto r = Stream("/api/v1/generation/sse/wan/wan-v2.7", R"({"prompt":"a lighthouse","aspect_ratio":"16:9"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  auto events = ParseEvents(r.body);
  ASSERT_GE(events.size(), 3u) << r.body;
  EXPECT_EQ(events.front().name, "created");
  const std::string id = events.front().data.value("id", "");
  EXPECT_TRUE(id.starts_with("gen_")) << r.body;
  EXPECT_EQ(events.front().data["status"], "IN_QUEUE");
  EXPECT_EQ(events.front().data["input"]["aspect_ratio"], "16:9");
  int last_progress = -1;
  for (const auto& e : events) {
    EXPECT_EQ(e.data["id"], id) << "every event is the same generation";
    EXPECT_GE(e.data.value("progress", 0), last_progress) << r.body;
    last_progress = e.data.value("progress", 0);
  }
  // The stream reports the generation as it finds it at each poll, so on a loaded machine
  // (ASan on the CI runner) steps may fold into one event; at least one progress event shows.
  EXPECT_GE(std::count_if(events.begin(), events.end(), [](const Event& e) { return e.name == "progress"; }), 1)
      << r.body;
  const Event& last = events.back();
  EXPECT_EQ(last.name, "completed");
  EXPECT_EQ(last.data["status"], "COMPLETED");
  ASSERT_TRUE(last.data["data"].is_object()) << r.body;
  auto image = media::ProbeImageFile(Download(last.data["data"]["image"]["url"]));
  ASSERT_TRUE(image.ok()) << image.error().message;
  EXPECT_EQ(image->width, 1024);

  // The polling query agrees, and the event stream of the finished task is its final state.
  json polled = json::parse(Authed("GET", "/api/v1/generation/" + id).body);
  EXPECT_EQ(polled["status"], "COMPLETED");
  auto replay = ParseEvents(Stream("/api/v1/generation/" + id + "/events", "").body);
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(replay[0].name, "completed");
  EXPECT_EQ(replay[0].data["data"], last.data["data"]);
}

TEST_F(StreamingE2E, EveryModelStreamsAndBadInputIsAnErrorBeforeAnyStream) {
  const std::string clip = UploadClip(2);
  const struct {
    std::string path, body, final_event;
  } cases[] = {
      {"wan/wan-v2.7-pro", R"({"prompt":"x","image_size":"square"})", "completed"},
      {"wan/wan-v2.7/edit-video", fmt::format(R"({{"prompt":"neon","video_url":"{}"}})", clip), "completed"},
      {"wan/wan-v2.7-video", R"({"prompt":"waves","duration":2,"resolution":"720p"})", "completed"},
  };
  for (const auto& c : cases) {
    auto r = Stream("/api/v1/generation/sse/" + c.path, c.body);
    ASSERT_EQ(r.status, 200) << c.path << ": " << r.body;
    auto events = ParseEvents(r.body);
    ASSERT_FALSE(events.empty()) << c.path;
    EXPECT_EQ(events.front().name, "created") << c.path;
    EXPECT_EQ(events.back().name, c.final_event) << c.path << ": " << r.body;
  }
  auto bad = Stream("/api/v1/generation/sse/wan/wan-v2.7-video", R"({"prompt":"x","duration":99})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["code"], "VIDEO_GENERATION_INVALID_INPUT") << bad.body;
  auto unknown = Stream("/api/v1/generation/sse/wan/wan-v9", R"({"prompt":"x"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(json::parse(unknown.body)["code"], "IMAGE_GENERATION_UNSUPPORTED_MODEL") << unknown.body;
  auto missing = Stream("/api/v1/generation/gen_doesnotexist/events", "");
  EXPECT_EQ(missing.status, 404) << missing.body;
}

TEST_F(StreamingE2E, AShutdownEndsTheStreamCleanlyAndTheTaskGoesOn) {
  net::HttpResult streamed;
  std::thread client([&] {
    streamed = Stream("/api/v1/generation/sse/wan/wan-v2.7-video", R"({"prompt":"slow waves","duration":2})");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  RestartServer(SIGTERM, last_extra_);
  client.join();
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  auto events = ParseEvents(streamed.body);
  ASSERT_GE(events.size(), 2u) << streamed.body;
  EXPECT_EQ(events.front().name, "created");
  EXPECT_EQ(events.back().name, "interrupted") << streamed.body;
  EXPECT_NE(events.back().data.value("message", "").find("GET /api/v1/generation/"), std::string::npos);
  // The task was accepted before the shutdown; the restarted server finishes it.
  json done = WaitDone(events.front().data["id"]);
  EXPECT_EQ(done["status"], "COMPLETED") << done.dump();
}

TEST_F(StreamingE2E, MultipartBodiesCarryFilesAndRepeatedListFields) {
  const std::string picture = MakePicture(640, 480);
  const std::string boundary = "----wanserve-test-boundary";
  auto part = [&](const std::string& name, const std::string& value, const std::string& file = "") {
    std::string head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"";
    if (!file.empty()) head += "; filename=\"" + file + "\"\r\nContent-Type: image/png";
    return head + "\r\n\r\n" + value + "\r\n";
  };
  const std::string remote = UploadPicture(512, 512);
  const std::string body = part("prompt", "make it autumn") + part("image_urls", picture, "mine.png") +
                           part("image_urls", remote) + part("seed", "42") + part("num_images", "2") +
                           "--" + boundary + "--\r\n";
  auto r = Call("POST", "/api/v1/generation/wan/wan-v2.7", body,
                {"Authorization: Bearer " + key_, "Content-Type: multipart/form-data; boundary=" + boundary});
  ASSERT_EQ(r.status, 200) << r.body;
  json created = json::parse(r.body);
  ASSERT_EQ(created["input"]["image_urls"].size(), 2u) << r.body;
  const std::string stored = created["input"]["image_urls"][0];
  EXPECT_TRUE(stored.starts_with(server_->base_url() + "/files/")) << "the file part became a link of ours";
  EXPECT_EQ(created["input"]["image_urls"][1], remote);
  EXPECT_EQ(created["input"]["seed"], 42);
  EXPECT_EQ(created["input"]["n"], 2);
  std::ifstream in(Download(stored), std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), picture);
  json done = WaitDone(created["id"]);
  EXPECT_EQ(done["status"], "COMPLETED") << done.dump();
  EXPECT_EQ(done["data"]["images"].size(), 2u);

  const std::string text = "not a picture";
  auto refused = Call("POST", "/api/v1/generation/wan/wan-v2.7",
                      part("prompt", "x") + part("image_urls", text, "fake.png") + "--" + boundary + "--\r\n",
                      {"Authorization: Bearer " + key_, "Content-Type: multipart/form-data; boundary=" + boundary});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(json::parse(refused.body).value("message", "").find("image_urls: unsupported file type"), std::string::npos)
      << refused.body;
  auto broken = Call("POST", "/api/v1/generation/wan/wan-v2.7", part("prompt", "x"),
                     {"Authorization: Bearer " + key_, "Content-Type: multipart/form-data; boundary=" + boundary});
  EXPECT_EQ(broken.status, 400) << broken.body;
}

}  // namespace
}  // namespace wanserve::e2e
