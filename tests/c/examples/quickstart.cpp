// C++ quickstart (README): the same with the header-only wrapper; errors are exceptions.
// Build: c++ -std=c++17 quickstart.cpp $(pkg-config --cflags --libs tokenward)
#include <cstdlib>
#include <iostream>
#include <tokenward.hpp>

int main() {
    const char *url = std::getenv("TOKENWARD_TOKEN_URL");
    const char *id = std::getenv("TOKENWARD_CLIENT_ID");
    const char *secret = std::getenv("TOKENWARD_CLIENT_SECRET");
    if (!url || !id || !secret) {
        std::cerr << "set TOKENWARD_TOKEN_URL, TOKENWARD_CLIENT_ID, TOKENWARD_CLIENT_SECRET\n";
        return 2;
    }
    try {
        auto client = tokenward::Client::from_token_url(url, tokenward::Options(id).secret(secret));
        std::string header = client.authorization_header(); // cached, renewed before expiry
        std::cout << "Authorization header ready (" << header.size() << " bytes, starts with \""
                  << header.substr(0, 7) << "\")\n";
    } catch (const tokenward::Error &e) {
        std::cerr << "[" << e.name() << "] " << e.what() << "\n";
        if (!e.oauth_error().empty()) std::cerr << "  server said: " << e.oauth_error() << "\n";
        return 1;
    }
    return 0;
}
