#include "identity/keys.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace tutelle::identity {

namespace {

std::vector<std::uint8_t> with_context(std::string_view context, std::string_view message) {
  std::vector<std::uint8_t> bytes(context.size() + 1 + message.size());
  std::copy(context.begin(), context.end(), bytes.begin());
  bytes[context.size()] = 0;
  std::copy(message.begin(), message.end(), bytes.begin() + context.size() + 1);
  return bytes;
}

Status write_file(const std::filesystem::path& path, std::string_view bytes, mode_t mode) {
  if (std::filesystem::exists(path)) {
    return make_error(ErrorCode::conflict, path.string() + ": exists already; not overwritten");
  }
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return make_error(ErrorCode::storage, path.string() + ": cannot write");
  if (::chmod(path.c_str(), mode) != 0) {
    return make_error(ErrorCode::storage, path.string() + ": cannot set its mode");
  }
  return {};
}

}  // namespace

Status sodium_ready() {
  if (sodium_init() < 0) return make_error(ErrorCode::crypto, "libsodium failed to initialise");
  return {};
}

KeyPair generate_key_pair() {
  KeyPair keys;
  crypto_sign_keypair(keys.public_key.data(), keys.secret_key.data());
  return keys;
}

Status write_key_pair(const std::filesystem::path& dir, std::string_view name,
                      const KeyPair& keys) {
  std::string base = std::string(name);
  std::string secret(reinterpret_cast<const char*>(keys.secret_key.data()), keys.secret_key.size());
  Status wrote = write_file(dir / (base + ".key"), secret, 0600);
  sodium_memzero(secret.data(), secret.size());
  if (!wrote) return wrote;
  return write_file(dir / (base + ".pub"), to_hex(keys.public_key) + "\n", 0644);
}

Result<KeyPair> read_key_pair(const std::filesystem::path& dir, std::string_view name) {
  auto path = dir / (std::string(name) + ".key");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::not_found, path.string() + ": cannot read the key");
  KeyPair keys;
  in.read(reinterpret_cast<char*>(keys.secret_key.data()), keys.secret_key.size());
  if (in.gcount() != static_cast<std::streamsize>(keys.secret_key.size()) || in.peek() != EOF) {
    return make_error(ErrorCode::corrupt, path.string() + ": not a 64-byte Ed25519 secret key");
  }
  crypto_sign_ed25519_sk_to_pk(keys.public_key.data(), keys.secret_key.data());
  return keys;
}

Signature sign(const KeyPair& keys, std::string_view context, std::string_view message) {
  auto bytes = with_context(context, message);
  Signature signature{};
  crypto_sign_detached(signature.data(), nullptr, bytes.data(), bytes.size(),
                       keys.secret_key.data());
  return signature;
}

bool verify(const PublicKey& key, std::string_view context, std::string_view message,
            const Signature& signature) {
  auto bytes = with_context(context, message);
  return crypto_sign_verify_detached(signature.data(), bytes.data(), bytes.size(), key.data()) == 0;
}

std::string to_hex(const std::uint8_t* bytes, std::size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0xf]);
  }
  return out;
}

std::string to_hex(const PublicKey& key) {
  return to_hex(key.data(), key.size());
}

Result<PublicKey> public_key_from_hex(std::string_view hex) {
  PublicKey key{};
  std::size_t written = 0;
  if (hex.size() != 64 ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &written, nullptr) !=
          0 ||
      written != key.size()) {
    return make_error(ErrorCode::invalid_argument,
                      "key: '" + std::string(hex) + "' is not 64 hexadecimal digits");
  }
  return key;
}

}  // namespace tutelle::identity
