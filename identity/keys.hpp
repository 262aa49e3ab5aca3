#pragma once
// Ed25519 key pairs (libsodium) of nodes and of the hub, and their files.
//
// Files: `<name>.key` holds the 64-byte libsodium secret key (seed || public key), raw, mode
// 0600; `<name>.pub` holds the 32-byte public key as lowercase hex and a newline.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "protocol/result.hpp"

namespace tutelle::identity {

using PublicKey = std::array<std::uint8_t, 32>;
using SecretKey = std::array<std::uint8_t, 64>;
using Signature = std::array<std::uint8_t, 64>;

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key{};
};

// REQUIRES: sodium_init() has run (sodium_ready() does it once).
Status sodium_ready();

KeyPair generate_key_pair();

// Writes `<dir>/<name>.key` (0600) and `<dir>/<name>.pub`; refuses to overwrite either.
Status write_key_pair(const std::filesystem::path& dir, std::string_view name, const KeyPair& keys);
Result<KeyPair> read_key_pair(const std::filesystem::path& dir, std::string_view name);

// Signs `context` || `message`: the context string keeps signatures of one kind of message
// from being valid for another.
Signature sign(const KeyPair& keys, std::string_view context, std::string_view message);
bool verify(const PublicKey& key, std::string_view context, std::string_view message,
            const Signature& signature);

std::string to_hex(const std::uint8_t* bytes, std::size_t size);
std::string to_hex(const PublicKey& key);
Result<PublicKey> public_key_from_hex(std::string_view hex);

}  // namespace tutelle::identity
