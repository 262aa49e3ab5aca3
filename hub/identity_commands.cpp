// The identity commands of tutelle-hub: federation metadata, supervised self-registration, and
// (until `serve --http` folds it in) the HTTPS server of the SAML endpoints.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "hub/accounts.hpp"
#include "hub/commands.hpp"
#include "hub/http_server.hpp"
#include "hub/identity_store.hpp"
#include "hub/saml_service.hpp"
#include "identity/metadata.hpp"

namespace tutelle::hub {

namespace {

constexpr const char* kTool = "tutelle-hub";

std::int64_t system_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::not_found, path + ": cannot read");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Parses `words` allowing only `known` options; `args` receives the result.
Result<Args> parse(const std::vector<std::string>& words, const std::set<std::string>& known) {
  auto args = Args::parse(words);
  if (!args) return args.error();
  Status only = args->only(known);
  if (!only) return only.error();
  return args;
}

int federation_load(const Args& args) {
  auto dir = args.require("dir");
  auto cert_path = args.require("cert");
  if (!dir) return fail(kTool, dir.error());
  if (!cert_path) return fail(kTool, cert_path.error());
  if (args.positional().size() != 2) {
    return fail(kTool, make_error(ErrorCode::invalid_argument, "federation load FILE"));
  }
  auto xml = read_file(args.positional()[1]);
  auto cert = read_file(cert_path.value());
  if (!xml) return fail(kTool, xml.error());
  if (!cert) return fail(kTool, cert.error());

  std::int64_t now = system_now();
  auto federation = identity::load_federation_metadata(xml.value(), cert.value(), now);
  if (!federation) return fail(kTool, federation.error());
  auto store = IdentityStore::open(dir.value());
  if (!store) return fail(kTool, store.error());
  Status saved = (*store)->save_federation(federation.value(), now);
  if (!saved) return fail(kTool, saved.error());
  std::cout << "loaded " << federation->name << ": " << federation->identity_providers.size()
            << " identity providers, valid until "
            << identity::format_saml_time(federation->valid_until) << "\n";
  return 0;
}

int federation_list(const Args& args) {
  auto dir = args.require("dir");
  if (!dir) return fail(kTool, dir.error());
  auto store = IdentityStore::open(dir.value());
  if (!store) return fail(kTool, store.error());
  auto idps = (*store)->identity_providers();
  if (!idps) return fail(kTool, idps.error());
  for (const auto& [entity_id, idp] : idps.value()) {
    std::string scopes;
    for (const auto& scope : idp.scopes) scopes += (scopes.empty() ? "" : ",") + scope;
    std::cout << entity_id << "\tUAI " << (idp.establishment.empty() ? "-" : idp.establishment)
              << "\tscopes " << (scopes.empty() ? "-" : scopes) << "\n";
  }
  return 0;
}

int federation(const std::vector<std::string>& words) {
  auto args = parse(words, {"dir", "cert"});
  if (!args) return fail(kTool, args.error());
  std::string sub = args->positional().empty() ? "" : args->positional()[0];
  if (sub == "load") return federation_load(args.value());
  if (sub == "list") return federation_list(args.value());
  return fail(kTool, make_error(ErrorCode::invalid_argument, "federation load|list"));
}

void print_account(const Account& account) {
  std::cout << account.principal << "\t" << account.establishment << "\t" << account.status << "\t"
            << account.display_name << "\t" << account.mail << "\n";
}

int accounts_decide(Accounts& accounts, const Args& args, const std::string& establishment) {
  if (args.positional().size() != 2) {
    return fail(kTool, make_error(ErrorCode::invalid_argument,
                                  "accounts confirm|reject PRINCIPAL --establishment UAI"));
  }
  const std::string& principal = args.positional()[1];
  bool confirm = args.positional()[0] == "confirm";
  Status done = confirm ? accounts.confirm(principal, establishment, system_now())
                        : accounts.reject(principal, establishment, system_now());
  if (!done) return fail(kTool, done.error());
  std::cout << principal << (confirm ? " confirmed" : " rejected") << "\n";
  return 0;
}

int accounts(const std::vector<std::string>& words) {
  auto args = parse(words, {"dir", "establishment"});
  if (!args) return fail(kTool, args.error());
  auto dir = args->require("dir");
  if (!dir) return fail(kTool, dir.error());
  auto store = IdentityStore::open(dir.value());
  if (!store) return fail(kTool, store.error());
  Accounts accounts(**store);
  std::string sub = args->positional().empty() ? "" : args->positional()[0];

  if (sub == "rejected") {
    auto rejected = accounts.rejected_principals();
    if (!rejected) return fail(kTool, rejected.error());
    for (const auto& principal : rejected.value()) std::cout << principal << "\n";
    return 0;
  }
  auto establishment = args->require("establishment");
  if (!establishment) return fail(kTool, establishment.error());
  if (sub == "confirm" || sub == "reject") {
    return accounts_decide(accounts, args.value(), establishment.value());
  }
  if (sub != "pending") {
    return fail(
        kTool, make_error(ErrorCode::invalid_argument, "accounts pending|confirm|reject|rejected"));
  }
  auto pending = accounts.pending(establishment.value());
  if (!pending) return fail(kTool, pending.error());
  for (const auto& account : pending.value()) print_account(account);
  return 0;
}

Result<std::pair<std::string, std::uint16_t>> host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    return make_error(ErrorCode::invalid_argument, "--http wants HOST:PORT, got " + text);
  }
  int port = std::atoi(text.c_str() + colon + 1);
  if (port < 0 || port > 65535) {
    return make_error(ErrorCode::invalid_argument, "--http: bad port in " + text);
  }
  return std::pair{text.substr(0, colon), static_cast<std::uint16_t>(port)};
}

int serve_http(const std::vector<std::string>& words) {
  auto args = parse(words, {"dir", "http", "public-url"});
  if (!args) return fail(kTool, args.error());
  auto dir = args->require("dir");
  auto http = args->require("http");
  if (!dir) return fail(kTool, dir.error());
  if (!http) return fail(kTool, http.error());
  boost::asio::io_context io;
  auto endpoints =
      start_identity_endpoints(io, dir.value(), http.value(), args->get("public-url").value_or(""));
  if (!endpoints) return fail(kTool, endpoints.error());
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    endpoints.value()->stop();
    io.stop();
  });
  std::cout << "listening " << endpoints.value()->listening() << std::endl;
  io.run();
  return 0;
}

}  // namespace

class IdentityEndpoints::Running {
 public:
  std::unique_ptr<SamlService> service;
  std::unique_ptr<HttpsServer> server;
  std::string listening;
};

IdentityEndpoints::IdentityEndpoints(std::unique_ptr<Running> running)
    : running_(std::move(running)) {}
IdentityEndpoints::~IdentityEndpoints() = default;
void IdentityEndpoints::stop() {
  running_->server->stop();
}
const std::string& IdentityEndpoints::listening() const {
  return running_->listening;
}

Result<std::unique_ptr<IdentityEndpoints>> start_identity_endpoints(boost::asio::io_context& io,
                                                                    const std::string& dir,
                                                                    const std::string& http,
                                                                    std::string public_url) {
  auto address = host_port(http);
  if (!address) return address.error();
  auto tls = tls_credentials(dir, address->first);
  if (!tls) return tls.error();
  auto running = std::make_unique<IdentityEndpoints::Running>();
  // The service is opened once the port is known (port 0 picks one), before `io` runs: no
  // request reaches the handler before then.
  IdentityEndpoints::Running* state = running.get();
  HttpsOptions options{
      address->first, address->second, tls->certificate_pem, tls->private_key_pem,
      [state](const HttpRequest& request) { return state->service->handle(request); }};
  auto server = HttpsServer::start(io, std::move(options));
  if (!server) return server.error();
  running->server = std::move(server.value());

  std::string bound = address->first + ":" + std::to_string(running->server->port());
  if (public_url.empty()) public_url = "https://" + bound;
  auto service = SamlService::open({dir, public_url, 900, {}});
  if (!service) return service.error();
  running->service = std::move(service.value());
  running->listening = bound + " as " + public_url;
  return std::unique_ptr<IdentityEndpoints>(new IdentityEndpoints(std::move(running)));
}

std::map<std::string, Command> identity_commands() {
  return {
      {"federation",
       {"federation load FILE --cert FEDERATION_CERT --dir DIR | federation list --dir DIR",
        federation}},
      {"accounts",
       {"accounts pending|confirm PRINCIPAL|reject PRINCIPAL --establishment UAI --dir DIR | "
        "accounts rejected --dir DIR",
        accounts}},
      {"serve-http",
       {"serve-http --dir DIR --http HOST:PORT [--public-url URL]  (SAML endpoints over HTTPS)",
        serve_http}},
  };
}

}  // namespace tutelle::hub
