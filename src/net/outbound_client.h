#pragma once
// The one way the server reaches addresses that clients chose (callbacks, media downloads,
// upstream providers). Every host is resolved here, every address checked against the
// AddressPolicy, and the connection pinned to the checked addresses, so a DNS answer cannot
// change between check and connect; redirects go through the same check. One thread drives all
// transfers through libcurl's multi interface; lookups run on a small resolver pool.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "net/address.h"

namespace wanserve::net {

// Host name -> addresses. Replaceable in tests; the default asks the system resolver.
using Resolver = std::function<Result<std::vector<IpAddress>>(const std::string& host)>;
// The system resolver (getaddrinfo): every distinct address of the host.
Result<std::vector<IpAddress>> ResolveHost(const std::string& host);

struct OutboundOptions {
  std::vector<AllowEntry> allowlist;  // internal addresses the operator opened (empty by default)
  std::string extra_ca_file;         // PEM bundle trusted in addition to the system roots
  int resolver_threads = 2;          // Default: 2 concurrent DNS lookups
  int max_redirects = 3;             // Default: 3, then the transfer fails
  std::string user_agent = "wanserve";
  Resolver resolver;                 // Default: getaddrinfo
  // False for a client that only reaches addresses the operator configured (the object
  // store): its allowlist opens nothing to clients, so it is not warned about.
  bool serves_clients = true;
};

struct OutboundRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t connect_timeout_ms = 10'000;  // Default: 10 s
  int64_t timeout_ms = 30'000;          // Default: 30 s for the whole exchange, redirects included
  int64_t max_body_bytes = 1 << 20;     // Default: 1 MiB; larger answers fail with "too_large"
  bool require_https = false;
  // Redirects are followed for GET only; other methods get the 3xx answer back.
  bool follow_redirects = true;
};

struct OutboundResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string url;                             // after redirects
  std::string remote_ip;
  int64_t elapsed_ms = 0;
};

// Failures carry a stable detail code: bad_url, scheme_not_allowed, address_blocked,
// dns_failed, connect_failed, tls_failed, timeout, too_large, too_many_redirects, transfer_failed.
class OutboundClient {
 public:
  using Done = std::function<void(Result<OutboundResponse>)>;

  explicit OutboundClient(OutboundOptions options);
  ~OutboundClient();
  OutboundClient(const OutboundClient&) = delete;
  OutboundClient& operator=(const OutboundClient&) = delete;

  // Runs the request in the background; done is called exactly once, on one of the client's
  // threads, and must not block.
  void Start(OutboundRequest request, Done done);
  // Blocking form of Start.
  Result<OutboundResponse> Send(OutboundRequest request);

  // What can be decided without the network: the URL parses, the scheme is allowed, and a
  // literal address (in any spelling) is not internal. Host names are judged when connecting.
  Status CheckUrl(const std::string& url, bool require_https) const;  // CheckUrlWhenSet with this policy

  const AddressPolicy& policy() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What can be judged of a URL without a DNS lookup, when a user or an operator sets it (a
// callback URL, an account webhook): a valid http(s) URL (https when require_https) whose
// host, when it is an address literal or a localhost name, the policy allows (kForbidden,
// detail "address_blocked", otherwise). A host name is judged again, by its addresses, at
// every connection.
Status CheckUrlWhenSet(const std::string& url, bool require_https, const AddressPolicy& policy);

}  // namespace wanserve::net
