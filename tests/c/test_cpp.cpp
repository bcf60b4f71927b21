// The C++ wrapper (bindings/cpp/tokenward.hpp) against the Keycloak harness and the loopback
// token server: RAII, std::string in and out, exceptions with the code and the OAuth detail.
#include <tokenward.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "tw_test.h"

namespace tw = tokenward;

static std::string kc;
static std::string loopback;

template <typename F> static bool throws(F &&f, tw_result code, tw::Error *out = nullptr) {
    try {
        f();
    } catch (const tw::Error &e) {
        if (out != nullptr) *out = e;
        return e.code() == code;
    }
    return false;
}

static void test_ecoinvent() {
    std::atomic<int> hooks{0};
    auto opts = tw::Options("ecoinvent-client")
                    .secret(tw_env("TW_ECOINVENT_CLIENT_SECRET"))
                    .on_token([&hooks](const tw::TokenView &t) {
                        if (!t.access_token().empty()) hooks++;
                    });
    auto client = tw::Client::from_token_url(kc + "/realms/ecoinvent/protocol/openid-connect/token", opts);
    std::string a = client.access_token();
    CHECK(!a.empty() && client.access_token() == a, "C++ ecoinvent: cached access token");
    CHECK(client.authorization_header() == "Bearer " + a, "C++ ecoinvent: bearer header");
    CHECK(hooks == 1, "C++ ecoinvent: lambda hook saw one token");
    std::string renewed = client.access_token_after_rejection(a);
    CHECK(!renewed.empty() && renewed != a && hooks == 2,
          "C++ ecoinvent: a refused token is renewed (real Keycloak)");
    CHECK(client.access_token_after_rejection(a) == renewed && hooks == 2,
          "C++ ecoinvent: a late refusal of the old token gets the renewed one, no request");
    a = renewed;
    tw::Token t = client.token();
    CHECK(!t.refresh_token().has_value(), "C++ ecoinvent: no refresh token for client credentials");
    CHECK(tw_contains(t.extra_json().c_str(), "not-before-policy"), "C++ ecoinvent: extra fields");
    CHECK(t.expires_in().count() >= 3599, "C++ ecoinvent: 3600 s token");
    tw::Token moved = std::move(t);
    CHECK(moved.access_token() == a, "C++ ecoinvent: Token is movable");

    auto basic = tw::Client::from_token_url(
        kc + "/realms/ecoinvent/protocol/openid-connect/token",
        tw::Options("ecoinvent-client")
            .secret(tw_env("TW_ECOINVENT_CLIENT_SECRET"))
            .auth_method(tw::AuthMethod::ClientSecretBasic));
    CHECK(!basic.access_token().empty(), "C++ ecoinvent: basic auth");
    auto by_name = tw::Client::from_token_url(
        kc + "/realms/ecoinvent/protocol/openid-connect/token",
        tw::Options("ecoinvent-client").secret(tw_env("TW_ECOINVENT_CLIENT_SECRET")).auth_method("basic"));
    CHECK(!by_name.access_token().empty(), "C++ ecoinvent: basic auth chosen by name");
    tw::Error unknown(TW_OK, "");
    CHECK(throws([&] { tw::Options("c").auth_method("basik"); }, TW_ERR_CONFIG, &unknown) &&
              std::string(unknown.what()).find("`basik`") != std::string::npos,
          "C++: an unknown auth method name throws a config error naming it");

    tw::Error e(TW_OK, "");
    auto wrong = tw::Client::from_token_url(kc + "/realms/ecoinvent/protocol/openid-connect/token",
                                            tw::Options("ecoinvent-client").secret("wrong-one"));
    CHECK(throws([&] { wrong.access_token(); }, TW_ERR_OAUTH, &e), "C++ wrong secret throws oauth");
    CHECK(e.oauth_description() == "Invalid client or Invalid client credentials",
          "C++ wrong secret: description in the exception");
    CHECK(e.http_status() == 401 && std::string(e.name()) == "oauth", "C++ wrong secret: status, name");
    CHECK(e.oauth_error() == "invalid_client" && std::string(e.what()).find("wrong-one") == std::string::npos,
          "C++ wrong secret: invalid_client, secret not in what()");
}

static void test_iopole_and_docbyte() {
    tw::Error e(TW_OK, "");
    auto user = tw::Client::discover(kc + "/realms/iopole",
                                     tw::Options("iopole-user")
                                         .secret(tw_env("TW_IOPOLE_USER_SECRET"))
                                         .scope("nosuchscope"));
    CHECK(throws([&] { user.access_token(); }, TW_ERR_OAUTH, &e) && e.oauth_error() == "invalid_scope",
          "C++ iopole: unknown scope -> invalid_scope");

    std::string host = kc.substr(7, kc.rfind(':') - 7), port = kc.substr(kc.rfind(':') + 1);
    tw::Params values = {{"host", host}, {"port", port}, {"tenant", "acme"}};
    const std::string tpl = "http://{host}:{port}/realms/{tenant}";
    auto vault = tw::Client::from_template(tpl, values,
                                           tw::Options("vault-service")
                                               .secret(tw_env("TW_VAULT_SERVICE_SECRET"))
                                               .scope("openid")
                                               .require_claim("tenant"));
    auto claims = vault.claims_json();
    CHECK(claims && tw_contains(claims->c_str(), "\"tenant\""), "C++ docbyte: tenant claim");
    auto notenant = tw::Client::from_template(tpl, values,
                                              tw::Options("vault-notenant")
                                                  .secret(tw_env("TW_VAULT_NOTENANT_SECRET"))
                                                  .scope("openid")
                                                  .require_claim("tenant"));
    CHECK(throws([&] { notenant.access_token(); }, TW_ERR_MISSING_CLAIM),
          "C++ docbyte: vault-notenant -> MISSING_CLAIM");
    CHECK(throws([&] { tw::Client::from_template(tpl, {{"host", host}}, tw::Options("x").secret("y")); },
                 TW_ERR_CONFIG, &e) &&
              tw_contains(e.what(), "{port}"),
          "C++ docbyte: missing template value named");
}

// Verification: an access token from Keycloak verifies with its claims; a wrong audience, a
// role not granted and an unexpected issuer are TW_ERR_INVALID_TOKEN with a message naming
// the rule and never the token.
static void test_verify() {
    std::string host = kc.substr(7, kc.rfind(':') - 7), port = kc.substr(kc.rfind(':') + 1);
    tw::Params values = {{"host", host}, {"port", port}, {"tenant", "acme"}};
    const std::string tpl = "http://{host}:{port}/realms/{tenant}";
    auto vault = tw::Client::from_template(
        tpl, values,
        tw::Options("vault-service").secret(tw_env("TW_VAULT_SERVICE_SECRET")).scope("openid").leeway(
            std::chrono::milliseconds(5000)));
    std::string token = vault.access_token();
    std::string claims = vault.verify_access_token(token, std::nullopt, {"tenant"});
    CHECK(tw_contains(claims.c_str(), "\"tenant\"") && tw_contains(claims.c_str(), "/realms/acme"),
          "C++ verify: the access token verifies, claims returned");
    tw::Error e(TW_OK, "");
    CHECK(throws([&] { vault.verify_access_token(token, std::string("billing-api")); }, TW_ERR_INVALID_TOKEN, &e) &&
              tw_contains(e.what(), "`aud`") && !tw_contains(e.what(), token.c_str()),
          "C++ verify: wrong audience -> INVALID_TOKEN naming `aud`, not the token");
    CHECK(throws([&] { vault.verify_access_token(token, std::nullopt, {}, {"no-such-role"}); },
                 TW_ERR_INVALID_TOKEN, &e) &&
              tw_contains(e.what(), "no-such-role"),
          "C++ verify: a role not granted -> INVALID_TOKEN naming the role");
    auto split = tw::Client::from_template(tpl, values,
                                           tw::Options("vault-service")
                                               .secret(tw_env("TW_VAULT_SERVICE_SECRET"))
                                               .expected_issuer("https://sso.example.com/realms/acme"));
    CHECK(throws([&] { split.verify_access_token(token); }, TW_ERR_INVALID_TOKEN, &e) &&
              tw_contains(e.what(), "https://sso.example.com/realms/acme"),
          "C++ verify: an expected issuer the token does not carry -> INVALID_TOKEN naming it");
    CHECK(tw_contains(vault.userinfo().c_str(), "\"sub\""), "C++ userinfo: the service account's claims");
}

static void test_loopback_and_misuse() {
    auto big = tw::Client::from_token_url(loopback + "/big/token", tw::Options("c1").secret("s1"));
    std::string a = big.access_token();
    CHECK(a.size() > 5000 && a.compare(0, 4, "big-") == 0, "C++ buffer grows for a 5000-byte token");
    CHECK(big.authorization_header().size() == a.size() + 7, "C++ header of a big token");

    std::string with_nul("s\0x", 3);
    CHECK(throws([&] { tw::Options("c1").secret(with_nul); }, TW_ERR_INVALID_ARGUMENT),
          "C++ a NUL inside a string is refused, not cut");
    CHECK(throws([&] {
              tw::Client::from_token_url(loopback + "/long/token",
                                         tw::Options("c1").secret("s").timeout(std::chrono::milliseconds(0)));
          },
                 TW_ERR_CONFIG),
          "C++ timeout 0 refused");

    // 16 threads on one client, each through the wrapper.
    auto shared = tw::Client::from_token_url(loopback + "/long/token", tw::Options("c1").secret("s1"));
    std::atomic<int> bad{0};
    std::vector<std::thread> threads;
    std::string first = shared.access_token();
    for (int i = 0; i < 16; i++) {
        threads.emplace_back([&] {
            for (int j = 0; j < 1000; j++) {
                if (shared.access_token() != first) bad++;
            }
        });
    }
    for (auto &t : threads) t.join();
    CHECK(bad == 0, "C++ 16 threads share one client");

    auto spa = tw::Client::from_keycloak(kc, "vion",
                                         tw::Options("vion-spa")
                                             .scope("openid user_impersonation")
                                             .redirect_uri("http://127.0.0.1:8765/callback"));
    tw::Login login = spa.login_begin(std::nullopt, std::nullopt, {{"prompt", "login"}});
    CHECK(tw_contains(login.url().c_str(), "code_challenge_method=S256"), "C++ login URL with PKCE");
    tw::Login restored = tw::Login::from_json(login.to_json());
    CHECK(restored.url().empty(), "C++ restored login");
    CHECK(throws([&] { spa.login_finish(restored, "http://127.0.0.1:8765/callback?state=x&code=y"); },
                 TW_ERR_STATE_MISMATCH),
          "C++ forged state -> STATE_MISMATCH");
    tw::Error spent(TW_OK, "");
    CHECK(throws([&] { spa.login_finish(restored, "http://127.0.0.1:8765/callback?code=y"); },
                 TW_ERR_LOGIN_REQUIRED, &spent) &&
              tw_contains(spent.what(), "start a new login"),
          "C++ a login is spent by its first callback -> LOGIN_REQUIRED");
    CHECK(throws([&] { restored.to_json(); }, TW_ERR_LOGIN_REQUIRED), "C++ a spent login cannot be saved");
    CHECK(tw_contains(spa.end_session_url(std::string("http://127.0.0.1:8765/callback")).c_str(),
                      "post_logout_redirect_uri="),
          "C++ end-session URL");
    CHECK(!tw::version().empty(), "C++ version %s", tw::version().c_str());
}

// Issue 17 through the wrapper: private_key_jwt, a device login approved on Keycloak's device
// page (tests/keycloak/kc_device.py) and one cancelled from a thread, token exchange, logout.
static void test_grants() {
    std::string key = std::string(tw_env("TW_ROOT")) + "/tests/keycloak/keys/vion-jwt-ec.pem";
    auto jwt = tw::Client::from_keycloak(kc, "vion", tw::Options("vion-jwt").private_key_file(key, "vion-jwt-ec"));
    CHECK(!jwt.access_token().empty(), "C++ private_key_jwt (ES256)");

    auto dev = tw::Client::from_keycloak(kc, "vion", tw::Options("vion-device").scope("openid"));
    tw::Device cancelled = dev.device_begin();
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        cancelled.cancel();
    });
    CHECK(throws([&] { dev.device_wait(cancelled); }, TW_ERR_LOGIN_REQUIRED), "C++ device wait cancelled");
    stopper.join();

    tw::Device d = dev.device_begin(std::nullopt, true);
    CHECK(d.user_code().size() == 9 && d.interval() >= 1, "C++ device code %s", d.user_code().c_str());
    std::string cmd = std::string(tw_env("TW_KC_DEVICE")) + " '" + kc + "' vion '" + d.user_code() +
                      "' vion-user '" + tw_env("TW_VION_USER_PASSWORD") + "'";
    CHECK(std::system(cmd.c_str()) == 0, "C++ device approved on Keycloak's pages");
    tw::Token t = dev.device_wait(d);
    auto rt = t.refresh_token();
    CHECK(rt.has_value(), "C++ device login has a refresh token");

    auto svc = tw::Client::from_keycloak(kc, "vion",
                                         tw::Options("vion-exchange").secret(tw_env("TW_VION_EXCHANGE_SECRET")));
    tw::Token ex = svc.exchange_token(dev.access_token(), std::string("vion-service"));
    CHECK(!ex.access_token().empty(), "C++ token exchange to vion-service");
    if (rt) dev.logout(*rt);
    CHECK(throws([&] { dev.access_token(); }, TW_ERR_LOGIN_REQUIRED), "C++ logout empties the cache");
}

int main() {
    kc = tw_env("KC_URL");
    loopback = tw_env("TW_LOOPBACK_URL");
    try {
        test_ecoinvent();
        test_iopole_and_docbyte();
        test_verify();
        test_loopback_and_misuse();
        test_grants();
    } catch (const tw::Error &e) {
        CHECK(false, "unexpected exception [%s] %s", e.name(), e.what());
    }
    return tw_summary();
}
