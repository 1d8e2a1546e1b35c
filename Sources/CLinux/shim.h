// Linux interfaces the daemon needs that Swift's Glibc module does not export.
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <grp.h>
#include <pthread.h>

// pthread_setname_np is a GNU extension the Glibc module leaves out; the name shows in
// `top -H`, `ps -L` and profilers (at most 15 characters).
int pthread_setname_np(pthread_t thread, const char *name);
static inline int hn_set_thread_name(pthread_t thread, const char *name) {
    return pthread_setname_np(thread, name);
}
