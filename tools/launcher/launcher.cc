// grpc-bypass: runs an unmodified, already-built gRPC program over the kernel bypass, in the
// spirit of Onload's `onload`:
//
//   grpc-bypass [--ip ADDR/PREFIX] [--eal ARGS] [--config FILE] [--dry-run] [--] PROGRAM ARGS...
//
// It gathers the configuration (the system file /etc/grpc-bypass/bypass.conf if it exists and
// no --config is given, then the environment's BYPASS_*, then FILE's "BYPASS_X = value" lines,
// then --ip and --eal), checks it exactly as the library will (one line and exit 2 on a
// bad value), checks that PROGRAM loads the libgrpc the preload library serves (a program with
// its own gRPC core would silently stay on the kernel), then execs PROGRAM with LD_PRELOAD set
// to libgrpc_bypass_preload.so. --dry-run prints the command line instead.
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "transport/grpc/enable.h"

extern char** environ;

// Where the Debian package (tools/package) installs the configuration and the preload library.
#define GRPC_BYPASS_SYSCONF "/etc/grpc-bypass/bypass.conf"
#if defined(__x86_64__)
#define GRPC_BYPASS_MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define GRPC_BYPASS_MULTIARCH "aarch64-linux-gnu"
#else
#error "grpc-bypass: add this architecture's Debian multiarch triplet"
#endif
#define GRPC_BYPASS_LIBDIR "/usr/lib/" GRPC_BYPASS_MULTIARCH "/grpc-bypass"

namespace {

constexpr char kUsage[] =
    "usage: grpc-bypass [--ip ADDR/PREFIX] [--eal ARGS] [--config FILE] [--dry-run] [--no-check]\n"
    "                   [--] PROGRAM [ARGS...]\n"
    "  --ip ADDR/PREFIX  the bypass interface's address (BYPASS_IP)\n"
    "  --eal ARGS        DPDK EAL arguments (BYPASS_EAL)\n"
    "  --config FILE     lines 'BYPASS_NAME = value' ('#' comments); the environment's BYPASS_*\n"
    "                    come first, then FILE, then --ip and --eal. Without --config,\n"
    "                    " GRPC_BYPASS_SYSCONF " is read if it exists, before the environment\n"
    "  --dry-run         print the command that would run, and exit\n"
    "  --no-check        do not check that PROGRAM loads Debian's libgrpc\n"
    "  --preload PATH    the preload library (default: the one built or installed with this\n"
    "                    launcher: " GRPC_BYPASS_LIBDIR "/libgrpc_bypass_preload.so for /usr/bin)\n";

[[noreturn]] void Die(int code, const std::string& line) {
  std::fprintf(stderr, "grpc-bypass: %s\n", line.c_str());
  std::exit(code);
}

struct Args {
  std::optional<std::string> ip, eal, config, preload;
  bool dry_run = false;
  bool check = true;
  std::vector<std::string> program;  // PROGRAM ARGS...
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  int i = 1;
  auto value = [&](const std::string& opt) -> std::string {
    if (i + 1 >= argc) Die(2, opt + " needs a value (try --help)");
    return argv[++i];
  };
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") { ++i; break; }
    if (arg.empty() || arg[0] != '-') break;
    std::string opt = arg, inline_value;
    bool has_inline = false;
    if (size_t eq = arg.find('='); eq != std::string::npos && absl::StartsWith(arg, "--")) {
      opt = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
      has_inline = true;
    }
    auto take = [&]() { return has_inline ? inline_value : value(opt); };
    if (opt == "--ip") a.ip = take();
    else if (opt == "--eal") a.eal = take();
    else if (opt == "--config") a.config = take();
    else if (opt == "--preload") a.preload = take();
    else if (opt == "--dry-run") a.dry_run = true;
    else if (opt == "--no-check") a.check = false;
    else if (opt == "-h" || opt == "--help") { std::fputs(kUsage, stdout); std::exit(0); }
    else Die(2, "unknown option '" + arg + "' (try --help)");
  }
  for (; i < argc; ++i) a.program.push_back(argv[i]);
  if (a.program.empty()) Die(2, "no PROGRAM to run (try --help)");
  return a;
}

bool Known(const std::string& name) {
  for (const std::string& n : grpc_bypass::ConfigVariables()) {
    if (n == name) return true;
  }
  return false;
}

// "BYPASS_NAME = value" lines; '#' starts a comment; a value may be quoted with ' or ".
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadConfig(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot read the config file (", std::strerror(errno), ")"));
  }
  std::vector<std::pair<std::string, std::string>> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    const size_t eq = l.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", n, ": expected 'BYPASS_NAME = value', got '", l, "'"));
    }
    std::string key(absl::StripAsciiWhitespace(l.substr(0, eq)));
    std::string val(absl::StripAsciiWhitespace(l.substr(eq + 1)));
    if (val.size() >= 2 && (val[0] == '"' || val[0] == '\'') && val.back() == val[0]) {
      val = val.substr(1, val.size() - 2);
    }
    if (!Known(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", n, ": '", key, "' is not a grpc-bypass setting (expected one of ",
          absl::StrJoin(grpc_bypass::ConfigVariables(), ", "), ")"));
    }
    out.emplace_back(std::move(key), std::move(val));
  }
  return out;
}

std::string SelfPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  buf[n] = '\0';
  return buf;
}

bool IsFile(const std::string& p) { return !p.empty() && access(p.c_str(), R_OK) == 0; }

std::string RealPath(const std::string& p) {
  char* r = realpath(p.c_str(), nullptr);
  if (r == nullptr) return p;
  std::string out = r;
  free(r);
  return out;
}

// The preload library built with this launcher: next to it in Bazel's runfiles, in bazel-bin,
// in the same directory, or where the package installs it (PREFIX/bin -> PREFIX/lib/TRIPLET/
// grpc-bypass, so /usr/bin/grpc-bypass finds GRPC_BYPASS_LIBDIR with no runfiles).
std::string FindPreload(const Args& a) {
  if (a.preload) {
    if (!IsFile(*a.preload)) Die(2, "--preload " + *a.preload + ": no such file");
    return RealPath(*a.preload);
  }
  if (const char* e = std::getenv("GRPC_BYPASS_PRELOAD"); e != nullptr && *e != '\0') {
    if (!IsFile(e)) Die(2, std::string("GRPC_BYPASS_PRELOAD=") + e + ": no such file");
    return RealPath(e);
  }
  const std::string self = SelfPath();
  const std::string dir = self.substr(0, self.rfind('/'));
  const char* kRel = "grpc_bypass/transport/grpc/libgrpc_bypass_preload.so";
  std::vector<std::string> candidates = {
      self + ".runfiles/" + kRel,
      dir + "/../../transport/grpc/libgrpc_bypass_preload.so",
      dir + "/libgrpc_bypass_preload.so",
      dir + "/../lib/" GRPC_BYPASS_MULTIARCH "/grpc-bypass/libgrpc_bypass_preload.so",
  };
  if (const char* r = std::getenv("RUNFILES_DIR"); r != nullptr) {
    candidates.insert(candidates.begin(), std::string(r) + "/" + kRel);
  }
  for (const std::string& c : candidates) {
    if (IsFile(c)) return RealPath(c);
  }
  Die(2, "cannot find libgrpc_bypass_preload.so next to " + self + " (use --preload PATH)");
}

// PROGRAM as execvp would find it.
std::string Resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  for (absl::string_view d : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string c = absl::StrCat(d.empty() ? "." : d, "/", program);
    if (access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

// The libgrpc this launcher (and so the preload library, built with it) loads: "libgrpc.so.29".
std::string OurLibgrpc() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        absl::string_view name = info->dlpi_name ? info->dlpi_name : "";
        size_t slash = name.rfind('/');
        absl::string_view base = slash == absl::string_view::npos ? name : name.substr(slash + 1);
        if (absl::StartsWith(base, "libgrpc.so.")) *static_cast<std::string*>(out) = std::string(base);
        return 0;
      },
      &found);
  return found;
}

// The ELF interpreter of `path` (empty for a static executable); an error if not ELF.
absl::StatusOr<std::string> Interpreter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof(eh)) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return absl::InvalidArgumentError("not a 64-bit ELF executable");
  }
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(eh.e_phoff + static_cast<uint64_t>(i) * eh.e_phentsize);
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof(ph))) break;
    if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz > 4096) continue;
    std::string interp(ph.p_filesz, '\0');
    in.seekg(ph.p_offset);
    in.read(interp.data(), ph.p_filesz);
    return std::string(interp.c_str());
  }
  return std::string();
}

// The shared libraries `program` loads, as the dynamic loader lists them (`ld.so --list`, what
// ldd does; the program itself does not run).
std::string LoaderList(const std::string& interp, const std::string& program) {
  int fds[2];
  if (pipe(fds) != 0) return "";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(interp.c_str(), interp.c_str(), "--list", program.c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return out;
}

void CheckProgram(const std::string& program, const std::string& path) {
  const std::string ours = OurLibgrpc();
  absl::StatusOr<std::string> interp = Interpreter(path);
  if (!interp.ok()) {
    Die(2, absl::StrCat(program, ": ", interp.status().message(),
                        "; only programs that load ", ours, " can be put on the bypass "
                        "(--no-check runs it anyway)"));
  }
  if (interp->empty()) {
    Die(2, absl::StrCat(program, ": statically linked; only programs that load ", ours,
                        " (Debian's gRPC) can be put on the bypass by preloading"));
  }
  const std::string libs = LoaderList(*interp, path);
  if (ours.empty() || !absl::StrContains(libs, ours + " => ")) {
    Die(2, absl::StrCat(program, " does not load ", ours.empty() ? "libgrpc" : ours,
                        " (Debian's gRPC, the version the preload library serves): it would stay "
                        "on the kernel. Programs with a gRPC of their own (python grpcio, grpc-js, "
                        "static builds) cannot be put on the bypass by preloading"));
  }
}

std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-./=:,+@%") == std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int main(int argc, char** argv) {
  Args a = ParseArgs(argc, argv);

  // Configuration: the system file (when no --config), the environment, --config, the flags.
  std::map<std::string, std::string> set;
  if (!a.config && access(GRPC_BYPASS_SYSCONF, F_OK) == 0) {
    auto lines = ReadConfig(GRPC_BYPASS_SYSCONF);
    if (!lines.ok()) Die(2, std::string(lines.status().message()));
    for (auto& [k, v] : *lines) set[k] = v;
  }
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view kv = *e;
    if (!absl::StartsWith(kv, "BYPASS_")) continue;
    const std::string key(kv.substr(0, kv.find('=')));
    if (!Known(key)) {
      std::fprintf(stderr, "grpc-bypass: warning: %s in the environment is not a grpc-bypass "
                   "setting (ignored)\n", key.c_str());
      continue;
    }
    set[key] = std::string(kv.substr(key.size() + 1));
  }
  if (a.config) {
    auto lines = ReadConfig(*a.config);
    if (!lines.ok()) Die(2, std::string(lines.status().message()));
    for (auto& [k, v] : *lines) set[k] = v;
  }
  if (a.ip) set["BYPASS_IP"] = *a.ip;
  if (a.eal) set["BYPASS_EAL"] = *a.eal;
  for (const auto& [k, v] : set) setenv(k.c_str(), v.c_str(), 1);

  // The same check the preload library makes at start-up, before anything runs.
  absl::StatusOr<grpc_bypass::Options> options = grpc_bypass::OptionsFromEnvironment();
  if (!options.ok()) Die(2, std::string(options.status().message()));

  const std::string path = Resolve(a.program[0]);
  if (path.empty() || access(path.c_str(), X_OK) != 0) {
    Die(127, a.program[0] + ": no such program");
  }
  if (a.check) CheckProgram(a.program[0], path);

  std::string preload = FindPreload(a);
  if (const char* old = std::getenv("LD_PRELOAD"); old != nullptr && *old != '\0') {
    preload = absl::StrCat(preload, ":", old);
  }
  if (a.dry_run) {
    std::string line = "LD_PRELOAD=" + ShellQuote(preload);
    for (const auto& [k, v] : set) absl::StrAppend(&line, " ", k, "=", ShellQuote(v));
    for (const std::string& p : a.program) absl::StrAppend(&line, " ", ShellQuote(p));
    std::printf("%s\n", line.c_str());
    return 0;
  }
  setenv("LD_PRELOAD", preload.c_str(), 1);
  std::vector<char*> args;
  for (std::string& p : a.program) args.push_back(p.data());
  args.push_back(nullptr);
  execv(path.c_str(), args.data());
  Die(126, a.program[0] + ": " + std::strerror(errno));
}
