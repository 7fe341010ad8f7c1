#pragma once
// A throwaway certificate authority and a server certificate for 127.0.0.1 / localhost, so
// tests can run real HTTPS on loopback and hand the CA to the server under test.
#include <string>

namespace wanserve::testing {

struct TestPki {
  std::string ca_file;    // PEM of the CA certificate
  std::string cert_file;  // PEM of the server certificate (SAN: IP 127.0.0.1, IP ::1, DNS localhost)
  std::string key_file;   // PEM of the server's private key
};

// Writes the three files into dir. Throws on failure.
TestPki MakeTestPki(const std::string& dir);

}  // namespace wanserve::testing
