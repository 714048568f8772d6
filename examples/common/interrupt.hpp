// Ctrl-C for training programs: the first SIGINT or SIGTERM only sets a flag, so the training loop
// finishes its step, writes a checkpoint and exits cleanly; a second one aborts at once.
#pragma once

// Usage: keep one InterruptGuard alive around the loop and poll interrupted() once per step.
//
//   InterruptGuard guard("train_srn");     // installs the handlers, restores the old ones on exit
//   while (!interrupted()) { ...step...; }
//
// The handler does only async-signal-safe things (an atomic flag, write(2)); on the second signal
// it restores the default action and re-raises, so the process dies as an un-handled Ctrl-C would
// (exit status 130 in a shell). Aborting mid-checkpoint is safe: checkpoints are written to a
// temporary file and renamed, so the previous one stays intact.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

namespace crisp::examples {

namespace detail {
inline std::atomic<int>& interrupt_count() {
  static std::atomic<int> n{0};
  return n;
}
inline char* interrupt_message() {  // fixed buffer: the handler must not allocate
  static char msg[256] = "\ninterrupted: finishing this step and writing a checkpoint (again to abort)\n";
  return msg;
}
extern "C" inline void on_interrupt(int sig) {
  if (interrupt_count().fetch_add(1) >= 1) {
    ::signal(sig, SIG_DFL);
    ::raise(sig);
    return;
  }
  const char* m = interrupt_message();
  [[maybe_unused]] const ssize_t w = ::write(STDERR_FILENO, m, std::strlen(m));
}
}  // namespace detail

// True once SIGINT or SIGTERM has arrived while an InterruptGuard was alive.
inline bool interrupted() { return detail::interrupt_count().load() > 0; }

// For tests: forget an earlier interrupt.
inline void clear_interrupt() { detail::interrupt_count().store(0); }

class InterruptGuard {
 public:
  explicit InterruptGuard(const std::string& program = "") {
    if (!program.empty()) {
      const std::string m = "\n" + program +
                            ": interrupted - finishing this step and writing a checkpoint (Ctrl-C again to abort)\n";
      std::strncpy(detail::interrupt_message(), m.c_str(), 255);
      detail::interrupt_message()[255] = '\0';
    }
    struct sigaction sa {};
    sa.sa_handler = detail::on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // slow system calls (file IO) resume instead of failing with EINTR
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  ~InterruptGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace crisp::examples
