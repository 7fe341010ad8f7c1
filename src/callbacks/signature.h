#pragma once
// Callback signatures. Standard Webhooks (what skills.video and Replicate send): header
// webhook-signature = "v1," + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")),
// key = base64-decoded part of the account secret after "whsec_". The kie.ai-style headers of
// the market dialect sign "<taskId>.<timestamp>" with the same key.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wanserve::callbacks {

// nullopt when the secret is not "whsec_" + base64.
std::optional<std::string> StandardWebhookSignature(std::string_view secret, std::string_view id,
                                                    int64_t timestamp_s, std::string_view body);
std::optional<std::string> KieSignature(std::string_view secret, std::string_view task_id, int64_t timestamp_s);

// Receiver side, as docs/callbacks.md describes it: true when one of the space-separated
// signatures in signature_header matches and the timestamp is within tolerance_s of now_s.
bool VerifyStandardWebhook(std::string_view secret, std::string_view id, std::string_view timestamp,
                           std::string_view body, std::string_view signature_header, int64_t now_s,
                           int64_t tolerance_s = 300);

}  // namespace wanserve::callbacks
