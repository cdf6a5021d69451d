// The layer's pure pieces: listen address parsing, gzip negotiation, base64, BasicAuth's checks.
#include <catch2/catch.hpp>

#include <map>

#include "http/basic_auth.h"
#include "http/compression.h"
#include "http/listen_address.h"
#include "http_client.h"
#include "test_server.h"

namespace procevents::http::test {
namespace {

bool parses_to(const char* address, const char* host, const char* port) {
  std::string error;
  const std::optional<ListenAddress> parsed = parse_listen_address(address, &error);
  return parsed && parsed->host == host && parsed->port == port;
}

TEST_CASE("listen addresses parse into host and port", "[http]") {
  CHECK(parses_to(":9662", "", "9662"));
  CHECK(parses_to("127.0.0.1:0", "127.0.0.1", "0"));
  CHECK(parses_to("0.0.0.0:9662", "0.0.0.0", "9662"));
  CHECK(parses_to("localhost:9662", "localhost", "9662"));
  CHECK(parses_to(":65535", "", "65535"));
  CHECK(parses_to("[::1]:9662", "::1", "9662"));
  CHECK(parses_to("[::]:9662", "::", "9662"));
}

TEST_CASE("malformed listen addresses are refused with a reason", "[http]") {
  for (const char* address : {"", "9662", ":", "host:", ":abc", ":65536", ":99999999", ":-1", ":9662s", ":9662r",
                              "127.0.0.1:80,0.0.0.0:81", "a b:1", "+:9662", "::1:9662", "[::1:9662", "[]:9662",
                              "[::1]x:9662", "[zz]:9662", "host:1:2", "ho\nst:1"}) {
    INFO("\"" << address << "\"");
    std::string error;
    CHECK_FALSE(parse_listen_address(address, &error));
    CHECK(error.find("invalid listen address") == 0);
  }
}

TEST_CASE("Accept-Encoding negotiation finds gzip and honours q=0", "[http]") {
  CHECK(accepts_gzip("gzip"));
  CHECK(accepts_gzip("gzip, deflate, br"));
  CHECK(accepts_gzip("identity, GZip;q=0.5"));
  CHECK(accepts_gzip("x-gzip"));
  CHECK(accepts_gzip(" gzip ; q=1 "));
  CHECK(accepts_gzip("gzip;q=0.001"));
  CHECK_FALSE(accepts_gzip(""));
  CHECK_FALSE(accepts_gzip("identity"));
  CHECK_FALSE(accepts_gzip("deflate, br"));
  CHECK_FALSE(accepts_gzip("gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip; q=0.000"));
  CHECK_FALSE(accepts_gzip("gzipx, notgzip"));
  CHECK_FALSE(accepts_gzip("*"));
  CHECK_FALSE(accepts_gzip(",,,;;;q="));
}

TEST_CASE("Accept negotiation picks protobuf only when the client prefers it", "[http]") {
  constexpr const char* kPrometheusNative =  // Prometheus 2.42 with --enable-feature=native-histograms
      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"
      "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,"
      "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  CHECK(prefers_protobuf(kPrometheusNative));
  CHECK(prefers_protobuf("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"));
  CHECK(prefers_protobuf("Application/Vnd.Google.Protobuf;encoding=\"delimited\";proto=io.prometheus.client.MetricFamily;q=0.9, text/plain;q=0.5"));
  CHECK(prefers_protobuf("text/plain;q=0.5,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"));
  CHECK_FALSE(prefers_protobuf(""));
  CHECK_FALSE(prefers_protobuf("*/*"));
  CHECK_FALSE(prefers_protobuf("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
  CHECK_FALSE(prefers_protobuf("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"));
  CHECK_FALSE(prefers_protobuf("application/vnd.google.protobuf;proto=other.Message;encoding=delimited"));
  CHECK_FALSE(prefers_protobuf("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0"));
  // A tie goes to the range listed first; a higher q anywhere wins.
  CHECK_FALSE(prefers_protobuf("text/plain,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"));
  CHECK_FALSE(prefers_protobuf("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,text/plain"));
  CHECK_FALSE(prefers_protobuf(",,;;q=,application/vnd.google.protobuf;;;=;q"));
}

TEST_CASE("gzip_compress output inflates back, for empty and large inputs", "[http]") {
  for (const std::string& input : {std::string(), std::string("a"), sample_exposition(), std::string(3 << 20, 'z')}) {
    std::string compressed;
    REQUIRE(gzip_compress(input, &compressed));
    CHECK(compressed.size() >= 18);  // gzip header and trailer
    CHECK(gunzip(compressed) == input);
  }
}

TEST_CASE("base64 decoding accepts RFC 4648 and rejects anything else", "[http]") {
  std::string out;
  CHECK(base64_decode("dXNlcjpwYXNz", &out));
  CHECK(out == "user:pass");
  CHECK(base64_decode("YQ==", &out));
  CHECK(out == "a");
  CHECK(base64_decode("YQ", &out));
  CHECK(out == "a");
  CHECK(base64_decode("", &out));
  CHECK(out.empty());
  CHECK_FALSE(base64_decode("dXNl cjpw", &out));
  CHECK_FALSE(base64_decode("dXNl*", &out));
  CHECK_FALSE(base64_decode("YQ==YQ==", &out));
  CHECK_FALSE(base64_decode(std::string("YQ\0=", 4), &out));
}

TEST_CASE("BasicAuth checks users, passwords and header shapes", "[http]") {
  BasicAuth disabled({});
  CHECK_FALSE(disabled.enabled());
  CHECK(disabled.check(""));

  BasicAuth auth({{"alice", bcrypt_hash("wonderland", 4)}, {"bob", bcrypt_hash("builder", 4)}});
  CHECK(auth.enabled());
  CHECK(auth.check(basic_credentials("alice", "wonderland")));
  CHECK(auth.check(basic_credentials("alice", "wonderland")));  // now from the cache
  CHECK(auth.check(basic_credentials("bob", "builder")));
  CHECK_FALSE(auth.check(basic_credentials("alice", "builder")));
  CHECK_FALSE(auth.check(basic_credentials("bob", "wonderland")));
  CHECK_FALSE(auth.check(basic_credentials("carol", "wonderland")));
  CHECK_FALSE(auth.check(basic_credentials("alice:wonderland", "")));
  CHECK_FALSE(auth.check(""));
  CHECK_FALSE(auth.check("Basic "));
  CHECK_FALSE(auth.check("Digest " + basic_credentials("alice", "wonderland").substr(6)));
  CHECK_FALSE(auth.check(std::string(100000, 'A')));
  CHECK(auth.check("BASIC   " + basic_credentials("alice", "wonderland").substr(6) + "  "));
}

TEST_CASE("BasicAuth keeps at most kMaxCached remembered credentials", "[http]") {
  // More users than the cache holds, each verified once (cost 4 keeps bcrypt at about a millisecond).
  std::map<std::string, std::string> users;
  const std::string hash = bcrypt_hash("p", 4);
  for (std::size_t i = 0; i < BasicAuth::kMaxCached + 10; ++i) users[std::string("u").append(std::to_string(i))] = hash;
  BasicAuth auth(users);
  for (const auto& [user, unused] : users) REQUIRE(auth.check(basic_credentials(user, "p")));
  CHECK(auth.check(basic_credentials("u0", "p")));
  CHECK_FALSE(auth.check(basic_credentials("u0", std::string(72, 'p') + "x")));  // past bcrypt's 72 bytes: refused
}

}  // namespace
}  // namespace procevents::http::test
