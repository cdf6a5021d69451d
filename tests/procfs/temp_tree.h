// A throw-away directory tree for tests that need files the fixtures cannot hold (huge, or with
// modes git does not keep). Removed with everything in it when the object goes.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace procevents::test {

class TempTree {
 public:
  TempTree() {
    std::string pattern = (std::filesystem::temp_directory_path() / "procevents-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) root_ = pattern;
    // Tests may read it as "nobody".
    if (!root_.empty()) ::chmod(root_.c_str(), 0755);
  }
  ~TempTree() {
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }

  /// Writes `bytes` to root/relative (parents created) with the given mode; false on failure.
  bool write(const std::string& relative, std::string_view bytes, mode_t mode = 0644) const {
    const std::filesystem::path path = std::filesystem::path(root_) / relative;
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    return out.good() && ::chmod(path.c_str(), mode) == 0;
  }

 private:
  std::string root_;
};

}  // namespace procevents::test
