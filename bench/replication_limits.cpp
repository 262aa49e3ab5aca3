#include "bench/replication_limits.hpp"

#include <sodium.h>

#include <time.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "bench/harness.hpp"
#include "bench/raw_lmdb.hpp"
#include "identity/changeset_signature.hpp"
#include "protocol/codec.hpp"

namespace tutelle::bench {

namespace {

// A message of a changeset's size, signed: the signature context, a zero byte and a real
// changeset body, as identity/keys.hpp frames what it signs.
struct SignedMessage {
  std::string message;
  std::array<unsigned char, crypto_sign_BYTES> signature{};
};

// Signs each changeset's body with a key pair of its own (not timed), so that the figure is
// libsodium's on messages of changesets' sizes whatever the wire format signs.
Result<std::vector<SignedMessage>> signed_messages(const std::vector<std::string>& changesets,
                                                   const unsigned char* secret_key) {
  std::vector<SignedMessage> messages;
  messages.reserve(changesets.size());
  for (const auto& bytes : changesets) {
    auto envelope = decode_signed(bytes);
    if (!envelope) return envelope.error();
    SignedMessage m{kChangesetSignatureContext, {}};
    m.message.push_back('\0');
    m.message += envelope->body;
    const auto* data = reinterpret_cast<const unsigned char*>(m.message.data());
    crypto_sign_detached(m.signature.data(), nullptr, data, m.message.size(), secret_key);
    messages.push_back(std::move(m));
  }
  return messages;
}

double thread_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return double(now.tv_sec) + double(now.tv_nsec) / 1e9;
}

// Keys shaped as Tutelle's random record ids ("project:" and 24 hexadecimal digits), in random
// order.
std::vector<std::string> random_keys(std::size_t count) {
  std::mt19937_64 random(20240611);
  static const char* digits = "0123456789abcdef";
  std::vector<std::string> keys;
  keys.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::string key = "project:";
    for (int half = 0; half < 2; ++half) {
      std::uint64_t bits = random();
      for (int d = 0; d < 12; ++d, bits >>= 4) key.push_back(digits[bits & 0xf]);
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace

Result<VerifyLimit> measure_verify_limit(const std::vector<std::string>& signed_changesets) {
  if (sodium_init() < 0) return make_error(ErrorCode::crypto, "sodium_init failed");
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key{};
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_key{};
  crypto_sign_keypair(public_key.data(), secret_key.data());
  auto messages = signed_messages(signed_changesets, secret_key.data());
  if (!messages) return messages.error();

  VerifyLimit limit;
  std::size_t bytes = 0;
  std::size_t failed = 0;
  double cpu_start = thread_cpu_seconds();
  Stopwatch clock;
  for (const auto& m : messages.value()) {
    const auto* data = reinterpret_cast<const unsigned char*>(m.message.data());
    failed += crypto_sign_verify_detached(m.signature.data(), data, m.message.size(),
                                          public_key.data()) != 0;
    bytes += m.message.size();
  }
  limit.seconds = clock.seconds();
  limit.cpu_seconds = thread_cpu_seconds() - cpu_start;
  limit.verified = messages->size();
  limit.mean_message_bytes = double(bytes) / double(std::max<std::size_t>(1, limit.verified));

  cpu_start = thread_cpu_seconds();
  for (const auto& changeset : signed_changesets) {
    failed += identity::verify_changeset(changeset) ? 0 : 1;
  }
  limit.changeset_cpu_seconds = thread_cpu_seconds() - cpu_start;
  if (failed > 0) {
    return make_error(ErrorCode::corrupt, std::to_string(failed) + " signatures do not verify");
  }
  return limit;
}

Result<PutLimit> measure_raw_lmdb_puts(const std::filesystem::path& dir,
                                       const std::vector<std::size_t>& value_sizes,
                                       std::size_t per_txn) {
  std::vector<std::string> keys = random_keys(value_sizes.size());
  std::vector<KeyedSize> entries;
  std::size_t longest = 0;
  std::size_t total = 0;
  for (std::size_t i = 0; i < value_sizes.size(); ++i) {
    entries.push_back(KeyedSize{std::move(keys[i]), value_sizes[i]});
    longest = std::max(longest, value_sizes[i]);
    total += value_sizes[i];
  }
  std::string filler(longest, 'v');
  auto raw = RawStore::open(dir, std::max<std::size_t>(std::size_t{1} << 30, total * 4));
  if (!raw) return raw.error();

  PutLimit limit{value_sizes.size(), per_txn, 0,
                 double(total) / double(std::max<std::size_t>(1, value_sizes.size()))};
  Stopwatch clock;
  for (std::size_t begin = 0; begin < entries.size(); begin += per_txn) {
    std::size_t end = std::min(entries.size(), begin + per_txn);
    Status put = raw.value()->put_range(entries, begin, end, filler);
    if (!put) return put.error();
  }
  limit.seconds = clock.seconds();
  return limit;
}

Result<std::optional<PouchDbRun>> run_pouchdb(const std::filesystem::path& script_dir,
                                              std::size_t docs,
                                              const std::filesystem::path& work_dir) {
  if (!std::filesystem::exists(script_dir / "node_modules" / "pouchdb")) {
    std::cerr << "bench_replication: " << (script_dir / "node_modules").string()
              << " is missing: run `npm install --prefix " << script_dir.string()
              << "` (bench/run.sh does); the PouchDB baseline is skipped\n";
    return std::optional<PouchDbRun>();
  }
  std::filesystem::path out = work_dir / "pouchdb.out";
  std::filesystem::path err = work_dir / "pouchdb.err";
  auto run = run_child({"/usr/bin/env", "node", (script_dir / "replicate.js").string(), "--docs",
                        std::to_string(docs), "--dir", (work_dir / "pouchdb").string()},
                       out, err);
  if (!run) return run.error();
  auto summary = nlohmann::json::parse(file_head(out), nullptr, false);
  if (run->exit_code != 0 || summary.is_discarded() || !summary.contains("docs_per_second")) {
    return make_error(ErrorCode::internal, "replicate.js exited with " +
                                               std::to_string(run->exit_code) + ": " +
                                               file_head(out) + file_head(err));
  }
  PouchDbRun pouch;
  pouch.docs = summary.value("docs_written", std::size_t{0});
  pouch.replicate_seconds = summary.value("replicate_seconds", 0.0);
  pouch.docs_per_second = summary.value("docs_per_second", 0.0);
  pouch.versions = "pouchdb " + summary.value("pouchdb", std::string("?")) + ", adapter " +
                   summary.value("adapter", std::string("?")) + ", node " +
                   summary.value("node", std::string("?"));
  return std::optional<PouchDbRun>(pouch);
}

}  // namespace tutelle::bench
