// Small POSIX file-system helpers. semsec avoids std::filesystem: libtorch_cpu.so exports its
// own copies of std::filesystem symbols (from an older libstdc++), which interpose on ours at
// run time and have been seen to crash (remove_all).
#pragma once

#include <string>
#include <vector>

namespace semsec::fs {

bool exists(const std::string& path);
bool is_directory(const std::string& path);
bool is_file(const std::string& path);
// mkdir -p; returns an error message, empty on success.
std::string create_directories(const std::string& path);
std::string join(const std::string& a, const std::string& b);
std::string parent(const std::string& path);  // "" when there is none
std::string basename(const std::string& path);
std::vector<std::string> list_dir(const std::string& dir);  // names, sorted; empty if unreadable
void remove_all(const std::string& path);                   // best effort

}  // namespace semsec::fs
