// The local Wan engine behind the public API: text-to-image and text-to-video tasks of every
// dialect run on the tiny presets (routed to `local` only, so nothing else can answer), with
// progress, seeds that reproduce, and cancel between denoising steps. The tiny presets render
// at an eighth of the asked width and height and are never scaled back up.
#include <fstream>
#include <thread>

#include "e2e_fixture.h"
#include "media/probe.h"

namespace wanserve::e2e {
namespace {

class LocalEngineE2E : public ServerTest {
 protected:
  void StartLocal(int workers = 1, const std::string& model = "tiny") {
    const auto cfg = dir_.path() / "wanserve.toml";
    std::ofstream(cfg) << "[routing]\n\"*\" = [\"local\"]\n[providers.local]\nmodel = \"" << model << "\"\n";
    // Renewing leases often lets a running task see its cancel within a fraction of a second.
    StartServer({"--config", cfg.string(), "--workers-renew-every-ms", "200", "--workers-count",
                 std::to_string(workers)});
  }

  // Polls until the task is processing with at least `min_progress`; its last answer.
  json WaitProcessing(const std::string& id, int min_progress) {
    json seen;
    for (int i = 0; i < 600; ++i) {
      seen = json::parse(Authed("GET", "/v1/tasks/" + id).body);
      if (seen["status"] == "processing" && seen["progress"].get<int>() >= min_progress) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return seen;
  }

  // The video behind url, decoded as a player would; an empty record (and a failure) if it is not.
  media::MediaInfo ProbeVideo(const std::string& url) {
    auto info = media::ProbeVideoFile(Download(url));
    EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().message);
    return info.ok() ? *info : media::MediaInfo{};
  }

  std::string Bytes(const std::string& url) {
    std::ifstream in(Download(url), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
};

TEST_F(LocalEngineE2E, ImagesAndVideosOfEveryDialectRunOnTheEngine) {
  StartLocal();
  const std::string image = R"({"model":"wan-2.7-image","prompt":"a lighthouse","size":{"width":320,"height":256},"seed":5})";
  const std::string u1 = json::parse(Authed("POST", "/v1/images/generations", image).body)["id"];
  const std::string u2 = json::parse(Authed("POST", "/v1/images/generations", image).body)["id"];
  const std::string u3 = json::parse(Authed("POST", "/v1/images/generations",
      R"({"model":"wan-2.7-image","prompt":"a lighthouse","size":{"width":320,"height":256},"seed":6})").body)["id"];
  const std::string video = json::parse(Authed("POST", "/v1/videos/generations",
      R"({"model":"wan2.7-text-to-video","prompt":"waves","duration":2,"aspect_ratio":"16:9"})").body)["id"];
  const std::string gen = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7",
      R"({"prompt":"a cat","aspect_ratio":"1:1"})").body)["id"];
  const std::string job = json::parse(Authed("POST", "/api/v1/jobs/createTask",
      R"({"model":"wan/2-7-text-to-video","input":{"prompt":"rain","resolution":"720p","duration":2}})").body)["data"]["taskId"];
  auto native = Call("POST", "/api/v1/services/aigc/image-generation/generation",
                     R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"a fox"}]}]},
                         "parameters":{"size":"640*512"}})",
                     {"Authorization: Bearer " + key_, "X-DashScope-Async: enable"});
  ASSERT_EQ(native.status, 200) << native.body;

  const json d1 = WaitDone(u1);
  ASSERT_EQ(d1["status"], "completed") << d1.dump();
  EXPECT_EQ(d1["progress"], 100);
  const json d2 = WaitDone(u2);
  const json d3 = WaitDone(u3);
  ASSERT_EQ(d3["status"], "completed") << d3.dump();
  const std::string png1 = Bytes(d1["results"][0]);
  EXPECT_EQ(png1, Bytes(d2["results"][0])) << "the same seed gives the same image";
  EXPECT_NE(png1, Bytes(d3["results"][0])) << "another seed gives another image";
  auto info = media::ProbeImageFile(Download(d1["results"][0]));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->width, 40) << "an eighth of 320x256, not scaled up";
  EXPECT_EQ(info->height, 32);

  const json dv = WaitDone(video);
  ASSERT_EQ(dv["status"], "completed") << dv.dump();
  auto clip = media::ProbeVideoFile(Download(dv["results"][0]));
  ASSERT_TRUE(clip.ok()) << clip.error().message;
  EXPECT_EQ(clip->video_codec, "h264");
  EXPECT_EQ(clip->width, 160) << "720p 16:9 at an eighth, on the 16-pixel grid";
  EXPECT_EQ(clip->height, 96);
  EXPECT_EQ(clip->frames, 33) << "2 s at the model's 16 fps, as 1 + 4k frames";
  EXPECT_FALSE(clip->has_audio) << "the engine makes no soundtrack";

  const json dg = WaitDone(gen);
  ASSERT_EQ(dg["status"], "COMPLETED") << dg.dump();
  auto square = media::ProbeImageFile(Download(dg["data"]["image"]["url"]));
  ASSERT_TRUE(square.ok());
  EXPECT_EQ(square->width, 128);
  EXPECT_EQ(square->height, 128);

  const json dj = WaitDone(job);
  ASSERT_EQ(dj["data"]["state"], "success") << dj.dump();
  auto market = media::ProbeVideoFile(Download(json::parse(dj["data"]["resultJson"].get<std::string>())["resultUrls"][0]));
  ASSERT_TRUE(market.ok());
  EXPECT_EQ(market->frames, 33);

  const json dn = WaitDone(json::parse(native.body)["output"]["task_id"]);
  ASSERT_EQ(dn["output"]["task_status"], "SUCCEEDED") << dn.dump();
  auto fox = media::ProbeImageFile(Download(dn["output"]["choices"][0]["message"]["content"][0]["image"]));
  ASSERT_TRUE(fox.ok());
  EXPECT_EQ(fox->width, 80);
  EXPECT_EQ(fox->height, 64);
}

// Image edits restyle the uploaded picture on the engine (SDEdit) and come out at the size the
// dialect asked for, an eighth of it on tiny.
TEST_F(LocalEngineE2E, ImageEditsOfEveryDialectRunOnTheEngine) {
  StartLocal();
  const std::string picture = UploadPicture(512, 384);
  const std::string skills = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7",
      json{{"prompt", "in clay"}, {"image_urls", {picture}}, {"aspect_ratio", "4:3"}, {"seed", 3}}.dump()).body)["id"];
  const std::string unified = json::parse(Authed("POST", "/v1/images/generations",
      json{{"model", "wan-2.7-image"}, {"prompt", "in clay"}, {"image_urls", {picture}},
           {"size", {{"width", 512}, {"height", 384}}}}.dump()).body)["id"];
  const std::string market = json::parse(Authed("POST", "/api/v1/jobs/createTask",
      json{{"model", "wan/2-7-image"}, {"input", {{"prompt", "in clay"}, {"input_urls", {picture}}, {"resolution", "1K"},
                                                  {"aspect_ratio", "1:1"}}}}.dump()).body)["data"]["taskId"];
  auto native = Call("POST", "/api/v1/services/aigc/image-generation/generation",
                     json{{"model", "wan2.7-image"},
                          {"input", {{"messages", {{{"role", "user"}, {"content", {{{"text", "in clay"}}, {{"image", picture}}}}}}}}},
                          {"parameters", {{"size", "640*512"}}}}.dump(),
                     {"Authorization: Bearer " + key_, "X-DashScope-Async: enable", "Content-Type: application/json"});
  ASSERT_EQ(native.status, 200) << native.body;

  auto size_of = [&](const std::string& url) {
    auto info = media::ProbeImageFile(Download(url));
    EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().message);
    return info.ok() ? std::make_pair(info->width, info->height) : std::make_pair(0, 0);
  };
  const json ds = WaitDone(skills);
  ASSERT_EQ(ds["status"], "COMPLETED") << ds.dump();
  EXPECT_EQ(size_of(ds["data"]["image"]["url"]), std::make_pair(128, 96));
  const json du = WaitDone(unified);
  ASSERT_EQ(du["status"], "completed") << du.dump();
  EXPECT_EQ(size_of(du["results"][0]), std::make_pair(64, 48));
  const json dm = WaitDone(market);
  ASSERT_EQ(dm["data"]["state"], "success") << dm.dump();
  EXPECT_EQ(size_of(json::parse(dm["data"]["resultJson"].get<std::string>())["resultUrls"][0]), std::make_pair(128, 128));
  const json dn = WaitDone(json::parse(native.body)["output"]["task_id"]);
  ASSERT_EQ(dn["output"]["task_status"], "SUCCEEDED") << dn.dump();
  EXPECT_EQ(size_of(dn["output"]["choices"][0]["message"]["content"][0]["image"]), std::make_pair(80, 64));

  // Several references need a provider that uses them: refused at submit, nothing charged.
  auto two = Authed("POST", "/api/v1/generation/wan/wan-v2.7",
                    json{{"prompt", "mix"}, {"image_urls", {picture, picture}}}.dump());
  EXPECT_EQ(two.status, 400) << two.body;
  EXPECT_NE(json::parse(two.body)["message"].get<std::string>().find("one reference image"), std::string::npos);
}

// Video edits keep the input's length (duration 0) or its first seconds, never more, and its
// sound when asked; the picture follows the input's aspect ratio.
TEST_F(LocalEngineE2E, VideoEditsOfEveryDialectRunOnTheEngine) {
  StartLocal();
  const std::string clip = UploadClip(2, "", /*audio=*/true);
  const std::string kept = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7/edit-video",
      json{{"prompt", "clay"}, {"video_url", clip}, {"resolution", "720p"}, {"audio_setting", "origin"}}.dump()).body)["id"];
  const std::string longer_clip = UploadClip(3);
  const std::string cut = json::parse(Authed("POST", "/v1/videos/generations",
      json{{"model", "wan2.7-video-edit"}, {"prompt", "clay"}, {"video_urls", {longer_clip}}, {"duration", 2}}.dump()).body)["id"];
  const std::string longer = json::parse(Authed("POST", "/api/v1/jobs/createTask",
      json{{"model", "wan/2-7-videoedit"}, {"input", {{"prompt", "clay"}, {"video_url", clip}, {"resolution", "720p"},
                                                      {"duration", 10}}}}.dump()).body)["data"]["taskId"];
  auto native = Call("POST", "/api/v1/services/aigc/video-generation/video-synthesis",
                     json{{"model", "wan2.7-videoedit"}, {"input", {{"prompt", "clay"}, {"media", {{{"type", "video"}, {"url", clip}}}}}},
                          {"parameters", {{"resolution", "720P"}, {"ratio", "16:9"}}}}.dump(),
                     {"Authorization: Bearer " + key_, "X-DashScope-Async: enable", "Content-Type: application/json"});
  ASSERT_EQ(native.status, 200) << native.body;

  const json dk = WaitDone(kept);
  ASSERT_EQ(dk["status"], "COMPLETED") << dk.dump();
  const media::MediaInfo k = ProbeVideo(dk["data"]["video"]["url"]);
  EXPECT_EQ(k.frames, 32) << "duration 0 keeps the input's 2 s, at the model's 16 fps";
  EXPECT_TRUE(k.has_audio) << "audio_setting origin keeps the input's sound";
  EXPECT_NEAR(static_cast<double>(k.width) / k.height, 4.0 / 3.0, 0.15) << "the input's aspect ratio";
  EXPECT_LE(k.width * k.height, 1280 * 720 / 64 * 13 / 10) << "720p at an eighth";

  const json dc = WaitDone(cut);
  ASSERT_EQ(dc["status"], "completed") << dc.dump();
  const media::MediaInfo c = ProbeVideo(dc["results"][0]);
  EXPECT_EQ(c.frames, 32) << "duration 2 keeps the first 2 s of 3";
  EXPECT_FALSE(c.has_audio) << "audio_setting auto: the engine makes no sound, and none is made up";

  const json dl = WaitDone(longer);
  ASSERT_EQ(dl["data"]["state"], "success") << dl.dump();
  EXPECT_EQ(ProbeVideo(json::parse(dl["data"]["resultJson"].get<std::string>())["resultUrls"][0]).frames, 32)
      << "10 s asked of a 2 s input: never longer than the input";

  const json dn = WaitDone(json::parse(native.body)["output"]["task_id"]);
  ASSERT_EQ(dn["output"]["task_status"], "SUCCEEDED") << dn.dump();
  const media::MediaInfo n = ProbeVideo(dn["output"]["video_url"]);
  EXPECT_NEAR(static_cast<double>(n.width) / n.height, 16.0 / 9.0, 0.2) << "an asked ratio wins over the input's";
  EXPECT_EQ(n.frames, 32);
  EXPECT_TRUE(dn["usage"]["output_video_duration"].is_number_float()) << "edits report hundredths: " << dn.dump();
  EXPECT_NEAR(dn["usage"]["duration"].get<double>(), 4.0, 0.01) << "input and output seconds";

  // A reference image is followed by the VACE preset that "tiny" includes.
  auto referenced = Authed("POST", "/api/v1/generation/wan/wan-v2.7/edit-video",
                           json{{"prompt", "clay"}, {"video_url", clip}, {"reference_image_url", UploadPicture(400, 400)}}.dump());
  ASSERT_EQ(referenced.status, 200) << referenced.body;
  const json dr = WaitDone(json::parse(referenced.body)["id"]);
  ASSERT_EQ(dr["status"], "COMPLETED") << dr.dump();
  EXPECT_EQ(ProbeVideo(dr["data"]["video"]["url"]).frames, 32) << "the input's length";
}

TEST_F(LocalEngineE2E, ImageToVideoOfEveryDialectRunsOnTheTi2vPresetAndReferenceToVideoIsRefused) {
  StartLocal(1, "tiny-ti2v");
  const std::string frame = UploadPicture(320, 240);
  const std::string unified = json::parse(Authed("POST", "/v1/videos/generations",
      json{{"model", "wan2.7-image-to-video"}, {"prompt", "waves"}, {"image_start", frame}, {"duration", 2}}.dump()).body)["id"];
  const std::string job = json::parse(Authed("POST", "/api/v1/jobs/createTask",
      json{{"model", "wan/2-7-image-to-video"}, {"input", {{"prompt", "waves"}, {"first_frame_url", frame}, {"duration", 2},
                                                           {"resolution", "720p"}}}}.dump()).body)["data"]["taskId"];
  const std::string gen = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7-video",
      json{{"prompt", "waves"}, {"image_url", frame}, {"duration", 2}, {"resolution", "720p"}}.dump()).body)["id"];
  auto native = Call("POST", "/api/v1/services/aigc/video-generation/video-synthesis",
                     json{{"model", "wan2.7-i2v-2026-04-25"},
                          {"input", {{"prompt", "waves"}, {"media", {{{"type", "first_frame"}, {"url", frame}}}}}},
                          {"parameters", {{"resolution", "720P"}, {"duration", 2}}}}.dump(),
                     {"Authorization: Bearer " + key_, "X-DashScope-Async: enable", "Content-Type: application/json"});
  ASSERT_EQ(native.status, 200) << native.body;

  auto check = [&](const std::string& url, const std::string& who) {
    auto info = media::ProbeVideoFile(Download(url));
    ASSERT_TRUE(info.ok()) << who << ": " << info.error().message;
    EXPECT_NEAR(static_cast<double>(info->width) / info->height, 4.0 / 3.0, 0.2) << who << ": the frame's ratio";
    EXPECT_NEAR(info->duration_s, 2.0, 0.25) << who;
  };
  const json du = WaitDone(unified);
  ASSERT_EQ(du["status"], "completed") << du.dump();
  check(du["results"][0], "unified");
  const json dj = WaitDone(job);
  ASSERT_EQ(dj["data"]["state"], "success") << dj.dump();
  check(json::parse(dj["data"]["resultJson"].get<std::string>())["resultUrls"][0], "market");
  const json dg = WaitDone(gen);
  ASSERT_EQ(dg["status"], "COMPLETED") << dg.dump();
  check(dg["data"]["video"]["url"], "skills_video");
  const json dn = WaitDone(json::parse(native.body)["output"]["task_id"]);
  ASSERT_EQ(dn["output"]["task_status"], "SUCCEEDED") << dn.dump();
  check(dn["output"]["video_url"], "dashscope");
  EXPECT_EQ(dn["usage"]["input_video_duration"], 0) << dn.dump();

  // Reference-to-video needs a VACE preset, which this configuration lacks: refused at submit
  // in every dialect, before anything is held.
  auto r2v_unified = Authed("POST", "/v1/videos/generations",
                            json{{"model", "wan2.7-reference-video"}, {"prompt", "Image 1 waves"}, {"image_urls", {frame}}}.dump());
  EXPECT_GE(r2v_unified.status, 400) << r2v_unified.body;
  auto r2v_market = Authed("POST", "/api/v1/jobs/createTask",
                           json{{"model", "wan/2-7-r2v"}, {"input", {{"prompt", "Image 1 waves"}, {"reference_image", {frame}}}}}.dump());
  EXPECT_NE(json::parse(r2v_market.body)["code"], 200) << r2v_market.body;
  auto r2v_skills = Authed("POST", "/api/v1/generation/wan/wan-v2.7-video",
                           json{{"feature", "reference"}, {"prompt", "Image 1 waves"}, {"reference_image_urls", {frame}}}.dump());
  EXPECT_GE(r2v_skills.status, 400) << r2v_skills.body;
  auto r2v_native = Call("POST", "/api/v1/services/aigc/video-generation/video-synthesis",
                         json{{"model", "wan2.7-r2v"},
                              {"input", {{"prompt", "Image 1 waves"}, {"media", {{{"type", "reference_image"}, {"url", frame}}}}}}}.dump(),
                         {"Authorization: Bearer " + key_, "X-DashScope-Async: enable", "Content-Type: application/json"});
  EXPECT_GE(r2v_native.status, 400) << r2v_native.body;
}

TEST_F(LocalEngineE2E, ReferenceToVideoAndReferencedEditsOfEveryDialectRunOnTheVacePreset) {
  StartLocal(1, "tiny-vace");
  const std::string cat = UploadPicture(360, 240);
  const std::string dog = UploadPicture(240, 360);
  const std::string clip = UploadClip(2);
  const std::vector<std::string> native_headers = {"Authorization: Bearer " + key_, "X-DashScope-Async: enable",
                                                   "Content-Type: application/json"};
  const std::string unified = json::parse(Authed("POST", "/v1/videos/generations",
      json{{"model", "wan2.7-reference-video"}, {"prompt", "Image 1 chases Image 2"}, {"image_urls", {cat, dog}},
           {"duration", 2}, {"aspect_ratio", "1:1"}}.dump()).body)["id"];
  const std::string job = json::parse(Authed("POST", "/api/v1/jobs/createTask",
      json{{"model", "wan/2-7-r2v"}, {"input", {{"prompt", "Image 1 waves"}, {"reference_image", {cat}}, {"duration", 2},
                                                {"resolution", "720p"}}}}.dump()).body)["data"]["taskId"];
  const std::string gen = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7-video",
      json{{"feature", "reference"}, {"prompt", "Image 1 sleeps"}, {"reference_image_urls", {dog}}, {"duration", 2},
           {"resolution", "720p"}}.dump()).body)["id"];
  auto native = Call("POST", "/api/v1/services/aigc/video-generation/video-synthesis",
                     json{{"model", "wan2.7-r2v"},
                          {"input", {{"prompt", "Image 1 runs"},
                                     {"media", {{{"type", "reference_image"}, {"url", cat}},
                                                {{"type", "first_frame"}, {"url", dog}}}}}},
                          {"parameters", {{"resolution", "720P"}, {"duration", 2}}}}.dump(),
                     native_headers);
  ASSERT_EQ(native.status, 200) << native.body;
  const std::string edit = json::parse(Authed("POST", "/v1/videos/generations",
      json{{"model", "wan2.7-video-edit"}, {"prompt", "in the style of Image 1"}, {"video_urls", {clip}},
           {"image_urls", {cat}}}.dump()).body)["id"];
  const std::string market_edit = json::parse(Authed("POST", "/api/v1/jobs/createTask",
      json{{"model", "wan/2-7-videoedit"}, {"input", {{"prompt", "like Image 1"}, {"video_url", clip},
                                                      {"reference_image", cat}, {"resolution", "720p"}}}}.dump()).body)["data"]["taskId"];
  auto native_edit = Call("POST", "/api/v1/services/aigc/video-generation/video-synthesis",
                          json{{"model", "wan2.7-videoedit"},
                               {"input", {{"prompt", "like Image 1"},
                                          {"media", {{{"type", "video"}, {"url", clip}},
                                                     {{"type", "reference_image"}, {"url", dog}}}}}},
                               {"parameters", {{"resolution", "720P"}}}}.dump(),
                          native_headers);
  ASSERT_EQ(native_edit.status, 200) << native_edit.body;

  const json du = WaitDone(unified);
  ASSERT_EQ(du["status"], "completed") << du.dump();
  const media::MediaInfo u = ProbeVideo(du["results"][0]);
  EXPECT_EQ(u.width, u.height) << "the asked 1:1";
  EXPECT_NEAR(u.duration_s, 2.0, 0.15) << "the reference frames are not part of the video";
  const json dj = WaitDone(job);
  ASSERT_EQ(dj["data"]["state"], "success") << dj.dump();
  EXPECT_NEAR(ProbeVideo(json::parse(dj["data"]["resultJson"].get<std::string>())["resultUrls"][0]).duration_s, 2.0, 0.15);
  const json dg = WaitDone(gen);
  ASSERT_EQ(dg["status"], "COMPLETED") << dg.dump();
  const json dn = WaitDone(json::parse(native.body)["output"]["task_id"]);
  ASSERT_EQ(dn["output"]["task_status"], "SUCCEEDED") << dn.dump();
  const media::MediaInfo n = ProbeVideo(dn["output"]["video_url"]);
  EXPECT_LT(n.width, n.height) << "the first frame's portrait ratio wins";
  const json de = WaitDone(edit);
  ASSERT_EQ(de["status"], "completed") << de.dump();
  const media::MediaInfo e = ProbeVideo(de["results"][0]);
  EXPECT_EQ(e.frames, 32) << "the input's length";
  EXPECT_NEAR(static_cast<double>(e.width) / e.height, 4.0 / 3.0, 0.15) << "the input's ratio";
  const json dm = WaitDone(market_edit);
  ASSERT_EQ(dm["data"]["state"], "success") << dm.dump();
  EXPECT_EQ(ProbeVideo(json::parse(dm["data"]["resultJson"].get<std::string>())["resultUrls"][0]).frames, 32);
  const json dne = WaitDone(json::parse(native_edit.body)["output"]["task_id"]);
  ASSERT_EQ(dne["output"]["task_status"], "SUCCEEDED") << dne.dump();
  EXPECT_EQ(ProbeVideo(dne["output"]["video_url"]).frames, 32);

  // Reference videos are not something VACE takes: refused at submit, naming the field.
  auto with_video = Authed("POST", "/v1/videos/generations",
                           json{{"model", "wan2.7-reference-video"}, {"prompt", "Video 1"}, {"video_urls", {clip}}}.dump());
  EXPECT_EQ(with_video.status, 400) << with_video.body;
  EXPECT_NE(with_video.body.find("reference videos"), std::string::npos) << with_video.body;
}

TEST_F(LocalEngineE2E, CancelStopsARunningGenerationAndTheEngineTakesTheNextTask) {
  StartLocal();  // a 5 s 1080p video: 240x128 on tiny, about a second per denoising step
  const std::string slow = json::parse(Authed("POST", "/v1/videos/generations",
      R"({"model":"wan2.7-text-to-video","prompt":"slow","duration":5,"quality":"1080p"})").body)["id"];
  const json seen = WaitProcessing(slow, 1);
  ASSERT_EQ(seen["status"], "processing") << seen.dump();
  const int progress_at_cancel = seen["progress"];
  EXPECT_LT(progress_at_cancel, 100);
  EXPECT_EQ(Authed("POST", "/v1/tasks/" + slow + "/cancel").status, 200);
  const json done = WaitDone(slow, 120);
  EXPECT_EQ(done["status"], "failed") << done.dump();
  EXPECT_EQ(done["error"]["code"], "request_cancelled");

  const std::string next = json::parse(Authed("POST", "/v1/images/generations",
      R"({"model":"wan-2.7-image","prompt":"after","size":"square"})").body)["id"];
  EXPECT_EQ(WaitDone(next, 120)["status"], "completed");
}

TEST_F(LocalEngineE2E, ATaskWaitingBehindAnotherForTheEngineIsCanceledAtOnce) {
  StartLocal(2);  // two workers, one engine: the second task waits for the first
  const std::string body = R"({"model":"wan2.7-text-to-video","prompt":"slow","duration":5,"quality":"1080p"})";
  const std::string running = json::parse(Authed("POST", "/v1/videos/generations", body).body)["id"];
  ASSERT_EQ(WaitProcessing(running, 1)["status"], "processing");
  const std::string waiting = json::parse(Authed("POST", "/v1/videos/generations", body).body)["id"];
  ASSERT_EQ(WaitProcessing(waiting, 0)["status"], "processing") << "claimed by the second worker";

  EXPECT_EQ(Authed("POST", "/v1/tasks/" + waiting + "/cancel").status, 200);
  const json canceled = WaitDone(waiting, 10);
  EXPECT_EQ(canceled["error"]["code"], "request_cancelled") << canceled.dump();
  const json first = json::parse(Authed("GET", "/v1/tasks/" + running).body);
  EXPECT_EQ(first["status"], "processing") << "the cancel did not wait for the running task: " << first.dump();

  EXPECT_EQ(Authed("POST", "/v1/tasks/" + running + "/cancel").status, 200);
  EXPECT_EQ(WaitDone(running, 120)["error"]["code"], "request_cancelled");
}

// The value of the first /metrics line that starts with `series` (name and labels); -1 if none.
double SeriesValue(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series);
  if (at == std::string::npos) return -1;
  const size_t end = metrics.find('\n', at + 1);
  const std::string line = metrics.substr(at + 1, end - at - 1);
  return std::stod(line.substr(line.rfind(' ') + 1));
}

TEST_F(LocalEngineE2E, MetricsGiveTheEnginesStepDecodeRunAndLoadTimesAndItsPeakMemory) {
  StartLocal();
  for (int seed : {1, 2}) {
    const auto r = Authed("POST", "/v1/images/generations",
                          R"({"model":"wan-2.7-image","prompt":"a lamp","size":{"width":320,"height":256},"seed":)" +
                              std::to_string(seed) + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(WaitDone(json::parse(r.body)["id"])["status"], "completed");
  }
  const std::string metrics = Call("GET", "/metrics").body;
  const std::string labels = R"({preset="tiny",placement="cpu float32")";
  // The tiny preset runs 8 steps; the first report also holds the text encoding, so 7 count.
  EXPECT_EQ(SeriesValue(metrics, "wanserve_engine_step_seconds_count" + labels + "}"), 14) << metrics;
  EXPECT_EQ(SeriesValue(metrics, "wanserve_engine_decode_seconds_count" + labels + "}"), 2);
  EXPECT_EQ(SeriesValue(metrics, "wanserve_engine_run_seconds_count" + labels + "}"), 2);
  EXPECT_GT(SeriesValue(metrics, "wanserve_engine_step_seconds_sum" + labels + "}"), 0);
  EXPECT_LT(SeriesValue(metrics, "wanserve_engine_step_seconds_sum" + labels + "}"),
            SeriesValue(metrics, "wanserve_engine_run_seconds_sum" + labels + "}"))
      << "steps are part of a run";
  EXPECT_EQ(SeriesValue(metrics, R"(wanserve_engine_load_seconds_count{preset="tiny"})"), 1) << "loaded once, reused";
  // The peak of the run is at least what the process holds between runs, and no more than it
  // has ever held.
  const double peak = SeriesValue(metrics, "wanserve_engine_peak_resident_bytes" + labels + "}");
  EXPECT_GT(peak, 16 << 20) << metrics;
  EXPECT_GT(SeriesValue(metrics, "process_resident_memory_bytes "), 16 << 20);
  EXPECT_GT(SeriesValue(metrics, "process_cpu_seconds_total "), 0);
  EXPECT_GT(SeriesValue(metrics, "process_open_fds "), 3);
}

TEST_F(LocalEngineE2E, UnknownLocalModelIsAStartupErrorNamingTheKnownOnes) {
  auto r = testing::RunCommand({testing::WanserveBinary(), "serve", "--data", data_dir_, "--providers-local-model",
                                "wan9-t2v"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown local model wan9-t2v"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("wan2.1-t2v-1.3b"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wanserve::e2e
