// TempDir: a directory made with mkdtemp under /tmp for one test, removed with everything in
// it when the object dies (also when the test fails). Not shared between threads.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace keel::test {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "keel-test") {
    std::string tmpl = "/tmp/" + std::string(prefix) + "-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace keel::test
