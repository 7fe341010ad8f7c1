#include "api/playground.h"

#include <string>

namespace wanserve::api {

void RegisterPlayground(Router& router) {
  for (const Asset& asset : PlaygroundAssets()) {
    router.Add({"GET", std::string(asset.path), Access::kPublic,
                [&asset](const HttpRequest&, const RequestContext&) {
                  HttpResponse res = HttpResponse::Text(200, std::string(asset.body), std::string(asset.content_type));
                  // Scripts and styles from this server only; results may come from the links'
                  // host (public_url) or a presigned object-store URL.
                  res.headers.emplace_back("Content-Security-Policy",
                                           "default-src 'self'; script-src 'self'; style-src 'self'; "
                                           "img-src 'self' http: https: blob:; media-src 'self' http: https:; "
                                           "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'");
                  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
                  res.headers.emplace_back("Cache-Control", "no-cache");
                  return res;
                },
                [](const Error& e) { return HttpResponse::Text(500, e.message); }});
  }
}

}  // namespace wanserve::api
