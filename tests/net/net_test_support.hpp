#pragma once
// What the tests of net/ share: the hub's TLS identity, an io_context on a thread of its own,
// a hub listening on 127.0.0.1, raw TLS streams, and waiting for results with a deadline
// (never sleeping). Catch2 assertions run on the test's thread only: coroutines on the I/O
// thread hand their results back through futures and mailboxes.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "net/connection.hpp"
#include "net/tls.hpp"

namespace tutelle::net::test {

// Long enough for a loaded CI machine; a test that waits this long has failed.
inline constexpr std::chrono::seconds kWait{20};

// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One TLS identity for the hub of the whole test binary, generated on first use.
const TlsIdentityFiles& hub_tls_files();
const std::string& hub_fingerprint();
std::shared_ptr<boost::asio::ssl::context> hub_server_context();

// An io_context run by one thread, until destroyed. Destroy everything that uses it first.
class IoThread {
 public:
  IoThread();
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;
  boost::asio::io_context& io() { return io_; }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

template <typename T>
boost::asio::awaitable<void> fulfil(std::shared_ptr<std::promise<T>> promise,
                                    boost::asio::awaitable<T> operation) {
  try {
    promise->set_value(co_await std::move(operation));
  } catch (...) {
    promise->set_exception(std::current_exception());
  }
}

// Runs `operation` on `executor`; its outcome comes through the future.
template <typename T>
std::future<T> start(const boost::asio::any_io_executor& executor,
                     boost::asio::awaitable<T> operation) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> future = promise->get_future();
  boost::asio::co_spawn(executor, fulfil(promise, std::move(operation)), boost::asio::detached);
  return future;
}

// The future's value; fails the test when it is not ready within kWait.
template <typename T>
T wait(std::future<T>& future) {
  REQUIRE(future.wait_for(kWait) == std::future_status::ready);
  return future.get();
}

// Values handed from the I/O thread to the test's thread, in order.
template <typename T>
class Mailbox {
 public:
  void push(T value) {
    std::lock_guard lock(mutex_);
    values_.push_back(std::move(value));
    arrived_.notify_all();
  }

  // The next value; fails the test when none arrives within kWait.
  T pop() {
    std::unique_lock lock(mutex_);
    REQUIRE(arrived_.wait_for(lock, kWait, [this] { return !values_.empty(); }));
    T value = std::move(values_.front());
    values_.pop_front();
    return value;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<T> values_;
};

// A hub on 127.0.0.1, an ephemeral port, running accept_loop() with the test identity.
class TestServer {
 public:
  TestServer(IoThread& io, ConnectionHandler handler, ServerOptions options = {});
  // Closes the acceptor and waits for accept_loop() to return.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  IoThread& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::future<Status> stopped_;
};

// Two ends of one TLS 1.3 connection over 127.0.0.1, handshake done, on `io`'s executor, so
// frame.hpp can be tested on bare streams. Contexts first: they outlive the streams.
struct TlsPair {
  std::shared_ptr<boost::asio::ssl::context> server_context;
  ClientTlsContext client_context;
  std::unique_ptr<TlsStream> server;
  std::unique_ptr<TlsStream> client;
};
TlsPair make_tls_pair(IoThread& io);

// A client stream connected to 127.0.0.1:`port` with `context`, handshake done. Throws
// boost::system::system_error when connecting or the handshake fails.
boost::asio::awaitable<std::unique_ptr<TlsStream>> raw_tls_client(
    std::uint16_t port, std::shared_ptr<boost::asio::ssl::context> context);

}  // namespace tutelle::net::test
